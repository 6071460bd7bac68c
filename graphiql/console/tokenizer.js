// GraphQL's lexical grammar, as much of it as colouring a document and finding one's place
// in it need. Every character of the source lands in exactly one token, so joining the
// tokens' text gives the source back (the highlighter relies on that).

const PATTERNS = [
  ["whitespace", /[\s,\ufeff]+/y],
  ["comment", /#[^\n\r]*/y],
  ["string", /"""(?:\\"""|[^])*?(?:"""|$)/y],
  ["string", /"(?:\\.|[^"\\\n\r])*(?:"|$)/my],
  ["number", /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y],
  ["name", /[_A-Za-z][_0-9A-Za-z]*/y],
  ["punctuator", /\.\.\.|[!$&()\[\]{}:=@|]/y],
];

/** [{kind, text, start, end}] covering all of `source`; what fits no rule is "invalid". */
export function tokenize(source) {
  const tokens = [];
  let at = 0;
  while (at < source.length) {
    let token = null;
    for (const [kind, pattern] of PATTERNS) {
      pattern.lastIndex = at;
      const match = pattern.exec(source);
      if (match && match[0].length) {
        token = { kind, text: match[0], start: at, end: at + match[0].length };
        break;
      }
    }
    token ??= { kind: "invalid", text: source[at], start: at, end: at + 1 };
    tokens.push(token);
    at = token.end;
  }
  return tokens;
}

export const significant = (token) => token.kind !== "whitespace" && token.kind !== "comment";

const TOP_LEVEL_KEYWORDS = new Set(["query", "mutation", "subscription", "fragment", "on"]);

/**
 * The colour class of each token: keyword, definition (an operation's or fragment's name),
 * type, field, alias, argument, variable, directive, atom (true, false, null, enum values),
 * string, number, comment, punctuation or invalid. It follows the brackets: outside any,
 * a definition's head; "(" before the first "{", variable definitions; "(" later, arguments
 * (where "{" opens an input object); otherwise "{" opens a selection.
 */
export function classify(tokens) {
  const classes = tokens.map((token) => (token.kind === "name" || token.kind === "whitespace" ? null : token.kind));
  const brackets = [];
  let previous = null; // index of the previous significant token
  const nextText = (i) => tokens.slice(i + 1).find(significant)?.text;

  tokens.forEach((token, i) => {
    if (!significant(token)) return;
    if (token.kind === "punctuator") {
      classes[i] = "punctuation";
      if ("{([".includes(token.text)) brackets.push(token.text);
      else if ("})]".includes(token.text)) brackets.pop();
    } else if (token.kind === "name") {
      classes[i] = nameClass(token.text, previous === null ? null : tokens[previous].text, brackets, nextText(i));
      if (classes[i] === "variable") classes[previous] = "variable"; // its "$" too
    }
    previous = i;
  });
  return classes;
}

function nameClass(text, before, brackets, after) {
  if (before === "$") return "variable";
  if (before === "@") return "directive";
  if (before === "on") return "type";
  if (!brackets.length) return TOP_LEVEL_KEYWORDS.has(text) ? "keyword" : "definition";
  if (before === "...") return text === "on" ? "keyword" : "definition";
  const inVariableDefinitions = brackets[0] === "(" && !brackets.includes("{");
  if (inVariableDefinitions) return before === ":" || before === "[" ? "type" : "atom";
  if (brackets.includes("(")) return after === ":" ? "argument" : "atom";
  return after === ":" ? "alias" : "field";
}

/**
 * The operations of a document: [{type, name, start, end}], type being query, mutation or
 * subscription (a bare "{ … }" is a query). Fragments are left out.
 */
export function operationsIn(source) {
  const tokens = tokenize(source).filter(significant);
  const found = [];
  let depth = 0;
  let current = null;
  tokens.forEach((token, i) => {
    if (depth === 0 && !current) {
      if (["query", "mutation", "subscription"].includes(token.text)) {
        const next = tokens[i + 1];
        current = { type: token.text, name: next?.kind === "name" ? next.text : null, start: token.start, end: source.length };
      } else if (token.text === "{") {
        current = { type: "query", name: null, start: token.start, end: source.length };
      } else if (token.text === "fragment") {
        current = { type: "fragment", name: null, start: token.start, end: source.length };
      }
    }
    if (token.text === "{") depth += 1;
    if (token.text === "}") {
      depth -= 1;
      if (depth === 0 && current) {
        current.end = token.end;
        if (current.type !== "fragment") found.push(current);
        current = null;
      }
    }
  });
  if (current && current.type !== "fragment") found.push(current);
  return found;
}
