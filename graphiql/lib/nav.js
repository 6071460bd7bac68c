// The navigation every page shares, drawn from one list so a new page is added once.
import { h, fill } from "./dom.js";

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
}
