// Lots: on-hand lot stock in the order it will be used (first to expire first), the lots
// that have expired or soon will, and for any lot the recall view — where what is left of
// it is and which orders and shipments took the rest.
import { $, dataTable, fill, h, notice, params, ready, setParams, show } from "../lib/dom.js";
import { gql } from "../lib/graphql.js";
import { expiryBadge, statusBadge, timeOf } from "../lib/labels.js";
import { mountNav } from "../lib/nav.js";

const LOTS = `query Lots($days: Int!) {
  expiringLots(days: $days) {
    sku productName warehouseCode lotNumber expiryDate daysToExpiry expired
    quantity availableQuantity locationCodes onHold holdReason
  }
  lotInventory {
    sku productName warehouseCode locationCode lotNumber expiryDate daysToExpiry expired
    quantity allocatedQuantity availableQuantity onHold holdReason
  }
}`;

const RECALL = `query Recall($lots: [LotRefInput!]) {
  recall(lots: $lots) {
    lotNumber sku productName expiryDate onHold holdReason onHand allocatedQuantity shippedQuantity
    stock { warehouseCode locationCode locationKind quantity allocatedQuantity }
    orders {
      orderNumber customerReference status allocatedQuantity pickedQuantity shippedQuantity
      shipments { carrier trackingNumber status dispatchedAt quantity }
    }
  }
}`;

const days = () => Number($("#days").value);
const message = (...content) => fill($("#message"), ...content);

function holdBadge(lot) {
  return lot.onHold
    ? h("span", { class: "badge hold", title: lot.holdReason ?? "" }, h("span", { "aria-hidden": "true" }, "⚑"), " On hold")
    : "–";
}

function recallButton(lot) {
  return h(
    "button",
    { type: "button", "aria-label": `Recall view of lot ${lot.lotNumber} (${lot.sku})`, onclick: () => openRecall(lot.sku, lot.lotNumber).catch(failed) },
    "Recall view",
  );
}

const lotColumns = [
  { label: "Lot", cell: (lot) => h("strong", { class: "mono" }, lot.lotNumber) },
  { label: "Product", cell: (lot) => lot.sku },
  { label: "Expiry", cell: (lot) => [lot.expiryDate ?? "–", " ", expiryBadge(lot.daysToExpiry, lot.expired, days())] },
];

function expiringTable(lots, emptyText) {
  if (!lots.length) return h("p", { class: "hint" }, emptyText);
  return dataTable({
    rows: lots,
    rowProps: (lot) => ({ "data-expiry": lot.expired ? "expired" : "soon" }),
    columns: [
      ...lotColumns,
      { label: "On hand", numeric: true, cell: (lot) => lot.quantity },
      { label: "Available", numeric: true, cell: (lot) => lot.availableQuantity },
      { label: "Where", cell: (lot) => `${lot.warehouseCode}: ${lot.locationCodes.join(", ")}` },
      { label: "Hold", cell: holdBadge },
      { label: "Recall", cell: recallButton },
    ],
  });
}

async function load() {
  const within = days();
  $("#csv-expiring").href = `/reports/expiring-lots.csv?days=${within}`;
  $("#soon-title").lastChild.textContent = ` Expiring within ${within} days`;
  const data = await gql(LOTS, { days: within });
  const expired = data.expiringLots.filter((lot) => lot.expired);
  const soon = data.expiringLots.filter((lot) => !lot.expired);
  fill($("#expired"), expiringTable(expired, "No expired lot is on hand."));
  fill($("#soon"), expiringTable(soon, `No lot expires within ${within} days.`));
  fill(
    $("#stock"),
    data.lotInventory.length
      ? dataTable({
          rows: data.lotInventory,
          rowProps: (lot) => ({ "data-expiry": lot.expired ? "expired" : lot.daysToExpiry !== null && lot.daysToExpiry <= within ? "soon" : "fine" }),
          columns: [
            ...lotColumns,
            { label: "Location", cell: (lot) => `${lot.warehouseCode} / ${lot.locationCode}` },
            { label: "On hand", numeric: true, cell: (lot) => lot.quantity },
            { label: "Allocated", numeric: true, cell: (lot) => lot.allocatedQuantity },
            { label: "Available", numeric: true, cell: (lot) => lot.availableQuantity },
            { label: "Hold", cell: holdBadge },
            { label: "Recall", cell: recallButton },
          ],
        })
      : h("p", { class: "hint" }, "No lot stock on hand."),
  );
}

