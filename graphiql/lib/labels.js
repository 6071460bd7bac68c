// How statuses read on screen. Each has a symbol and words besides its colour, so nothing
// depends on telling colours apart (or on seeing them at all in bright sunlight).
import { h } from "./dom.js";

export const SERIAL_STATUSES = [
  "EXPECTED", "RECEIVED", "IN_INVENTORY", "ALLOCATED", "PICKED", "SHIPPED", "RELEASED",
];

const LOOKS = {
  // serials
  EXPECTED: ["○", "Expected"],
  RECEIVED: ["↓", "Received"],
  IN_INVENTORY: ["■", "In inventory"],
  ALLOCATED: ["◆", "Allocated"],
  PICKED: ["▲", "Picked"],
  SHIPPED: ["✔", "Shipped"],
  RELEASED: ["✕", "Released"],
  // pick tasks
  OPEN: ["□", "To do"],
  DONE: ["✔", "Done"],
  SHORT: ["◐", "Short"],
  CANCELLED: ["✕", "Cancelled"],
};

export function statusLabel(status) {
  return LOOKS[status]?.[1] ?? status;
}

/** A status as symbol + words, styled by data-status. */
export function statusBadge(status) {
  const [symbol, words] = LOOKS[status] ?? ["•", status];
  return h("span", { class: "badge", "data-status": status }, h("span", { "aria-hidden": "true" }, symbol), ` ${words}`);
}

/** Days to expiry as words and a level: expired, soon (within `soonDays`) or fine. */
function expiryLook(daysToExpiry, expired, soonDays = 30) {
  if (daysToExpiry === null || daysToExpiry === undefined) {
    return { level: "none", symbol: "–", words: "No expiry" };
  }
  if (expired) {
    const ago = -daysToExpiry;
    return { level: "expired", symbol: "✖", words: `Expired ${ago} day${ago === 1 ? "" : "s"} ago` };
  }
  if (daysToExpiry === 0) return { level: "soon", symbol: "⚠", words: "Expires today" };
  const words = `Expires in ${daysToExpiry} day${daysToExpiry === 1 ? "" : "s"}`;
  return daysToExpiry <= soonDays ? { level: "soon", symbol: "⚠", words } : { level: "fine", symbol: "✓", words };
}

export function expiryBadge(daysToExpiry, expired, soonDays) {
  const { level, symbol, words } = expiryLook(daysToExpiry, expired, soonDays);
  return h("span", { class: "badge", "data-expiry": level }, h("span", { "aria-hidden": "true" }, symbol), ` ${words}`);
}

const MOVEMENTS = {
  EXPECT: "Expected on ASN",
  RECEIVE: "Received",
  PUTAWAY: "Put away",
  ALLOCATE: "Allocated",
  PICK: "Picked",
  SHIP: "Shipped",
  CANCEL: "Allocation cancelled",
  RETURN: "Returned to stock",
  RELEASE: "Released (never arrived)",
  HOLD: "Put on hold",
  RELEASE_HOLD: "Hold lifted",
  OPENING_STOCK: "Opening stock",
};

export function movementLabel(kind) {
  return MOVEMENTS[kind] ?? kind;
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const CLOCK = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** An ISO date-time as a <time> in the reader's local time. */
export function timeOf(iso, { clockOnly = false } = {}) {
  const moment = new Date(iso);
  return h("time", { datetime: iso }, (clockOnly ? CLOCK : TIME).format(moment));
}
