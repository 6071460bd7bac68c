// Building the page from data without a framework: h() makes an element, and text always
// goes in as text nodes, so nothing read from the API is ever parsed as markup.

/**
 * h("button", { class: "primary", onclick: run }, "Run") → <button class="primary">Run</button>
 * Props starting with "on" become listeners; `true` sets an empty attribute, `false`, null
 * and undefined leave it out. Children may be strings, numbers, nodes, arrays or null.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "value" || name === "checked" || name === "selected") {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Replace everything inside `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Show `node` when `visible`, hide it otherwise (the hidden attribute, so it is also
 * hidden from screen readers). */
export function show(node, visible = true) {
  node.hidden = !visible;
}

/** The page's query string as an object, and a way to change it without reloading (so the
 * browser's Back button returns to the previous view). */
export function params() {
  return Object.fromEntries(new URLSearchParams(location.search));
}

export function setParams(values) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, value);
  }
  const url = `${location.pathname}${search.size ? `?${search}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history.pushState(null, "", url);
}

const NOTICE_SYMBOLS = { ok: "✔", warn: "⚠", refused: "✖", info: "ℹ" };

/** A message box: "ok", "warn", "refused" (announced at once) or "info", with a symbol and
 * a heading so its kind never rests on its colour. */
export function notice(kind, title, ...details) {
  return h(
    "div",
    { class: `notice ${kind}`, role: kind === "refused" ? "alert" : "status" },
    h("span", { class: "symbol", "aria-hidden": "true" }, NOTICE_SYMBOLS[kind]),
    h("strong", {}, title),
    details.map((detail) => (detail instanceof Node ? detail : h("p", {}, detail))),
  );
}

/**
 * A data table that turns into one card per row on a phone: each cell carries its column's
 * name in data-label. `columns` are [{label, cell(row), numeric?}]; `rowProps(row)` adds
 * attributes to a row.
 */
export function dataTable({ columns, rows, rowProps = () => ({}) }) {
  return h(
    "table",
    { class: "data" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : false }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((row) =>
        // The cell's content sits in one span, so on a phone it stays beside its label.
        h("tr", rowProps(row), columns.map((c) => h("td", { "data-label": c.label, class: c.numeric ? "num" : false }, h("span", {}, c.cell(row))))),
      ),
    ),
  );
}

/**
 * Mark the page as loaded and listening. Scripted checks wait for it before typing, the way
 * a person waits for the page to appear; scans that arrive earlier are not lost either.
 */
export function ready() {
  document.documentElement.dataset.ready = "true";
}