// ------------------------------------------------------------------ recall view

async function openRecall(sku, lotNumber, { push = true } = {}) {
  const { recall } = await gql(RECALL, { lots: [{ sku, lotNumber }] });
  const [lot] = recall;
  if (push) setParams({ days: days(), sku, lot: lotNumber });
  const section = $("#recall");
  fill(
    section,
    h("h2", { id: "recall-title", tabindex: "-1" }, "Recall view: lot ", h("span", { class: "mono" }, lot.lotNumber), ` (${lot.sku})`),
    lot.onHold
      ? notice("refused", "On hold: never allocated", lot.holdReason ?? "")
      : h("p", {}, h("span", { class: "badge" }, h("span", { "aria-hidden": "true" }, "▶"), " Not on hold: can be allocated")),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Product"), h("dd", {}, `${lot.sku} — ${lot.productName}`),
      h("dt", {}, "Expiry"), h("dd", {}, lot.expiryDate ?? "None"),
      h("dt", {}, "Left on hand"), h("dd", {}, `${lot.onHand} (${lot.allocatedQuantity} reserved)`),
      h("dt", {}, "Shipped"), h("dd", {}, String(lot.shippedQuantity)),
    ),
    h("h3", {}, "Where what is left is"),
    lot.stock.length
      ? dataTable({
          rows: lot.stock,
          columns: [
            { label: "Location", cell: (s) => `${s.warehouseCode} / ${s.locationCode} (${s.locationKind.toLowerCase()})` },
            { label: "On hand", numeric: true, cell: (s) => s.quantity },
            { label: "Reserved", numeric: true, cell: (s) => s.allocatedQuantity },
          ],
        })
      : h("p", { class: "hint" }, "Nothing is left in the building."),
    h("h3", {}, "Orders that took it"),
    lot.orders.length
      ? dataTable({
          rows: lot.orders,
          columns: [
            { label: "Order", cell: (o) => h("strong", { class: "mono" }, o.orderNumber) },
            { label: "Customer", cell: (o) => o.customerReference ?? "–" },
            { label: "Status", cell: (o) => o.status.toLowerCase() },
            { label: "Reserved", numeric: true, cell: (o) => o.allocatedQuantity },
            { label: "Picked", numeric: true, cell: (o) => o.pickedQuantity },
            { label: "Shipped", numeric: true, cell: (o) => o.shippedQuantity },
            {
              label: "Shipments",
              cell: (o) =>
                o.shipments.length
                  ? o.shipments.map((s) => h("div", {}, `${s.quantity} × ${s.carrier ?? "no carrier"} ${s.trackingNumber ?? ""} · `, s.dispatchedAt ? timeOf(s.dispatchedAt) : statusBadge(s.status)))
                  : "–",
            },
          ],
        })
      : h("p", { class: "hint" }, "No order has taken any of it."),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: closeRecall }, "Close recall view")),
  );
  show(section);
  section.querySelector("h2").focus();
}

function closeRecall() {
  setParams({ days: days() });
  show($("#recall"), false);
}

// ------------------------------------------------------------------ start

function failed(error) {
  message(notice("refused", "Something went wrong", error.message));
}

async function restore() {
  const state = params();
  if (state.days) $("#days").value = state.days;
  await load();
  if (state.sku && state.lot) await openRecall(state.sku, state.lot, { push: false });
  else show($("#recall"), false);
}

mountNav();
$("#days").addEventListener("change", () => {
  setParams({ ...params(), days: days() });
  load().catch(failed);
});
$("#window").addEventListener("submit", (event) => event.preventDefault());
window.addEventListener("popstate", () => restore().catch(failed));
restore().then(ready).catch(failed);
