// Receiving: choose an ASN, scan its serials one by one, enter its lots (several on one line
// if need be) and untracked quantities, then receive everything in one call. Scans go to the
// server as they came (it reads GS1 labels itself); the `scan` query only tells this page
// which line a scan belongs to and what to show. The server checks the whole receipt, and
// whatever it refuses is shown at the field it names.
import { $, fill, h, notice, params, ready, setParams, show } from "../lib/dom.js";
import { gql } from "../lib/graphql.js";
import { mountNav } from "../lib/nav.js";
import { readScan, scanStation } from "../lib/scanner.js";

const OPEN_ASNS = `query OpenAsns {
  receivingOrders(first: 100, statuses: [PLANNED, RECEIVING]) {
    nodes { number supplier status warehouse { code } lines { expectedQuantity receivedQuantity } }
  }
}`;

const ASN = `query Asn($number: String!) {
  receivingOrder(number: $number) {
    number supplier status warehouse { code name }
    lines {
      lineNumber status expectedQuantity receivedQuantity remainingQuantity
      product { id sku name tracking }
      serials { serialNumber status }
    }
  }
}`;

const RECEIVE = `mutation Receive($input: ReceiveItemsInput!) {
  receiveItems(input: $input) {
    receivingOrder { number status }
    putawayTasks { id quantity product { sku } lot { lotNumber } serials { serialNumber } fromLocation { code } }
    userErrors { field code message }
  }
}`;

const OPEN_LINE = new Set(["PLANNED", "RECEIVING"]);

let asn = null;
// Per serial line: what was scanned so far, in scan order: [{number, raw}].
const scanned = new Map();

const message = (...content) => fill($("#message"), ...content);

// ------------------------------------------------------------------ choosing an ASN

async function listAsns() {
  const { receivingOrders } = await gql(OPEN_ASNS);
  const list = $("#asns");
  fill(
    list,
    receivingOrders.nodes.map((order) => {
      const expected = order.lines.reduce((sum, line) => sum + line.expectedQuantity, 0);
      const received = order.lines.reduce((sum, line) => sum + line.receivedQuantity, 0);
      return h(
        "li",
        {},
        h(
          "button",
          { type: "button", onclick: () => openAsn(order.number).catch(failed) },
          h("span", { class: "number" }, order.number),
          h("span", {}, order.status === "PLANNED" ? "Planned" : "Receiving"),
          h("span", { class: "where" }, `${order.supplier ?? "No supplier"} · ${order.warehouse.code} · ${order.lines.length} lines · ${received} of ${expected} received`),
        ),
      );
    }),
  );
  if (!receivingOrders.nodes.length) list.append(h("li", {}, "No ASN is waiting to be received."));
}

async function openAsn(number, { push = true } = {}) {
  const { receivingOrder } = await gql(ASN, { number });
  if (!receivingOrder) {
    message(notice("refused", `No ASN ${number}`, "Check the number, or choose from the list."));
    return;
  }
  asn = receivingOrder;
  scanned.clear();
  if (push) setParams({ asn: asn.number });
  renderAsn();
}

function closeAsn() {
  asn = null;
  setParams({});
  show($("#receipt"), false);
  show($("#choose"));
  $("#scan-label").textContent = "Scan or type an ASN number";
  message();
  listAsns().catch(failed);
}

// ------------------------------------------------------------------ the receipt form

function renderAsn() {
  show($("#choose"), false);
  show($("#receipt"));
  $("#scan-label").textContent = "Scan a serial or lot label";
  $("#asn-title").textContent = asn.number;
  $("#asn-facts").textContent = `${asn.supplier ?? "No supplier"} · warehouse ${asn.warehouse.code} · ${asn.status.toLowerCase()}`;
  fill($("#summary"));
  fill($("#lines"), asn.lines.map(renderLine));
  asn.lines.forEach(countLine);
}

