// The navigation every page shares, drawn from one list so a new page is added once.
import { fill, h } from "./dom.js";
import { gql } from "./graphql.js";
import { NEEDS_TOKEN, setToken, token } from "./session.js";

export const PAGES = [
  { path: "/admin/serials", label: "Look-up", about: "Find a serial by any part of its number and follow its history." },
  { path: "/admin/receiving", label: "Receiving", about: "Receive an ASN: scan serials, enter lots, submit." },
  { path: "/admin/picking", label: "Picking", about: "Work through an order's pick list by scanning each item." },
  { path: "/admin/lots", label: "Lots", about: "Lot stock by expiry, expiring and expired lots, and recalls." },
  { path: "/admin/live", label: "Live", about: "Serial counts, stock charts and status changes as they happen." },
  { path: "/graphql", label: "Console", about: "Run GraphQL operations, browse the schema, try the examples." },
];

/** Fill the page's <nav id="site-nav">, mark where we are, and put a "skip to content"
 * link first for keyboard users. */
export function mountNav() {
  document.body.prepend(h("a", { class: "skip", href: "#main" }, "Skip to content"));
  const nav = document.getElementById("site-nav");
  const here = location.pathname.replace(/\/$/, "");
  fill(
    nav,
    h("a", { class: "brand", href: "/admin", "aria-current": here === "/admin" ? "page" : false }, "Trackline"),
    h(
      "ul",
      {},
      PAGES.map(({ path, label }) =>
        h("li", {}, h("a", { href: path, "aria-current": here === path ? "page" : false }, label)),
      ),
    ),
  );
  mountAccount(nav);
}

const ME = "query Me { me { name role } }";

/** Who this browser acts as, at the end of the bar, and the form to give it a token. The
 * form opens by itself when the server asks for a token. */
async function mountAccount(nav) {
  const form = h(
    "form",
    { method: "dialog", class: "card" },
    h("h2", {}, "Sign in with an API token"),
    h(
      "p",
      { class: "hint" },
      "Ask an admin for a token (trackline token create). It is kept in this browser only.",
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "token-input" }, "API token"),
      h("input", { id: "token-input", type: "password", autocomplete: "off", spellcheck: "false", required: true }),
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { class: "primary", type: "submit", value: "save" }, "Sign in"),
      h("button", { type: "submit", value: "cancel", formnovalidate: true }, "Cancel"),
    ),
  );
  const dialog = h("dialog", { id: "sign-in", "aria-labelledby": "sign-in-title" }, form);
  form.querySelector("h2").id = "sign-in-title";
  document.body.append(dialog);
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "save") return;
    setToken(form.querySelector("input").value);
    location.reload();
  });
  const open = () => {
    if (!dialog.open) dialog.showModal();
  };
  window.addEventListener(NEEDS_TOKEN, open);

  const account = h("div", { class: "account", role: "status" });
  nav.append(account);
  if (!token()) {
    fill(account, h("button", { type: "button", class: "quiet on-bar", onclick: open }, "Sign in"));
    return;
  }
  const { me } = await gql(ME).catch(() => ({ me: null }));
  if (!me) {
    fill(account, h("button", { type: "button", class: "quiet on-bar", onclick: open }, "Sign in"));
    return;
  }
  const signOut = () => {
    setToken("");
    location.reload();
  };
  fill(
    account,
    h("span", { class: "who" }, `${me.name} · ${me.role.toLowerCase()}`),
    h("button", { type: "button", class: "quiet on-bar", onclick: signOut }, "Sign out"),
  );
}
