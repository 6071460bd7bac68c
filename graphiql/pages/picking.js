// Picking: open an order's pick list and confirm each task by scanning what is taken. The
// scan goes to the server as it came, GS1 label or plain number, and the server decides
// whether it fits (right serial, lot, product, order and bin); a refusal is shown at the
// top and on the task, and nothing is picked.
import { $, fill, h, notice, params, ready, setParams, show } from "../lib/dom.js";
import { gql } from "../lib/graphql.js";
import { statusBadge } from "../lib/labels.js";
import { mountNav } from "../lib/nav.js";
import { readScan, scanStation } from "../lib/scanner.js";

const ORDERS = `query OrdersToPick {
  orders(first: 100, statuses: [ALLOCATED, PICKING]) {
    nodes { number customerReference status warehouse { code } pickTasks { status } }
  }
}`;

const PICK_LIST = `query PickList($number: String!) {
  order(number: $number) {
    number status customerReference warehouse { code }
    pickTasks {
      id status location { code }
      allocation {
        quantity pickedQuantity
        product { id sku name tracking }
        serial { serialNumber }
        lot { lotNumber expiryDate }
      }
    }
  }
}`;

const CONFIRM = `mutation ConfirmPick($input: ConfirmPickInput!) {
  confirmPick(input: $input) {
    pickTask { status location { code } allocation { pickedQuantity serial { serialNumber } lot { lotNumber } } }
    userErrors { field code message }
  }
}`;

let order = null;
const message = (...content) => fill($("#message"), ...content);

// ------------------------------------------------------------------ choosing an order

async function listOrders() {
  const { orders } = await gql(ORDERS);
  fill(
    $("#orders"),
    orders.nodes.map((o) => {
      const open = o.pickTasks.filter((t) => t.status === "OPEN").length;
      return h(
        "li",
        {},
        h(
          "button",
          { type: "button", onclick: () => openOrder(o.number).catch(failed) },
          h("span", { class: "number" }, o.number),
          h("span", {}, `${open} to pick`),
          h("span", { class: "where" }, `${o.customerReference ?? "No reference"} · ${o.warehouse.code} · ${o.status.toLowerCase()}`),
        ),
      );
    }),
  );
  if (!orders.nodes.length) $("#orders").append(h("li", {}, "No order is waiting to be picked."));
}

async function openOrder(number, { push = true } = {}) {
  const { order: found } = await gql(PICK_LIST, { number });
  if (!found) {
    message(notice("refused", `No order ${number}`, "Check the number, or choose from the list."));
    return;
  }
  order = found;
  if (push) setParams({ order: order.number });
  renderOrder();
}

function closeOrder() {
  order = null;
  setParams({});
  show($("#order"), false);
  show($("#choose"));
  $("#scan-label").textContent = "Scan or type an order number";
  message();
  listOrders().catch(failed);
}

// ------------------------------------------------------------------ the pick list

const openFirst = (a, b) =>
  (a.status !== "OPEN") - (b.status !== "OPEN") || a.location.code.localeCompare(b.location.code);

function renderOrder() {
  show($("#choose"), false);
  show($("#order"));
  $("#scan-label").textContent = "Scan the item you take";
  $("#order-title").textContent = order.number;
  $("#order-facts").textContent = `${order.customerReference ?? "No reference"} · warehouse ${order.warehouse.code} · ${order.status.toLowerCase()}`;
  const tasks = [...order.pickTasks].sort(openFirst);
  const done = tasks.filter((t) => t.status !== "OPEN").length;
  const progress = $("#progress");
  progress.dataset.state = done === tasks.length ? "done" : "short";
  progress.textContent = done === tasks.length
    ? `✔ All ${tasks.length} tasks done — order is ${order.status.toLowerCase()}`
    : `${done} of ${tasks.length} tasks done`;
  fill($("#tasks"), tasks.map(taskCard));
}

function describe(allocation) {
  if (allocation.serial) return `serial ${allocation.serial.serialNumber}`;
  if (allocation.lot) return `lot ${allocation.lot.lotNumber} × ${allocation.quantity}`;
  return `× ${allocation.quantity}`;
}

/** What to take, with numbers kept whole on a narrow screen. */
function whatToTake(allocation) {
  const number = allocation.serial?.serialNumber ?? allocation.lot?.lotNumber;
  const kind = allocation.serial ? "serial" : allocation.lot ? "lot" : null;
  return [
    `${allocation.product.sku} · `,
    kind ? [`${kind} `, h("span", { class: "nowrap" }, number)] : null,
    allocation.serial ? "" : `${kind ? " " : ""}× ${allocation.quantity}`,
  ];
}