function renderLine(line) {
  const id = `line-${line.lineNumber}`;
  const tracking = { SERIAL: "serial-tracked", LOT: "lot-tracked", NONE: "untracked" }[line.product.tracking];
  const open = OPEN_LINE.has(line.status) && line.remainingQuantity > 0;
  return h(
    "section",
    { class: "card line", id, dataset: { line: line.lineNumber }, "aria-labelledby": `${id}-title` },
    h("h3", { id: `${id}-title`, tabindex: "-1" }, `Line ${line.lineNumber} · ${line.product.sku}`),
    h("p", { class: "hint" }, `${line.product.name} · ${tracking} · ${line.receivedQuantity} of ${line.expectedQuantity} received`),
    open ? lineEntry(line, id) : h("p", { class: "counter", "data-state": "done" }, `✔ Nothing more to receive (${line.status.toLowerCase()})`),
    h("div", { class: "line-errors", id: `${id}-error`, hidden: true }),
  );
}

function lineEntry(line, id) {
  if (line.product.tracking === "SERIAL") {
    scanned.set(line.lineNumber, []);
    return [
      h("p", { class: "counter", id: `${id}-count`, "aria-live": "polite" }),
      h("ul", { class: "chips", id: `${id}-serials`, "aria-label": `Serials of line ${line.lineNumber}` }),
    ];
  }
  if (line.product.tracking === "LOT") {
    return [
      h(
        "fieldset",
        {},
        h("legend", {}, "Lots"),
        h("div", { class: "lot-rows", id: `${id}-lots` }, lotRow(line)),
        h("button", { type: "button", class: "add-lot", onclick: () => addLot(line) }, "+ Add Another Lot"),
      ),
      h("p", { class: "counter", id: `${id}-count`, "aria-live": "polite" }),
    ];
  }
  return h(
    "div",
    { class: "field" },
    h("label", { for: `${id}-quantity` }, `Quantity received (${line.remainingQuantity} expected)`),
    h("input", { id: `${id}-quantity`, type: "number", inputmode: "numeric", min: "1", name: "quantity" }),
  );
}

let lotRows = 0;

function lotRow(line) {
  const id = `line-${line.lineNumber}-lot-${lotRows++}`;
  const input = (name, label, props) =>
    h("div", { class: `field ${name === "lotNumber" ? "lot-number" : ""}` },
      h("label", { for: `${id}-${name}` }, label),
      h("input", { id: `${id}-${name}`, name, oninput: () => countLine(line), ...props }),
    );
  const row = h(
    "div",
    { class: "lot-row", id },
    input("lotNumber", "Lot number", { autocomplete: "off", spellcheck: "false", autocapitalize: "characters" }),
    input("quantity", "Quantity", { type: "number", inputmode: "numeric", min: "1" }),
    input("expiryDate", "Expiry date (optional)", { type: "date" }),
    h("button", { type: "button", class: "danger remove", onclick: () => removeLot(line, row) }, "Remove lot"),
  );
  return row;
}

function addLot(line) {
  const row = lotRow(line);
  $(`#line-${line.lineNumber}-lots`).append(row);
  countLine(line);
  row.querySelector("input").focus();
  return row;
}

function removeLot(line, row) {
  row.remove();
  if (!$(`#line-${line.lineNumber}-lots`).children.length) addLot(line);
  countLine(line);
}

/** The running count of one line against what it still expects. */
function countLine(line) {
  const counter = $(`#line-${line.lineNumber}-count`);
  if (!counter) return;
  const expected = line.remainingQuantity;
  let done;
  if (line.product.tracking === "SERIAL") {
    done = scanned.get(line.lineNumber).length;
    renderChips(line);
  } else {
    done = lotEntries(line).reduce((sum, lot) => sum + (lot.quantity || 0), 0);
  }
  const state = done === expected ? "done" : done > expected ? "over" : "short";
  const what = line.product.tracking === "SERIAL" ? "scanned" : "in lots";
  const tail = { done: " ✔ all there", over: ` — ${done - expected} too many`, short: ` — ${expected - done} to go` }[state];
  counter.dataset.state = state;
  counter.textContent = `${done} of ${expected} ${what}${tail}`;
}

