// The documentation explorer: the schema's root types, every type with its fields,
// arguments, input fields and enum values and their descriptions; a type's name anywhere
// is a link to it. Back returns along the way taken; the search finds types and fields.
import { h, fill } from "../lib/dom.js";
import { namedType, typeLabel } from "./schema.js";

const KIND_WORDS = {
  OBJECT: "type",
  INPUT_OBJECT: "input",
  ENUM: "enum",
  SCALAR: "scalar",
  INTERFACE: "interface",
  UNION: "union",
};

export class Docs {
  #schema = null;
  #trail = [];
  #body;
  #back;
  #title;
  #search;

  constructor(panel) {
    this.#title = h("h2", { id: "docs-title", tabindex: "-1" }, "Documentation");
    this.#back = h("button", { type: "button", class: "quiet", hidden: true, onclick: () => this.back() }, "← Back");
    this.#search = h("input", { type: "search", id: "docs-search", placeholder: "Type or field name", autocomplete: "off" });
    this.#search.addEventListener("input", () => this.#render());
    this.#body = h("div", { class: "docs-body" });
    fill(
      panel,
      h("div", { class: "docs-head" }, this.#back, this.#title),
      h("label", { for: "docs-search" }, "Search the schema"),
      this.#search,
      this.#body,
    );
  }

  set schema(schema) {
    this.#schema = schema;
    this.#trail = [];
    this.#render();
  }

  /** Open a type, or a field of a type. */
  open(typeName, fieldName = null) {
    this.#search.value = "";
    this.#trail.push({ typeName, fieldName });
    this.#render();
    this.#title.focus();
  }

  back() {
    this.#trail.pop();
    this.#render();
    this.#title.focus();
  }

  #render() {
    if (!this.#schema) {
      fill(this.#body, h("p", { class: "hint" }, "Loading the schema…"));
      return;
    }
    const query = this.#search.value.trim().toLowerCase();
    const place = this.#trail.at(-1);
    this.#back.hidden = !this.#trail.length;
    if (query) {
      this.#title.textContent = "Search";
      fill(this.#body, this.#found(query));
    } else if (!place) {
      this.#title.textContent = "Documentation";
      fill(this.#body, this.#home());
    } else if (place.fieldName) {
      this.#title.textContent = `${place.typeName}.${place.fieldName}`;
      fill(this.#body, this.#field(place.typeName, place.fieldName));
    } else {
      this.#title.textContent = place.typeName;
      fill(this.#body, this.#type(place.typeName));
    }
  }

  #typeLink(ref) {
    const name = typeof ref === "string" ? ref : namedType(ref);
    const label = typeof ref === "string" ? ref : typeLabel(ref);
    return h("button", { type: "button", class: "type-link", onclick: () => this.open(name) }, label);
  }

  #home() {
    const roots = Object.entries(this.#schema.roots).filter(([, name]) => name);
    const groups = Object.entries(KIND_WORDS).map(([kind, word]) => {
      const types = this.#schema.namedTypes().filter((type) => type.kind === kind);
      return types.length
        ? [h("h3", {}, `${word[0].toUpperCase()}${word.slice(1)}s`), h("ul", { class: "doc-list" }, types.map((type) => h("li", {}, this.#typeLink(type.name))))]
        : null;
    });
    return [
      h("p", {}, "A GraphQL schema describes every type the API knows. Start from an operation's root:"),
      h("ul", { class: "doc-list" }, roots.map(([operation, name]) => h("li", {}, `${operation}: `, this.#typeLink(name)))),
      groups,
    ];
  }

  #type(name) {
    const type = this.#schema.type(name);
    if (!type) return h("p", {}, `No type ${name}.`);
    const parts = [
      h("p", { class: "kind" }, `${KIND_WORDS[type.kind] ?? type.kind} ${type.name}`),
      describe(type.description),
    ];
    if (type.interfaces?.length) parts.push(h("p", {}, "Implements ", type.interfaces.map((i) => this.#typeLink(i.name))));
    if (type.fields) {
      parts.push(
        h("h3", {}, "Fields"),
        h("ul", { class: "doc-fields" }, type.fields.map((field) => h("li", {}, this.#fieldLine(type.name, field)))),
      );
    }
    if (type.inputFields) {
      parts.push(h("h3", {}, "Input fields"), h("ul", { class: "doc-fields" }, type.inputFields.map((arg) => h("li", {}, this.#argument(arg)))));
    }
    if (type.enumValues) {
      parts.push(
        h("h3", {}, "Values"),
        h("ul", { class: "doc-fields" }, type.enumValues.map((value) => h("li", {}, h("strong", { class: "mono" }, value.name), deprecated(value), describe(value.description)))),
      );
    }
    if (type.kind === "INTERFACE" || type.kind === "UNION") {
      const members = type.possibleTypes ?? this.#schema.implementations(type.name);
      parts.push(h("h3", {}, "Implemented by"), h("ul", { class: "doc-list" }, members.map((m) => h("li", {}, this.#typeLink(m.name)))));
    }
    return parts;
  }

  #fieldLine(typeName, field) {
    const args = field.args.length ? ["(", field.args.map((arg, i) => [i ? ", " : "", arg.name]), ")"] : "";
    return [
      h("button", { type: "button", class: "field-link", onclick: () => this.open(typeName, field.name) }, field.name, args),
      ": ",
      this.#typeLink(field.type),
      deprecated(field),
      describe(field.description),
    ];
  }

  #argument(arg) {
    return [
      h("strong", { class: "mono" }, arg.name),
      ": ",
      this.#typeLink(arg.type),
      arg.defaultValue !== null && arg.defaultValue !== undefined ? h("span", { class: "mono" }, ` = ${arg.defaultValue}`) : "",
      describe(arg.description),
    ];
  }

  #field(typeName, fieldName) {
    const field = this.#schema.field(typeName, fieldName);
    if (!field) return h("p", {}, `No field ${fieldName} on ${typeName}.`);
    return [
      h("p", {}, "Field of ", this.#typeLink(typeName), ", returns ", this.#typeLink(field.type)),
      deprecated(field),
      describe(field.description),
      field.args.length ? [h("h3", {}, "Arguments"), h("ul", { class: "doc-fields" }, field.args.map((arg) => h("li", {}, this.#argument(arg))))] : null,
    ];
  }

  #found(query) {
    const hits = [];
    for (const type of this.#schema.namedTypes()) {
      if (type.name.toLowerCase().includes(query)) hits.push(h("li", {}, this.#typeLink(type.name)));
      for (const field of type.fields ?? []) {
        if (field.name.toLowerCase().includes(query)) {
          hits.push(h("li", {}, `${type.name}.`, h("button", { type: "button", class: "field-link", onclick: () => this.open(type.name, field.name) }, field.name)));
        }
      }
    }
    return hits.length ? h("ul", { class: "doc-list" }, hits.slice(0, 100)) : h("p", {}, "Nothing matches.");
  }
}

function describe(text) {
  return text ? h("p", { class: "doc-description" }, text) : null;
}

function deprecated(item) {
  return item.isDeprecated ? h("p", { class: "field-error" }, `Deprecated: ${item.deprecationReason ?? "no reason given"}`) : null;
}
