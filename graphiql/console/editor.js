// The operation editor: a plain <textarea> for typing (so selection, undo, paste and screen
// readers work as everywhere), laid exactly over a <pre> that shows the same text coloured.
// The textarea's own text is transparent; only its caret and selection show.
import { h, fill } from "../lib/dom.js";
import { completionsAt } from "./completion.js";
import { classify, tokenize } from "./tokenizer.js";

const INDENT = "  ";

export class Editor {
  #textarea;
  #code;
  #list;
  #schema = null;
  #offer = null; // {from, to, items} while the completion list is open
  #chosen = 0;
  #inserting = false;

  /** `textarea` inside a .editor element; `onRun` is called for Ctrl+Enter. */
  constructor(textarea, { onRun }) {
    this.#textarea = textarea;
    const editor = textarea.parentElement;
    this.#code = h("code", {});
    editor.prepend(h("pre", { class: "highlight", "aria-hidden": "true" }, this.#code));
    this.#list = h("ul", { class: "completions", id: `${textarea.id}-completions`, role: "listbox", "aria-label": "Suggestions", hidden: true });
    editor.append(this.#list);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", this.#list.id);
    textarea.addEventListener("input", (event) => {
      this.#paint();
      if (this.#inserting) return;
      // Offer names while one is being typed; Ctrl+Space asks anywhere.
      if (this.#offer || /\w$/.test(event.data ?? "")) this.#suggest();
    });
    textarea.addEventListener("scroll", () => this.#follow());
    textarea.addEventListener("keydown", (event) => this.#key(event, onRun));
    textarea.addEventListener("blur", () => setTimeout(() => this.#close(), 150));
    this.#paint();
  }

  get value() {
    return this.#textarea.value;
  }

  set value(text) {
    this.#textarea.value = text;
    this.#close();
    this.#paint();
  }

  get cursor() {
    return this.#textarea.selectionStart;
  }

  set schema(schema) {
    this.#schema = schema;
  }

  focus() {
    this.#textarea.focus();
  }

  #paint() {
    // A trailing newline in a <pre> shows no empty last line; the space keeps the two
    // boxes the same height so they scroll alike.
    const source = `${this.#textarea.value} `;
    const tokens = tokenize(source);
    const classes = classify(tokens);
    fill(
      this.#code,
      tokens.map((token, i) => (classes[i] ? h("span", { class: `t-${classes[i]}` }, token.text) : token.text)),
    );
    this.#follow();
  }

  #follow() {
    const pre = this.#code.parentElement;
    pre.scrollTop = this.#textarea.scrollTop;
    pre.scrollLeft = this.#textarea.scrollLeft;
  }

  #key(event, onRun) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onRun();
      return;
    }
    if (event.key === " " && event.ctrlKey) {
      event.preventDefault();
      this.#suggest({ asked: true });
      return;
    }
    if (this.#offer) {
      const moves = { ArrowDown: 1, ArrowUp: -1 };
      if (event.key in moves) {
        event.preventDefault();
        this.#chosen = (this.#chosen + moves[event.key] + this.#offer.items.length) % this.#offer.items.length;
        this.#showOffer();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        this.#accept(this.#chosen);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        this.#close();
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.#newLine();
    }
  }

  /** Enter keeps the line's indentation, one step more after an opening bracket. */
  #newLine() {
    const text = this.#textarea.value;
    const at = this.#textarea.selectionStart;
    const line = text.slice(text.lastIndexOf("\n", at - 1) + 1, at);
    const indent = /^\s*/.exec(line)[0] + (/[{(]\s*$/.test(line) ? INDENT : "");
    this.#insert(`\n${indent}`, at, this.#textarea.selectionEnd);
  }

  /** Replace from..to with `text` as typing would, so Ctrl+Z undoes it. */
  #insert(text, from, to) {
    this.#inserting = true;
    this.#textarea.setSelectionRange(from, to);
    // execCommand is the one way to edit a textarea that joins the browser's undo history.
    if (!document.execCommand("insertText", false, text)) {
      this.#textarea.setRangeText(text, from, to, "end");
      this.#paint();
    }
    this.#inserting = false;
  }

  #suggest({ asked = false } = {}) {
    const offer = this.#schema && completionsAt(this.#schema, this.value, this.cursor);
    if (!offer || (!asked && offer.from === offer.to)) {
      this.#close();
      return;
    }
    this.#offer = offer;
    this.#chosen = 0;
    this.#showOffer();
  }

  #showOffer() {
    const { items } = this.#offer;
    fill(
      this.#list,
      items.map((item, i) =>
        h(
          "li",
          {
            role: "option",
            id: `${this.#list.id}-${i}`,
            "aria-selected": String(i === this.#chosen),
            onmousedown: (event) => {
              event.preventDefault(); // keep the focus in the editor
              this.#accept(i);
            },
          },
          h("span", { class: "label" }, item.label),
          h("span", { class: "detail" }, item.detail),
        ),
      ),
    );
    const chosen = items[this.#chosen];
    this.#list.append(h("li", { class: "about", role: "presentation" }, chosen.description ?? ""));
    this.#textarea.setAttribute("aria-activedescendant", `${this.#list.id}-${this.#chosen}`);
    this.#list.hidden = false;
    this.#place();
    this.#list.children[this.#chosen].scrollIntoView({ block: "nearest" });
  }

  /** Put the list under the cursor: the font is monospaced, so line and column say where. */
  #place() {
    const style = getComputedStyle(this.#textarea);
    const before = this.value.slice(0, this.#offer.from).split("\n");
    const column = before.at(-1).length;
    const charWidth = measureChar(style.font);
    const lineHeight = parseFloat(style.lineHeight);
    const top = parseFloat(style.paddingTop) + before.length * lineHeight - this.#textarea.scrollTop;
    const left = parseFloat(style.paddingLeft) + column * charWidth - this.#textarea.scrollLeft;
    const room = this.#textarea.clientWidth - this.#list.offsetWidth - 4;
    this.#list.style.top = `${Math.max(0, top) + 2}px`;
    this.#list.style.left = `${Math.max(0, Math.min(left, room))}px`;
  }

  #accept(i) {
    const { from, to, items } = this.#offer;
    this.#close();
    this.#textarea.focus();
    this.#insert(items[i].label, from, to);
  }

  #close() {
    this.#offer = null;
    this.#list.hidden = true;
    this.#textarea.removeAttribute("aria-activedescendant");
  }
}

let canvas = null;
function measureChar(font) {
  canvas ??= document.createElement("canvas");
  const context = canvas.getContext("2d");
  context.font = font;
  return context.measureText("M".repeat(40)).width / 40;
}