function renderChips(line) {
  const numbers = scanned.get(line.lineNumber).map((entry) => entry.number);
  const expected = line.serials.filter((s) => s.status === "EXPECTED").map((s) => s.serialNumber);
  const listed = new Set(expected);
  const chip = (number) => {
    if (!numbers.includes(number)) {
      return h("li", { "data-state": "waiting" }, h("span", { "aria-hidden": "true" }, "○"), number, h("span", { class: "visually-hidden" }, " not scanned yet"));
    }
    const unexpected = listed.size > 0 && !listed.has(number);
    return h(
      "li",
      { "data-state": unexpected ? "unexpected" : "scanned", "data-number": number },
      h("span", { "aria-hidden": "true" }, unexpected ? "⚠" : "✔"),
      number,
      unexpected ? h("span", { class: "visually-hidden" }, " not on this ASN") : h("span", { class: "visually-hidden" }, " scanned"),
      h("button", { type: "button", "aria-label": `Remove ${number}`, onclick: () => unscan(line, number) }, "✕"),
    );
  };
  fill($(`#line-${line.lineNumber}-serials`), [...expected, ...numbers.filter((n) => !listed.has(n))].map(chip));
}

function unscan(line, number) {
  scanned.set(line.lineNumber, scanned.get(line.lineNumber).filter((entry) => entry.number !== number));
  countLine(line);
}

function lotEntries(line) {
  return [...document.querySelectorAll(`#line-${line.lineNumber}-lots .lot-row`)].map((row) => {
    const lotNumber = row.querySelector("[name=lotNumber]").value.trim();
    return {
      row,
      lotNumber,
      sent: row.dataset.raw && lotNumber === row.dataset.scanned ? row.dataset.raw : lotNumber,
      quantity: Number.parseInt(row.querySelector("[name=quantity]").value, 10) || 0,
      expiryDate: row.querySelector("[name=expiryDate]").value || null,
    };
  });
}

// ------------------------------------------------------------------ scanning

async function onScan(raw) {
  if (!asn) {
    await openAsn(raw.trim());
    return;
  }
  const read = await readScan(raw);
  const openLines = asn.lines.filter((line) => scanned.has(line.lineNumber) || $(`#line-${line.lineNumber}-lots`));
  const serialLines = openLines.filter((line) => line.product.tracking === "SERIAL");
  const lotLines = openLines.filter((line) => line.product.tracking === "LOT");
  const gs1Lot = read.format !== "PLAIN" && read.lotNumber && !read.serialNumber;
  if (gs1Lot || (read.format === "PLAIN" && !serialLines.length && lotLines.length)) {
    scanLot(raw, read, lotLines);
  } else {
    scanSerial(raw, read, serialLines);
  }
}

function productOf(read) {
  return read.product?.id ?? read.serials[0]?.product.id ?? read.lots[0]?.product.id ?? null;
}

function scanSerial(raw, read, lines) {
  const number = read.serialNumber;
  if (!number) {
    message(notice("warn", "No serial number in this scan", read.message));
    return;
  }
  for (const [lineNumber, entries] of scanned) {
    if (entries.some((entry) => entry.number === number)) {
      message(notice("warn", `${number} is already scanned`, `It is on line ${lineNumber}.`));
      return;
    }
  }
  const product = productOf(read);
  const line =
    lines.find((l) => l.serials.some((s) => s.serialNumber === number && s.status === "EXPECTED")) ??
    lines.find((l) => l.product.id === product) ??
    (product ? null : lines.find((l) => scanned.get(l.lineNumber).length < l.remainingQuantity) ?? lines[0]);
  if (!line) {
    message(notice("refused", `No line of ${asn.number} takes ${number}`, read.message));
    return;
  }
  scanned.get(line.lineNumber).push({ number, raw });
  countLine(line);
  const listed = line.serials.some((s) => s.serialNumber === number);
  const count = `${scanned.get(line.lineNumber).length} of ${line.remainingQuantity}`;
  message(
    listed || !line.serials.length
      ? notice("ok", `${number} → line ${line.lineNumber}`, `${count} scanned.`)
      : notice("warn", `${number} is not on this ASN`, `Added to line ${line.lineNumber} (${count}); the receipt will be refused unless it is removed.`),
  );
}

