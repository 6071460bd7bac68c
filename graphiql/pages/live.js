// Live dashboard: serial counts by status, charts of stock by status and of lots by weeks to
// expiry, and a feed of status changes, all kept current by subscriptions over one
// graphql-transport-ws connection.
import { barChart } from "../lib/charts.js";
import { $, fill, h, notice, ready } from "../lib/dom.js";
import { LiveConnection, gql } from "../lib/graphql.js";
import { statusBadge, statusLabel, timeOf } from "../lib/labels.js";
import { mountNav } from "../lib/nav.js";

// RELEASED numbers never arrived; the inventory report leaves them out, and so do we.
const SHOWN = ["EXPECTED", "RECEIVED", "IN_INVENTORY", "ALLOCATED", "PICKED", "SHIPPED"];
const SYMBOLS = { EXPECTED: "○", RECEIVED: "↓", IN_INVENTORY: "■", ALLOCATED: "◆", PICKED: "▲", SHIPPED: "✔" };
const FEED_LENGTH = 100;

const COUNTS = `query SerialCounts { serialInventory { byWarehouse { status count } } }`;
const LOT_STOCK = `query LotStock { lotInventory { sku warehouseCode lotNumber daysToExpiry expired } }`;
const SERIAL_CHANGES = `subscription SerialChanges {
  serialStatusChanged {
    serial { serialNumber product { sku } warehouse { code } location { code } }
    fromStatus toStatus actor occurredAt
    movement { documentType documentNumber }
  }
}`;
const LOT_CHANGES = `subscription LotChanges { lotStockChanged { lot { lotNumber } } }`;

const counts = new Map(SHOWN.map((status) => [status, 0]));

// ------------------------------------------------------------------ serial counts

async function loadCounts() {
  const { serialInventory } = await gql(COUNTS);
  for (const status of SHOWN) counts.set(status, 0);
  for (const row of serialInventory.byWarehouse) {
    if (counts.has(row.status)) counts.set(row.status, counts.get(row.status) + row.count);
  }
  drawCounts();
}

function drawCounts(changed = []) {
  fill(
    $("#tiles"),
    SHOWN.map((status) =>
      h(
        "li",
        { "data-status": status, class: changed.includes(status) ? "changed" : false },
        h("span", { class: "count" }, counts.get(status)),
        h("span", { "aria-hidden": "true" }, `${SYMBOLS[status]} `),
        statusLabel(status),
      ),
    ),
  );
  barChart($("#chart-status"), {
    title: "Stock by serial status",
    bars: SHOWN.map((status) => ({ label: statusLabel(status), value: counts.get(status) })),
  });
}

// ------------------------------------------------------------------ lots by weeks to expiry

const BUCKETS = [
  { label: "Expired", tone: "expired", holds: (lot) => lot.expired },
  { label: "Under 1 week", tone: "soon", holds: (lot) => lot.daysToExpiry < 7 },
  { label: "1–2 weeks", holds: (lot) => lot.daysToExpiry < 14 },
  { label: "2–4 weeks", holds: (lot) => lot.daysToExpiry < 28 },
  { label: "4–8 weeks", holds: (lot) => lot.daysToExpiry < 56 },
  { label: "8 weeks +", tone: "ok", holds: (lot) => lot.daysToExpiry !== null },
  { label: "No expiry", holds: () => true },
];

async function loadLots() {
  const { lotInventory } = await gql(LOT_STOCK);
  // One lot in one warehouse counts once, however many bins it is spread over.
  const lots = new Map(lotInventory.map((row) => [`${row.warehouseCode} ${row.sku} ${row.lotNumber}`, row]));
  const tally = BUCKETS.map(() => 0);
  for (const lot of lots.values()) tally[BUCKETS.findIndex((bucket) => bucket.holds(lot))] += 1;
  barChart($("#chart-expiry"), {
    title: "Lots by weeks to expiry",
    bars: BUCKETS.map((bucket, i) => ({ label: bucket.label, value: tally[i], tone: bucket.tone })),
  });
}

let lotsTimer = null;
function reloadLotsSoon() {
  // A receipt of many lots sends many events at once: draw once when they have arrived.
  clearTimeout(lotsTimer);
  lotsTimer = setTimeout(() => loadLots().catch(failed), 300);
}

// ------------------------------------------------------------------ the feed

function onSerialChange({ data, errors }) {
  if (errors?.length) return failed(new Error(errors.map((e) => e.message).join("; ")));
  const change = data.serialStatusChanged;
  const touched = [change.fromStatus, change.toStatus].filter((status) => counts.has(status));
  if (counts.has(change.fromStatus)) counts.set(change.fromStatus, counts.get(change.fromStatus) - 1);
  if (counts.has(change.toStatus)) counts.set(change.toStatus, counts.get(change.toStatus) + 1);
  drawCounts(touched);
  const { serial, movement } = change;
  const where = serial.location ? `${serial.warehouse.code} / ${serial.location.code}` : serial.warehouse.code;
  const feed = $("#feed");
  feed.prepend(
    h(
      "li",
      {},
      h(
        "div",
        { class: "change" },
        h("span", { class: "serial" }, serial.serialNumber),
        change.fromStatus ? statusBadge(change.fromStatus) : h("span", {}, "new"),
        h("span", { "aria-label": "to" }, "→"),
        statusBadge(change.toStatus),
      ),
      h("div", { class: "detail" }, `${serial.product.sku} · ${where} · ${movement.documentType} ${movement.documentNumber} · by ${change.actor} · `, timeOf(change.occurredAt, { clockOnly: true })),
    ),
  );
  while (feed.children.length > FEED_LENGTH) feed.lastElementChild.remove();
}

// ------------------------------------------------------------------ connection

const STATES = {
  connecting: "○ Connecting…",
  live: "● Live: changes appear as they happen",
  reconnecting: "↻ Connection lost: reconnecting…",
  failed: "✖ Disconnected: reload the page",
  closed: "○ Closed",
};
let wasLive = false;

function onState(state) {
  const line = $("#connection");
  line.dataset.state = state;
  line.textContent = STATES[state];
  if (state === "live") {
    // Changes made while we were away are not replayed: read the present state again.
    if (wasLive) Promise.all([loadCounts(), loadLots()]).catch(failed);
    wasLive = true;
  }
}

function follow(connection, query, next) {
  connection.subscribe(
    { query },
    {
      next,
      // A subscriber that fell too far behind is ended by the server: read afresh, follow again.
      error: (errors) => {
        failed(new Error(errors.map((e) => e.message).join("; ")));
        setTimeout(() => Promise.all([loadCounts(), loadLots()]).then(() => follow(connection, query, next)).catch(failed), 1000);
      },
    },
  );
}

function failed(error) {
  fill($("#message"), notice("refused", "Live updates had a problem", error.message));
}

async function start() {
  mountNav();
  await Promise.all([loadCounts(), loadLots()]);
  const connection = new LiveConnection({ onState });
  follow(connection, SERIAL_CHANGES, onSerialChange);
  follow(connection, LOT_CHANGES, reloadLotsSoon);
  ready();
}

start().catch(failed);
