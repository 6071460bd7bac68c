// Scanner input for the floor pages. A handheld in keyboard-wedge mode types the barcode's
// characters and then Enter, as if someone typed very fast, so a scan is one text field and
// one form submit. The field takes the focus back whenever it is left for nothing else, so
// the next scan never goes astray. What was scanned is sent to the API as it came: the
// server reads GS1 data, plain numbers and GTINs (the `scan` query), not this page.
import { gql } from "./graphql.js";

const GROUP_SEPARATOR = "\u001d";

/**
 * Make `input` the field a scanner types into: it keeps the GS separator and takes the
 * focus back whenever the focus falls to nothing. Every floor page's scan field is one,
 * the look-up page's search included, so a label reads the same on any page.
 */
export function scanField(input) {
  // Scanners set to send the GS separator as a key press send Ctrl+] (GS is control
  // character 29, which is "]" with Ctrl); a browser would drop it, so put it in ourselves.
  input.addEventListener("keydown", (event) => {
    if (event.ctrlKey && (event.key === "]" || event.code === "BracketRight")) {
      event.preventDefault();
      input.setRangeText(GROUP_SEPARATOR, input.selectionStart, input.selectionEnd, "end");
    }
  });
  document.addEventListener("focusout", () => {
    // Only when focus fell to nothing (a click on empty page, a button that went away);
    // never away from another field the operator chose.
    setTimeout(() => {
      if (document.activeElement === document.body || document.activeElement === null) {
        input.focus({ preventScroll: true });
      }
    });
  });
}

/**
 * Make `form` (holding `input`) a scan station: each Enter hands the raw value to
 * `onScan(raw)`, one scan at a time and in order, and clears the field.
 */
export function scanStation(form, input, onScan) {
  let queue = Promise.resolve();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const raw = input.value;
    input.value = "";
    if (!raw.trim()) return;
    queue = queue.then(() => onScan(raw)).catch((error) => console.error(error));
  });
  scanField(input);
  input.focus();
  return { refocus: () => input.focus({ preventScroll: true }) };
}

const SCAN = `query Scan($code: String!) {
  scan(code: $code) {
    raw format gtin serialNumber lotNumber expiryDate found message
    error { code message }
    product { id sku name tracking }
    serials { id serialNumber status product { id sku } }
    lots { id lotNumber expiryDate product { id sku } }
  }
}`;

/**
 * What the server read in a scan. For GS1 data `serialNumber` and `lotNumber` are its
 * (21) and (10); a plain scan is just a number, which may be either, so both carry it
 * (as the matching serial or lot spells it, when one matched) and the page decides.
 */
export async function readScan(raw) {
  const { scan } = await gql(SCAN, { code: raw });
  if (scan.format === "PLAIN") {
    const text = raw.trim();
    return {
      ...scan,
      serialNumber: scan.serials[0]?.serialNumber ?? text,
      lotNumber: scan.lots[0]?.lotNumber ?? text,
    };
  }
  return scan;
}
