// Field completion: walk the document up to the cursor, following each "{" into the type
// of the field before it, and offer the fields of the type the cursor is in — or, inside a
// field's parentheses, its arguments, and after "argument:" the values of an enum.
import { significant, tokenize } from "./tokenizer.js";
import { namedType, typeLabel } from "./schema.js";

const OPERATIONS = new Set(["query", "mutation", "subscription"]);

/**
 * What to offer at `cursor`: {from, to, items: [{label, detail, description}]}, where
 * from..to is the part of a name already typed; null when there is nothing to offer.
 */
export function completionsAt(schema, source, cursor) {
  const tokens = tokenize(source.slice(0, cursor));
  const last = tokens.at(-1);
  if (last && (last.kind === "comment" || last.kind === "string" || last.kind === "number")) return null;
  const typing = last?.kind === "name" ? last : null;
  const place = walk(schema, (typing ? tokens.slice(0, -1) : tokens).filter(significant));
  if (!place) return null;
  const prefix = (typing?.text ?? "").toLowerCase();
  const items = place.filter((item) => item.label.toLowerCase().startsWith(prefix) && item.label !== typing?.text);
  return items.length ? { from: typing?.start ?? cursor, to: cursor, items } : null;
}

/** The suggestions for the place after `tokens`, or null. */
function walk(schema, tokens) {
  const frames = [];
  let operation = "query";
  let onType = null;
  tokens.forEach((token, i) => {
    const before = tokens[i - 1]?.text;
    const top = frames.at(-1);
    if (token.kind === "name") {
      if (before === "on") onType = token.text;
      else if (!frames.length && OPERATIONS.has(token.text)) operation = token.text;
      else if (top?.kind === "selection" && !["$", "@", "..."].includes(before)) top.field = token.text;
      else if (top?.kind === "arguments" && tokens[i + 1]?.text === ":") top.argument = token.text;
      return;
    }
    switch (token.text) {
      case "{":
        if (!frames.length) frames.push({ kind: "selection", type: onType ?? schema.roots[operation] });
        else if (top.kind === "selection") frames.push({ kind: "selection", type: onType ?? schema.fieldTypeName(top.type, top.field) });
        else frames.push({ kind: "value" });
        onType = null;
        break;
      case "(": {
        // A directive's arguments, or the variable definitions, are not a field's.
        const ofField = top?.kind === "selection" && tokens[i - 2]?.text !== "@";
        frames.push(ofField ? { kind: "arguments", type: top.type, field: top.field } : { kind: "value" });
        break;
      }
      case "[":
        frames.push({ kind: "value" });
        break;
      case "}":
      case ")":
      case "]":
        frames.pop();
        if (!frames.length) operation = "query";
        break;
      default:
        break;
    }
  });
  const top = frames.at(-1);
  const before = tokens.at(-1)?.text;
  if (!top || ["$", "@", "..."].includes(before)) return null;
  if (top.kind === "selection") return fieldsOf(schema, top.type);
  if (top.kind === "arguments") {
    return before === ":" ? enumValues(schema, top) : argumentsOf(schema, top);
  }
  return null;
}

function fieldsOf(schema, typeName) {
  const type = schema.type(typeName);
  if (!type) return null;
  const fields = (type.fields ?? []).map((field) => ({
    label: field.name,
    detail: typeLabel(field.type),
    description: field.description,
  }));
  return [...fields, { label: "__typename", detail: "String!", description: "The name of the object's type." }];
}

function argumentsOf(schema, { type, field }) {
  return schema.field(type, field)?.args.map((arg) => ({
    label: arg.name,
    detail: typeLabel(arg.type),
    description: arg.description,
  })) ?? null;
}

function enumValues(schema, { type, field, argument }) {
  const arg = schema.field(type, field)?.args.find((a) => a.name === argument);
  const values = arg ? schema.type(namedType(arg.type))?.enumValues : null;
  return values?.map((value) => ({ label: value.name, detail: namedType(arg.type), description: value.description })) ?? null;
}
