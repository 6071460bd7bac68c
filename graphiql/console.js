// The GraphQL console: write or pick an operation, run it (queries and mutations as POST,
// subscriptions over graphql-transport-ws), read the answer, browse the schema. It runs from
// this server alone and keeps its history and draft in the browser.
import { Docs } from "./console/docs.js";
import { Editor } from "./console/editor.js";
import { MissingAnswer, keepAnswer, loadExamples, resolveReferences } from "./console/examples.js";
import { clearHistory, loadHistory, remember } from "./console/history.js";
import { loadSchema } from "./console/schema.js";
import { operationsIn } from "./console/tokenizer.js";
import { $, fill, h, ready } from "./lib/dom.js";
import { LiveConnection, post } from "./lib/graphql.js";
import { mountNav } from "./lib/nav.js";
import { connectionParams } from "./lib/session.js";

const DRAFT = "trackline.console.draft";
const EVENTS_SHOWN = 50;
const START = `# Pick an example above, or write an operation; Ctrl+Enter runs it.
query Warehouses {
  warehouses { code name timeZone allocationStrategy locations { code kind } }
}`;
// The signed-in token is sent by itself; headers written here are added (or override it).
const HEADERS = "{}";

const editor = new Editor($("#operation"), { onRun: () => run() });
// On a phone the result is below the editors: bring it into view when an answer arrives.
const stacked = matchMedia("(max-width: 999px)");
const docs = new Docs($("#docs"));
let examples = [];
let live = null; // the running subscription's connection

// ------------------------------------------------------------------ result view

function status(text) {
  $("#run-status").textContent = text;
}

function showMessage(text) {
  fill($("#result"), text);
}

/** Show JSON (a value, or JSON text) with its keys, strings, numbers and literals coloured. */
function showJson(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const pieces = [];
  let at = 0;
  for (const match of text.matchAll(/("(?:\\.|[^"\\])*")(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)) {
    pieces.push(text.slice(at, match.index));
    const kind = match[2] ? "key" : match[1] ? "string" : /\d/.test(match[0][0] ?? "") || match[0][0] === "-" ? "number" : "atom";
    pieces.push(h("span", { class: `j-${kind}` }, match[1] ?? match[0]), match[2] ?? "");
    at = match.index + match[0].length;
  }
  pieces.push(text.slice(at));
  fill($("#result"), pieces);
}

// ------------------------------------------------------------------ running

function parseJson(id, label) {
  const text = $(id).value.trim();
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch (error) {
    throw new Error(`${label} are not valid JSON: ${error.message}`);
  }
  throw new Error(`${label} must be a JSON object`);
}

/** The operation to run: the one the cursor is in, when the document holds several. */
function chosenOperation() {
  const operations = operationsIn(editor.value);
  const cursor = editor.cursor;
  return operations.find((op) => op.start <= cursor && cursor <= op.end) ?? operations[0] ?? { type: "query", name: null };
}

async function run() {
  stop();
  let variables;
  let headers;
  try {
    variables = resolveReferences(parseJson("#variables", "Variables"));
    headers = parseJson("#headers", "Headers");
  } catch (error) {
    status(error instanceof MissingAnswer ? "Needs an earlier example" : "Not sent");
    showMessage(error.message);
    return;
  }
  const operation = chosenOperation();
  const request = { query: editor.value, variables, operationName: operation.name };
  remember({ query: editor.value, variables: $("#variables").value, headers: $("#headers").value, name: operation.name });
  drawHistory();
  if (operation.type === "subscription") {
    subscribe(request, headers);
    return;
  }
  status("Running…");
  const began = performance.now();
  try {
    const { status: code, json } = await post(request, headers);
    const took = Math.round(performance.now() - began);
    status(`HTTP ${code} · ${took} ms${json.errors ? ` · ${json.errors.length} error(s)` : ""}`);
    showJson(json);
    if (stacked.matches) $("#result").scrollIntoView({ block: "start" });
    if (!json.errors) keepAnswer(operation.name, json.data);
  } catch (error) {
    status("Failed");
    showMessage(error.message);
  }
}

