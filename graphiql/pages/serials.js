// Serial number look-up: search by any part of a number (or scan a label), narrow by
// product and status, open one serial to see where it is and everything that happened to it.
import { $, fill, h, notice, params, ready, setParams, show } from "../lib/dom.js";
import { gql } from "../lib/graphql.js";
import { SERIAL_STATUSES, movementLabel, statusBadge, statusLabel, timeOf } from "../lib/labels.js";
import { mountNav } from "../lib/nav.js";
import { scanField } from "../lib/scanner.js";

const PAGE_SIZE = 25;

const PRODUCTS = `query Products { products(first: 100) { nodes { id sku name serialTracked } } }`;

const FIND = `query FindSerials($code: String!, $withScan: Boolean!, $search: String, $match: SerialMatch!,
                            $productId: ID, $statuses: [SerialStatus!], $first: Int!, $after: String) {
  scan(code: $code) @include(if: $withScan) {
    format found message
    product { id sku }
    serials { ...Row }
  }
  serialLookup(search: $search, match: $match, productId: $productId, statuses: $statuses,
               first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ...Row }
  }
}
fragment Row on Serial {
  id serialNumber status product { sku } warehouse { code } location { code }
}`;

const SERIAL = `query SerialHistory($id: ID!) {
  node(id: $id) {
    ... on Serial {
      id serialNumber status receivedAt allowedEvents
      product { sku name }
      warehouse { code name }
      location { code kind }
      receivingLine { lineNumber order { number supplier } }
      movements {
        id kind fromStatus toStatus documentType documentNumber actor occurredAt
        fromLocation { code } toLocation { code }
      }
    }
  }
}`;

const form = $("#search");
const main = $("#main");
let after = null;
// Searches can overlap (a scan while the first page loads); only the newest one may paint.
let latest = 0;

function criteria() {
  return {
    q: $("#q").value.trim(),
    product: $("#product").value,
    status: $("#status").value,
    anywhere: $("#anywhere").checked ? "1" : "",
  };
}

async function search({ more = false } = {}) {
  const mine = ++latest;
  const { q, product, status, anywhere } = criteria();
  const data = await gql(FIND, {
    code: q,
    withScan: q !== "",
    search: q || null,
    match: anywhere ? "CONTAINS" : "PREFIX",
    productId: product || null,
    statuses: status ? [status] : null,
    first: PAGE_SIZE,
    after: more ? after : null,
  });
  if (mine !== latest) return;
  fill($("#message"));
  // The server read the text as GS1 data or a GTIN: show what the label names, not serials
  // whose number happens to start with those characters.
  if (data.scan && data.scan.format !== "PLAIN") {
    if (data.scan.serials.length) {
      return showResults(data.scan.serials, { total: data.scan.serials.length, more: false });
    }
    if (data.scan.product) {
      $("#product").value = data.scan.product.id;
      $("#q").value = "";
      fill($("#message"), notice("info", `Scanned product ${data.scan.product.sku}`, "Showing its serials."));
      return search();
    }
    fill($("#message"), notice("warn", "Nothing found for this scan", data.scan.message));
    return showResults([], { total: 0, more: false });
  }
  const page = data.serialLookup;
  after = page.pageInfo.endCursor;
  return showResults(page.nodes, { total: page.totalCount, more: page.pageInfo.hasNextPage, append: more });
}

function showResults(serials, { total, more, append = false }) {
  const list = $("#results");
  if (!append) list.replaceChildren();
  const open = params().serial;
  for (const serial of serials) {
    list.append(
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            "aria-current": serial.id === open ? "true" : false,
            dataset: { id: serial.id },
            onclick: () => openSerial(serial.id).catch(failed),
          },
          h("span", { class: "number" }, serial.serialNumber),
          statusBadge(serial.status),
          h("span", { class: "where" }, `${serial.product.sku} · ${whereIs(serial)}`),
        ),
      ),
    );
  }
  $("#count").textContent = total === 0 ? "No serials match." : `${total} serial${total === 1 ? "" : "s"} found.`;
  show($("#more"), more);
}

function whereIs(serial) {
  if (serial.location) return `${serial.warehouse.code} / ${serial.location.code}`;
  return `${serial.warehouse.code} · ${statusLabel(serial.status).toLowerCase()}, no location`;
}

