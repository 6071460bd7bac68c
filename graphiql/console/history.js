// The console's history: the last operations run, kept in this browser's localStorage.
const KEY = "trackline.console.history";
const LIMIT = 50;

export function loadHistory() {
  try {
    const entries = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(entries) ? entries : [];
  } catch {
    return []; // a damaged entry must not break the console
  }
}

/** Put a run at the top; running the same thing again moves it up rather than copying it. */
export function remember({ query, variables, headers, name }) {
  const entries = loadHistory().filter((e) => e.query !== query || e.variables !== variables);
  entries.unshift({ query, variables, headers, name, at: new Date().toISOString() });
  localStorage.setItem(KEY, JSON.stringify(entries.slice(0, LIMIT)));
}

export function clearHistory() {
  localStorage.removeItem(KEY);
}
