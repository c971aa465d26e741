// The page's state and small helpers shared by its modules.

export const PROTOCOL = "chatd.v1";
export const HISTORY_LIMIT = 50; // messages asked for when a room is new to the page
export const MAX_MESSAGES = 1000; // kept per conversation
export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_MAX_MS = 30000;
export const HEARTBEAT_IDLE_MS = 25000; // ask something after this much silence...
export const HEARTBEAT_WAIT_MS = 10000; // ...and give the connection up after this much more
export const WHO_REFRESH_MS = 30000;

// Close codes a person may see (docs/PROTOCOL.md, "Close codes").
export const CLOSE_REASONS = {
  1000: "closed",
  1001: "the server is going away",
  1002: "protocol error",
  1006: "connection lost",
  1007: "invalid payload",
  1009: "message too big",
  1011: "server error",
  4001: "too many login attempts",
  4002: "frame timeout",
  4003: "no answer to the server's ping",
  4004: "not logged in in time",
  4005: "too much sent before login",
  4008: "too slow to read",
  4009: "replaced by another login of yours",
  4029: "rate limit",
};

export const S = {
  ws: null, // the current WebSocket, or null
  me: "", // the logged-in name, "" before login
  creds: null, // {name, password} kept in memory to log in again
  resume: "", // the last login_ok's resume token
  autoRooms: new Set(), // rooms the server joins at login
  loggedIn: false,
  wanted: false, // the person is logged in (or logging in): reconnect after a drop
  loginQueued: false, // send the login when the socket opens
  nextID: 1,
  pending: new Map(), // request id -> {kind, ...}
  convs: new Map(), // "r:NAME" or "p:NAME" -> conversation
  current: "", // key of the shown conversation
  retries: 0, // reconnects since the last login
  retryTimer: 0,
  retryAt: 0,
  retryGen: 0, // which countdown is current
  lastRecv: 0, // Date.now() of the last message received
  probeAt: 0, // when the heartbeat request went out, 0 if none
};

// A conversation is a room or a private chat with one peer.
export function conv(kind, name) {
  const key = (kind === "room" ? "r:" : "p:") + name;
  let c = S.convs.get(key);
  if (!c) {
    c = {
      key, kind, name,
      msgs: [], // sorted by seq (rooms) or arrival
      keys: new Set(), // "s:SEQ" and "i:ID" seen, to drop duplicates
      unread: 0,
      lastSeq: null, // rooms: the highest seq held
      floor: 0, // rooms: seqs up to this were dropped (trim)
      joined: kind !== "room",
      members: new Map(), // user -> {online, lastSeen}
    };
    S.convs.set(key, c);
  }
  return c;
}

export const $ = (id) => document.getElementById(id);

// el builds an element; text goes in with textContent only.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

export function clock(d) {
  const now = new Date();
  const hm = d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  if (d.toDateString() === now.toDateString()) return hm;
  return d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + hm;
}

export function dataText(data) {
  return typeof data === "string" ? data : JSON.stringify(data);
}