function closeSerial() {
  setParams(criteria());
  showSerial(null).catch(failed);
  $("#q").focus();
}

function openSerial(id) {
  setParams({ ...criteria(), serial: id });
  return showSerial(id);
}

async function showSerial(id) {
  const detail = $("#detail");
  for (const button of document.querySelectorAll("#results button")) {
    button.setAttribute("aria-current", String(button.dataset.id === id));
  }
  if (!id) {
    show(detail, false);
    main.dataset.view = "list";
    return;
  }
  const { node: serial } = await gql(SERIAL, { id });
  main.dataset.view = "detail";
  const asn = serial.receivingLine
    ? `${serial.receivingLine.order.number}, line ${serial.receivingLine.lineNumber}`
    : "–";
  fill(
    detail,
    h("button", { type: "button", class: "quiet back", onclick: closeSerial }, "← Back to results"),
    h("h2", { id: "detail-title", class: "mono" }, serial.serialNumber),
    statusBadge(serial.status),
    h(
      "dl",
      { class: "facts" },
      fact("Product", `${serial.product.sku} — ${serial.product.name}`),
      fact("Warehouse", `${serial.warehouse.code} — ${serial.warehouse.name}`),
      fact("Location", serial.location ? `${serial.location.code} (${serial.location.kind.toLowerCase()})` : "None (not in the building)"),
      fact("Received", serial.receivedAt ? timeOf(serial.receivedAt) : "Not yet"),
      fact("ASN", asn),
      fact("Can next be", serial.allowedEvents.length ? serial.allowedEvents.join(", ").toLowerCase() : "nothing: final"),
    ),
    h("h3", {}, "History, newest first"),
    h("ol", { class: "timeline", "aria-label": `History of ${serial.serialNumber}` }, [...serial.movements].reverse().map(movementItem)),
  );
  show(detail);
  detail.querySelector("h2").setAttribute("tabindex", "-1");
  detail.querySelector("h2").focus({ preventScroll: false });
}

function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, value)];
}

function movementItem(movement) {
  const statuses = movement.toStatus
    ? `${movement.fromStatus ? statusLabel(movement.fromStatus) : "new"} → ${statusLabel(movement.toStatus)}`
    : null;
  const from = movement.fromLocation?.code;
  const to = movement.toLocation?.code;
  const places = from || to ? `${from ?? "–"} → ${to ?? "–"}` : null;
  return h(
    "li",
    {},
    h("div", { class: "kind" }, movementLabel(movement.kind)),
    timeOf(movement.occurredAt),
    h("div", { class: "detail" }, [statuses, places].filter(Boolean).join(" · ")),
    h("div", { class: "detail" }, `${movement.documentType} ${movement.documentNumber} · by ${movement.actor}`),
  );
}

async function restore({ first = false } = {}) {
  const state = params();
  // On first load keep whatever was scanned into the field while the page was starting.
  if (!first || state.q !== undefined) $("#q").value = state.q ?? "";
  $("#product").value = state.product ?? "";
  $("#status").value = state.status ?? "";
  $("#anywhere").checked = state.anywhere === "1";
  await search();
  await showSerial(state.serial);
}

async function start() {
  mountNav();
  // Before the first await: a label scanned while the page starts keeps its GS separators.
  scanField($("#q"));
  const { products } = await gql(PRODUCTS);
  $("#product").append(
    ...products.nodes.filter((p) => p.serialTracked).map((p) => h("option", { value: p.id }, `${p.sku} — ${p.name}`)),
  );
  $("#status").append(...SERIAL_STATUSES.map((s) => h("option", { value: s }, statusLabel(s))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setParams(criteria());
    Promise.all([search(), showSerial(null)]).catch(failed);
    // A scanner types after whatever is in the field: select it so the next scan replaces it.
    $("#q").select();
  });
  for (const filter of ["#product", "#status", "#anywhere"]) {
    $(filter).addEventListener("change", () => form.requestSubmit());
  }
  $("#more").addEventListener("click", () => search({ more: true }).catch(failed));
  window.addEventListener("popstate", () => restore().catch(failed));
  await restore({ first: true });
  $("#q").focus();
  ready();
}

function failed(error) {
  fill($("#message"), notice("refused", "The look-up failed", error.message));
}

start().catch(failed);
