// A small offline GraphQL console: no framework, no build step, no outside address.
const $ = (id) => document.getElementById(id);

const examples = {
  "Warehouses and locations": "{\n  warehouses { code name timeZone allocationStrategy locations { code kind } }\n}",
  "Products": "{\n  products(first: 20) {\n    nodes { sku name gtin serialTracked lotTracked }\n    pageInfo { hasNextPage endCursor }\n  }\n}",
  "Open receiving orders": "{\n  receivingOrders(first: 20, statuses: [PLANNED, RECEIVING]) {\n    nodes { number status lines { lineNumber product { sku } expectedQuantity receivedQuantity } }\n  }\n}",
  "Open putaway tasks": "{\n  putawayTasks(first: 20) {\n    nodes { id quantity product { sku } lot { lotNumber expiryDate } serials { serialNumber } }\n  }\n}",
};

async function run() {
  let variables;
  try {
    variables = JSON.parse($("variables").value || "{}");
  } catch (err) {
    $("result").textContent = `Variables are not valid JSON: ${err.message}`;
    return;
  }
  $("result").textContent = "…";
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ query: $("query").value, variables }),
  });
  const text = await response.text();
  try {
    $("result").textContent = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    $("result").textContent = `HTTP ${response.status}\n${text}`;
  }
}

for (const name of Object.keys(examples)) {
  const option = document.createElement("option");
  option.value = option.textContent = name;
  $("examples").append(option);
}
$("examples").addEventListener("change", (event) => {
  if (examples[event.target.value]) $("query").value = examples[event.target.value];
});
$("run").addEventListener("click", run);
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run();
});
