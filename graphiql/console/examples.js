// Example operations, one per file in graphiql/examples/, listed in index.json in the order
// they build on each other. Each file starts with comment lines: a title, what it does, and
// "Variables:" followed by JSON. A variable written "@Operation.path.to.value" is taken
// from the last answer of that operation run in this console (tests/api/test_console_examples.py
// runs every example the same way).

const BASE = "/graphiql/examples/";
const ANSWERS = "trackline.console.answers";

export async function loadExamples() {
  const index = await (await fetch(`${BASE}index.json`)).json();
  return Promise.all(
    index.map(async ({ file, group }) => ({ file, group, ...parseExample(await (await fetch(BASE + file)).text()) })),
  );
}

/** {title, about, variables (JSON text), document (the operation, comments taken off)}. */
function parseExample(text) {
  const lines = text.split("\n");
  const comments = [];
  while (lines.length && lines[0].startsWith("#")) comments.push(lines.shift().replace(/^#\s?/, ""));
  const at = comments.findIndex((line) => line.startsWith("Variables:"));
  const head = at === -1 ? comments : comments.slice(0, at);
  const variables = at === -1 ? "{}" : [comments[at].slice("Variables:".length), ...comments.slice(at + 1)].join("\n").trim();
  return { title: head[0] ?? "", about: head.slice(1).join(" "), variables, document: lines.join("\n").trim() };
}

/** Keep an operation's answer for later examples that refer to it. */
export function keepAnswer(operationName, data) {
  if (!operationName || !data) return;
  const answers = JSON.parse(localStorage.getItem(ANSWERS) ?? "{}");
  answers[operationName] = data;
  try {
    localStorage.setItem(ANSWERS, JSON.stringify(answers));
  } catch {
    // Storage full (a very large answer): later references to it will say so when used.
  }
}

export class MissingAnswer extends Error {}

/** `variables` with every "@Operation.path" replaced by the value in that answer. */
export function resolveReferences(variables) {
  const answers = JSON.parse(localStorage.getItem(ANSWERS) ?? "{}");
  const resolve = (value) => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    const reference = typeof value === "string" && /^@([A-Za-z_]\w*)\.(.+)$/.exec(value);
    if (!reference) return value;
    const [, operation, path] = reference;
    let found = answers[operation];
    for (const part of path.split(".")) found = found?.[part];
    if (found === undefined) throw new MissingAnswer(`${value}: run the example ${operation} first; this value comes from its answer.`);
    return found;
  };
  return resolve(variables);
}
