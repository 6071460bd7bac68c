// The one GraphQL client of the console and the floor pages: queries and mutations are a
// POST of JSON to /graphql; subscriptions speak graphql-transport-ws over a WebSocket on the
// same path. The protocol is small enough to write out here rather than load a library.

import { authHeaders, connectionParams, needToken } from "./session.js";

const ENDPOINT = "/graphql";
const PROTOCOL = "graphql-transport-ws";
// The token was missing, or is unknown, expired or revoked: only another token helps.
const NO_ACCESS = new Set(["UNAUTHENTICATED"]);

/** A GraphQL answer with `errors`: the document or a variable was wrong. */
class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((error) => error.message).join("; "));
    this.errors = errors;
  }
}

/** POST one request with this browser's token (`headers` may override it); the answer's
 * JSON, whatever it holds, and the HTTP status. */
export async function post(body, headers = {}) {
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders(), ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) };
  } catch {
    throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
}

/** Run a query or mutation for a page: its data, or a GraphQLError. */
export async function gql(query, variables = {}) {
  const { json } = await post({ query, variables });
  if (json.errors?.length) {
    if (json.errors.every((error) => NO_ACCESS.has(error.extensions?.code))) needToken(json.errors[0].message);
    throw new GraphQLError(json.errors);
  }
  return json.data;
}

/** ws: or wss: to /graphql on this server, matching how the page itself was loaded. */
function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${ENDPOINT}`;
}

// Close codes after which trying again cannot help: the server refused what we sent.
const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406, 4409, 4429]);
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

/**
 * One graphql-transport-ws connection carrying any number of subscriptions.
 *
 * It opens on the first subscribe and reconnects with growing pauses when the socket
 * closes under it (a restarting server closes with 1012), subscribing again to everything
 * still wanted. `onState` hears "connecting", "live", "reconnecting", "closed" or "failed";
 * a page re-reads what it shows on "live" after a reconnect, as events sent while it was
 * away are not replayed.
 */
export class LiveConnection {
  #url;
  #connectionParams;
  #onState;
  #socket = null;
  #acknowledged = false;
  #operations = new Map();
  #nextId = 1;
  #retryMs = RETRY_MIN_MS;
  #retryTimer = null;
  #closed = false;

  constructor({ url = socketUrl(), params = connectionParams(), onState = () => {} } = {}) {
    this.#url = url;
    this.#connectionParams = params;
    this.#onState = onState;
  }

  /**
   * Start one operation. `sink.next(result)` gets each {data, errors}; `sink.error(errors)`
   * a refusal of the operation; `sink.complete()` its end. Returns a function that stops it.
   */
  subscribe(payload, sink) {
    const id = String(this.#nextId++);
    this.#operations.set(id, { payload, sink });
    if (this.#acknowledged) this.#send({ id, type: "subscribe", payload });
    else this.#open();
    return () => this.#stop(id);
  }

  /** Stop everything and close the socket for good. */
  close() {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#operations.clear();
    this.#socket?.close(1000, "closed by the page");
    this.#socket = null;
    this.#onState("closed");
  }

  #stop(id) {
    if (!this.#operations.delete(id)) return;
    if (this.#acknowledged) this.#send({ id, type: "complete" });
  }

  #send(message) {
    this.#socket.send(JSON.stringify(message));
  }

  #open() {
    if (this.#socket || this.#closed) return;
    this.#onState(this.#retryMs > RETRY_MIN_MS ? "reconnecting" : "connecting");
    const socket = new WebSocket(this.#url, PROTOCOL);
    this.#socket = socket;
    socket.addEventListener("open", () => {
      this.#send({ type: "connection_init", payload: this.#connectionParams });
    });
    socket.addEventListener("message", (event) => this.#receive(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => this.#closedUnder(socket, event));
  }

  #receive(message) {
    const operation = this.#operations.get(message.id);
    switch (message.type) {
      case "connection_ack":
        this.#acknowledged = true;
        this.#retryMs = RETRY_MIN_MS;
        this.#onState("live");
        for (const [id, { payload }] of this.#operations) {
          this.#send({ id, type: "subscribe", payload });
        }
        break;
      case "ping":
        this.#send({ type: "pong" });
        break;
      case "next":
        operation?.sink.next(message.payload);
        break;
      case "error":
        this.#operations.delete(message.id);
        operation?.sink.error(message.payload);
        break;
      case "complete":
        this.#operations.delete(message.id);
        operation?.sink.complete?.();
        break;
      default:
        break; // "pong" and anything newer need nothing from us
    }
  }

  #closedUnder(socket, event) {
    if (socket !== this.#socket) return;
    this.#socket = null;
    this.#acknowledged = false;
    if (this.#closed) return;
    if (FATAL_CLOSE_CODES.has(event.code)) {
      this.#closed = true;
      const failure = [{ message: `the server closed the connection: ${event.reason || event.code}` }];
      for (const { sink } of this.#operations.values()) sink.error(failure);
      this.#operations.clear();
      this.#onState("failed");
      return;
    }
    if (!this.#operations.size) {
      this.#onState("closed");
      return;
    }
    this.#onState("reconnecting");
    this.#retryTimer = setTimeout(() => this.#open(), this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
  }
}