function subscribe(request, headers) {
  const events = [];
  const draw = () => showJson(events.map((e) => `// ${e.label}\n${JSON.stringify(e.result, null, 2)}`).join("\n\n") || "// waiting for the first event…");
  // A WebSocket has no headers of its own: they travel in connection_init, names in lower case.
  const written = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  live = new LiveConnection({
    params: { ...connectionParams(), ...written },
    onState: (state) => status(state === "live" ? `Subscribed · ${events.length} event(s)` : `Subscription: ${state}`),
  });
  live.subscribe(request, {
    next: (result) => {
      events.unshift({ label: `event ${events.length + 1} at ${new Date().toLocaleTimeString()}`, result });
      events.length = Math.min(events.length, EVENTS_SHOWN);
      status(`Subscribed · ${events.length} event(s)`);
      draw();
    },
    error: (errors) => {
      events.unshift({ label: "the server ended the subscription", result: { errors } });
      draw();
      stop();
    },
    complete: () => {
      status("Subscription complete");
      stop();
    },
  });
  $("#stop").hidden = false;
  draw();
}

function stop() {
  live?.close();
  live = null;
  $("#stop").hidden = true;
}

// ------------------------------------------------------------------ examples, history, draft

async function setUpExamples() {
  examples = await loadExamples();
  const groups = new Map();
  for (const [i, example] of examples.entries()) {
    if (!groups.has(example.group)) groups.set(example.group, h("optgroup", { label: example.group }));
    groups.get(example.group).append(h("option", { value: String(i) }, example.title));
  }
  $("#examples").append(...groups.values());
}

function pickExample() {
  const example = examples[Number($("#examples").value)];
  if (!$("#examples").value || !example) return;
  editor.value = example.document;
  $("#variables").value = example.variables;
  const references = /"@\w+\./.test(example.variables) ? " Values written \"@Operation.path\" come from that example's last answer: run the examples in the listed order." : "";
  $("#example-about").textContent = `${example.about}${references}`;
  saveDraft();
}

function drawHistory() {
  const entries = loadHistory();
  fill(
    $("#history-list"),
    entries.length
      ? entries.map((entry) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "quiet",
                onclick: () => {
                  editor.value = entry.query;
                  $("#variables").value = entry.variables;
                  $("#headers").value = entry.headers;
                  saveDraft();
                  editor.focus();
                },
              },
              h("strong", {}, entry.name ?? firstLine(entry.query)),
              h("span", { class: "hint" }, new Date(entry.at).toLocaleString()),
            ),
          ),
        )
      : h("li", { class: "hint" }, "Nothing run yet."),
  );
}

const firstLine = (text) => text.split("\n").find((line) => line.trim() && !line.trim().startsWith("#"))?.trim().slice(0, 60) ?? "(empty)";

function saveDraft() {
  localStorage.setItem(DRAFT, JSON.stringify({ query: editor.value, variables: $("#variables").value, headers: $("#headers").value }));
}

function restoreDraft() {
  let draft = {};
  try {
    draft = JSON.parse(localStorage.getItem(DRAFT) ?? "{}") ?? {};
  } catch {
    // a damaged draft is dropped
  }
  editor.value = draft.query ?? START;
  $("#variables").value = draft.variables ?? "{}";
  $("#headers").value = draft.headers ?? HEADERS;
}

// ------------------------------------------------------------------ drawers

function toggle(which) {
  for (const name of ["docs", "history"]) {
    const button = $(`#toggle-${name}`);
    const open = name === which && button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    $(`#${name}`).hidden = !open;
  }
  $("#main").dataset.drawer = ["docs", "history"].find((name) => !$(`#${name}`).hidden) ?? "";
}

// ------------------------------------------------------------------ start

mountNav();
restoreDraft();
drawHistory();
$("#run").addEventListener("click", () => run());
$("#stop").addEventListener("click", () => {
  stop();
  status("Stopped");
});
$("#examples").addEventListener("change", pickExample);
$("#toggle-docs").addEventListener("click", () => toggle("docs"));
$("#toggle-history").addEventListener("click", () => toggle("history"));
$("#clear-history").addEventListener("click", () => {
  clearHistory();
  drawHistory();
});
for (const id of ["#operation", "#variables", "#headers"]) $(id).addEventListener("input", saveDraft);
for (const id of ["#variables", "#headers"]) {
  $(id).addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
}
const examplesLoaded = setUpExamples().catch((error) => status(`Examples could not load: ${error.message}`));
const schemaLoaded = Promise.resolve()
  .then(() => loadSchema(parseJson("#headers", "Headers")))
  .then((schema) => {
    editor.schema = schema;
    docs.schema = schema;
  })
  .catch((error) => status(`The schema could not load: ${error.message}`));
Promise.all([examplesLoaded, schemaLoaded]).then(ready);
