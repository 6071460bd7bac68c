// The admin's front page: one large tile per page of the shared navigation.
import { fill, h, ready } from "../lib/dom.js";
import { PAGES, mountNav } from "../lib/nav.js";

mountNav();
fill(
  document.getElementById("pages"),
  PAGES.map(({ path, label, about }) => h("li", {}, h("a", { href: path }, h("strong", {}, label), about))),
);
ready();
