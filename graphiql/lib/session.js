// The API token this browser uses, kept in localStorage. `serve --demo` prints a link with
// the token after "#token=": opening it signs the browser in, and the token leaves the
// address bar at once (the fragment is never sent to the server).

const KEY = "trackline.token";

function takeTokenFromAddress() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  localStorage.setItem(KEY, decodeURIComponent(match[1]));
  history.replaceState(history.state, "", location.pathname + location.search);
}
takeTokenFromAddress();

export function token() {
  return localStorage.getItem(KEY) ?? "";
}

export function setToken(value) {
  if (value) localStorage.setItem(KEY, value.trim());
  else localStorage.removeItem(KEY);
}

/** Headers for a request: the token, when there is one. */
export function authHeaders() {
  const value = token();
  return value ? { Authorization: `Bearer ${value}` } : {};
}

/** What a WebSocket sends in connection_init: browsers cannot set its headers. */
export function connectionParams() {
  const value = token();
  return value ? { authorization: `Bearer ${value}` } : {};
}

// Pages listen for this to offer the sign-in form when the server asks for a token.
export const NEEDS_TOKEN = "trackline:needs-token";

export function needToken(reason) {
  window.dispatchEvent(new CustomEvent(NEEDS_TOKEN, { detail: reason }));
}