function taskCard(task) {
  const { allocation } = task;
  const open = task.status === "OPEN";
  const quantityField = `task-${task.id}-quantity`;
  const controls = [];
  if (open && !allocation.serial) {
    controls.push(
      h("div", { class: "field" },
        h("label", { for: quantityField }, "Quantity taken"),
        h("input", {
          id: quantityField,
          type: "number",
          inputmode: "numeric",
          min: "0",
          max: String(allocation.quantity),
          value: String(allocation.quantity),
          // Enter after changing the quantity goes back to scanning (the scan confirms).
          onkeydown: (event) => event.key === "Enter" && $("#scan-input").focus(),
        }),
      ),
    );
  }
  if (open && !allocation.serial && !allocation.lot) {
    controls.push(h("button", { type: "button", class: "primary", onclick: () => confirm(task).catch(failed) }, "Confirm picked"));
  }
  return h(
    "li",
    { class: "card task", id: `task-${task.id}`, "data-status": task.status },
    h("span", { class: "bin" }, h("span", { class: "visually-hidden" }, "Location "), task.location.code),
    h("span", { class: "what" }, whatToTake(allocation)),
    h("span", { class: "hint" }, allocation.product.name),
    h("span", {}, statusBadge(task.status), task.status === "OPEN" ? "" : ` ${allocation.pickedQuantity} picked`),
    controls.length ? h("div", { class: "controls" }, controls) : null,
  );
}

// ------------------------------------------------------------------ scanning

async function onScan(raw) {
  if (!order) {
    await openOrder(raw.trim());
    return;
  }
  for (const card of document.querySelectorAll(".task[data-refused]")) card.removeAttribute("data-refused");
  const open = order.pickTasks.filter((t) => t.status === "OPEN");
  if (!open.length) {
    message(notice("info", "Nothing left to pick on this order", "Choose another order."));
    return;
  }
  // What the scan names decides which task it is for; the scan itself is what is sent.
  await confirm(taskFor(await readScan(raw), open), raw);
}

/** The open task a scan is meant for: the one it names exactly, else one of the scanned
 * product (another serial of it may stand in), else the next one in walking order — the
 * server then says what is wrong with the scan. */
function taskFor(read, open) {
  const lowered = (text) => text?.toLowerCase();
  const product = read.product?.id ?? read.serials[0]?.product.id ?? read.lots[0]?.product.id;
  return (
    open.find((t) => t.allocation.serial && t.allocation.serial.serialNumber === read.serialNumber) ??
    open.find((t) => t.allocation.lot && lowered(t.allocation.lot.lotNumber) === lowered(read.lotNumber)) ??
    open.find((t) => t.allocation.product.id === product) ??
    [...open].sort(openFirst)[0]
  );
}

/** Confirm `task` with the scan exactly as the scanner sent it: the server reads it. */
async function confirm(task, raw = "") {
  const input = { taskId: task.id };
  const { allocation } = task;
  if (allocation.product.tracking === "SERIAL") {
    input.serialNumber = raw;
  } else {
    input.quantity = Number.parseInt(document.getElementById(`task-${task.id}-quantity`).value, 10);
    if (allocation.product.tracking === "LOT") input.lotNumber = raw;
  }
  const { confirmPick: answer } = await gql(CONFIRM, { input });
  if (answer.userErrors.length) {
    const card = document.getElementById(`task-${task.id}`);
    card.dataset.refused = "true";
    const reasons = answer.userErrors.map((e) => `${e.message} (${e.code})`);
    card.append(h("p", { class: "field-error" }, reasons.join(" ")));
    message(notice("refused", raw ? `Scan refused: ${raw.trim()}` : "Refused", ...reasons, `Nothing was picked. Task: ${task.location.code}, ${allocation.product.sku} ${describe(allocation)}.`));
    return;
  }
  const picked = answer.pickTask;
  const what = picked.allocation.serial ? `serial ${picked.allocation.serial.serialNumber}` : `${picked.allocation.pickedQuantity} × ${allocation.product.sku}${picked.allocation.lot ? ` lot ${picked.allocation.lot.lotNumber}` : ""}`;
  await openOrder(order.number, { push: false });
  message(notice("ok", `Picked ${what} from ${picked.location.code}`, picked.status === "SHORT" ? "Short pick: the rest was released." : "Scan the next item."));
}

// ------------------------------------------------------------------ start

function failed(error) {
  message(notice("refused", "Something went wrong", error.message));
}

async function start() {
  mountNav();
  scanStation($("#scan"), $("#scan-input"), (raw) => onScan(raw).catch(failed));
  $("#change").addEventListener("click", closeOrder);
  window.addEventListener("popstate", () => (params().order ? openOrder(params().order, { push: false }) : Promise.resolve(closeOrder())).catch(failed));
  if (params().order) await openOrder(params().order, { push: false });
  else await listOrders();
  ready();
}

start().catch(failed);