function scanLot(raw, read, lines) {
  const product = productOf(read);
  const line = lines.find((l) => l.product.id === product) ?? (lines.length === 1 ? lines[0] : null);
  if (!line) {
    message(notice("refused", `No lot line of ${asn.number} for this scan`, read.message));
    return;
  }
  const entries = lotEntries(line);
  const same = entries.find((entry) => entry.lotNumber.toLowerCase() === read.lotNumber.toLowerCase());
  const row = same?.row ?? entries.find((entry) => !entry.lotNumber)?.row ?? addLot(line);
  row.querySelector("[name=lotNumber]").value = same?.lotNumber ?? read.lotNumber;
  if (read.expiryDate) row.querySelector("[name=expiryDate]").value = read.expiryDate;
  // The label itself is what is sent, unless the operator changes the number shown.
  row.dataset.raw = raw;
  row.dataset.scanned = row.querySelector("[name=lotNumber]").value;
  countLine(line);
  message(notice("info", `Lot ${read.lotNumber} → line ${line.lineNumber}`, "Enter the quantity, then scan the next label."));
  row.querySelector("[name=quantity]").focus();
}

/** Enter in the receipt's fields never sends the receipt (a scanner's Enter landing in the
 * wrong field must not receive half an ASN): from a lot number it moves on to the
 * quantity, from anything else back to the scanner. */
function enterMovesOn(event) {
  if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
  event.preventDefault();
  const next = event.target.name === "lotNumber" ? event.target.closest(".lot-row").querySelector("[name=quantity]") : null;
  (next ?? $("#scan-input")).focus();
}

// ------------------------------------------------------------------ receiving

function receiptInput() {
  // Each entry remembers the elements it came from, so an error's `field` path
  // (lines.<i>.lots.<j>.expiryDate) leads back to the input on screen.
  const lines = [];
  for (const line of asn.lines) {
    const section = $(`#line-${line.lineNumber}`);
    if (scanned.has(line.lineNumber)) {
      const entries = scanned.get(line.lineNumber);
      if (entries.length) {
        lines.push({
          line,
          section,
          serials: entries.map((entry) => entry.number),
          input: { lineNumber: line.lineNumber, serialNumbers: entries.map((entry) => entry.raw) },
        });
      }
    } else if ($(`#line-${line.lineNumber}-lots`)) {
      const lots = lotEntries(line).filter((lot) => lot.lotNumber || lot.quantity || lot.expiryDate);
      if (lots.length) {
        lines.push({
          line,
          section,
          rows: lots.map((lot) => lot.row),
          input: {
            lineNumber: line.lineNumber,
            lots: lots.map(({ sent, quantity, expiryDate }) => ({ lotNumber: sent, quantity, expiryDate })),
          },
        });
      }
    } else {
      const field = $(`#line-${line.lineNumber}-quantity`);
      if (field?.value) {
        lines.push({ line, section, input: { lineNumber: line.lineNumber, quantity: Number.parseInt(field.value, 10) } });
      }
    }
  }
  return lines;
}

async function receive(event) {
  event.preventDefault();
  message();
  clearErrors();
  const lines = receiptInput();
  if (!lines.length) {
    message(notice("warn", "Nothing to receive yet", "Scan serials, enter lots or quantities first."));
    return;
  }
  $("#submit").disabled = true;
  try {
    const { receiveItems: answer } = await gql(RECEIVE, {
      input: { orderNumber: asn.number, lines: lines.map((line) => line.input) },
    });
    if (answer.userErrors.length) {
      showErrors(answer.userErrors, lines);
      return;
    }
    const tasks = answer.putawayTasks;
    const number = asn.number;
    await openAsn(number, { push: false });
    message(
      notice(
        "ok",
        `Received on ${number}: it is now ${answer.receivingOrder.status.toLowerCase()}`,
        `${tasks.length} putaway task${tasks.length === 1 ? "" : "s"} created:`,
        h("ul", {}, tasks.map((task) => h("li", {}, `${task.quantity} × ${task.product.sku}${task.lot ? ` lot ${task.lot.lotNumber}` : ""} from ${task.fromLocation.code}`))),
      ),
    );
  } finally {
    $("#submit").disabled = false;
  }
}

function clearErrors() {
  fill($("#summary"));
  for (const field of document.querySelectorAll("#lines [aria-invalid]")) {
    field.removeAttribute("aria-invalid");
    field.removeAttribute("aria-describedby");
  }
  for (const note of document.querySelectorAll("#lines .field-error")) note.remove();
  for (const notes of document.querySelectorAll("#lines .line-errors")) notes.hidden = true;
  asn.lines.forEach(countLine); // redraws the serial chips without their refusals
}

/** Put each userError next to what it is about: a lot's field, or the line. */
function showErrors(errors, lines) {
  const links = errors.map((error) => {
    const target = placeError(error, lines);
    const text = `${error.message} (${error.code})`;
    return h("li", {}, target ? h("button", { type: "button", class: "link-button", onclick: () => target.focus() }, text) : text);
  });
  fill(
    $("#summary"),
    notice("refused", "Nothing was received", `${errors.length} problem${errors.length === 1 ? "" : "s"} to fix:`, h("ul", {}, links)),
  );
  $("#summary .notice").scrollIntoView({ block: "start" });
}

function placeError(error, lines) {
  const [, index, rest] = /^lines\.(\d+)\.?(.*)$/.exec(error.field ?? "") ?? [];
  const entry = index === undefined ? null : lines[Number(index)];
  if (!entry) return null;
  const lineError = $(`#line-${entry.line.lineNumber}-error`);
  const [, row, name] = /^lots\.(\d+)\.(\w+)$/.exec(rest) ?? [];
  const field = row === undefined ? null : entry.rows?.[Number(row)]?.querySelector(`[name=${name}]`);
  const [, serial] = /^serialNumbers\.(\d+)$/.exec(rest) ?? [];
  const number = serial === undefined ? null : entry.serials?.[Number(serial)];
  if (number) {
    const chip = [...entry.section.querySelectorAll(".chips li")].find((li) => li.dataset.number === number);
    chip.dataset.state = "refused";
    chip.querySelector("[aria-hidden]").textContent = "✖";
    noteOnLine(lineError, `${number}: ${error.message}`);
    return chip.querySelector("button");
  }
  if (field) {
    const note = h("p", { class: "field-error", id: `${field.id}-error` }, error.message);
    field.after(note);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", note.id);
    return field;
  }
  noteOnLine(lineError, error.message);
  return $(`#line-${entry.line.lineNumber}-title`);
}

function noteOnLine(notes, text) {
  notes.hidden = false;
  notes.append(h("p", { class: "field-error" }, text));
}

// ------------------------------------------------------------------ start

function failed(error) {
  message(notice("refused", "Something went wrong", error.message));
}

async function start() {
  mountNav();
  scanStation($("#scan"), $("#scan-input"), (raw) => onScan(raw).catch(failed));
  $("#receipt").addEventListener("submit", (event) => receive(event).catch(failed));
  $("#receipt").addEventListener("keydown", enterMovesOn);
  $("#change").addEventListener("click", closeAsn);
  window.addEventListener("popstate", () => (params().asn ? openAsn(params().asn, { push: false }) : Promise.resolve(closeAsn())).catch(failed));
  if (params().asn) await openAsn(params().asn, { push: false });
  else await listAsns();
  ready();
}

start().catch(failed);
