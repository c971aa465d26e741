// chatd's chat page. Plain JavaScript, no build step. docs/PROTOCOL.md is
// the protocol; server/web/doc.go explains the page.
//
// Rule: text from the network reaches the page only through textContent
// (el() below), never as HTML.

const PROTOCOL = "chatd.v1";
const HISTORY_LIMIT = 50;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30000;
const HEARTBEAT_IDLE_MS = 25000; // ask something after this much silence...
const HEARTBEAT_WAIT_MS = 10000; // ...and give the connection up after this much more
const WHO_REFRESH_MS = 30000;

// Close codes a person may see (docs/PROTOCOL.md, "Close codes").
const CLOSE_REASONS = {
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

// ---- state --------------------------------------------------------------

const S = {
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
function conv(kind, name) {
  const key = (kind === "room" ? "r:" : "p:") + name;
  let c = S.convs.get(key);
  if (!c) {
    c = {
      key, kind, name,
      msgs: [], // sorted by seq (rooms) or arrival
      keys: new Set(), // "s:SEQ" and "i:ID" seen, to drop duplicates
      unread: 0,
      lastSeq: null, // rooms: the highest seq held
      joined: kind !== "room",
      members: new Map(), // user -> {online, lastSeen}
    };
    S.convs.set(key, c);
  }
  return c;
}

const $ = (id) => document.getElementById(id);

// el builds an element; text goes in with textContent only.
function el(tag, attrs, ...children) {
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

// ---- connection ---------------------------------------------------------

function wsURL() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + location.host + "/ws";
}

function setStatus(state, detail) {
  const s = $("status");
  s.textContent = state;
  s.dataset.state = state;
  $("status-detail").textContent = detail ? " · " + detail : "";
}

function connect() {
  clearTimeout(S.retryTimer);
  S.retryTimer = 0;
  let ws;
  try {
    ws = new WebSocket(wsURL(), [PROTOCOL]);
  } catch (err) {
    setStatus("closed", String(err));
    return;
  }
  S.ws = ws;
  S.loggedIn = false;
  S.probeAt = 0;
  setStatus("connecting", S.retries ? "attempt " + (S.retries + 1) : "");
  ws.onopen = () => {
    if (ws !== S.ws) return;
    S.lastRecv = Date.now();
    setStatus("open", S.wanted && S.creds ? "logging in" : "");
    if (S.loginQueued || (S.wanted && S.creds)) login();
  };
  ws.onmessage = (ev) => {
    if (ws !== S.ws) return;
    S.lastRecv = Date.now();
    S.probeAt = 0;
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      m = null;
    }
    if (!m || typeof m !== "object") {
      // Not JSON: a plain-text answer (an older server); show it.
      notice(String(ev.data));
      return;
    }
    handle(m);
  };
  ws.onclose = (ev) => {
    if (ws !== S.ws) return;
    closed(ev.code, ev.reason);
  };
}

// closed handles the end of the current connection.
function closed(code, reason) {
  S.ws = null;
  const wasIn = S.loggedIn;
  S.loggedIn = false;
  S.loginQueued = false;
  for (const [id, p] of S.pending) {
    if (p.kind === "send" && p.msg.status === "sending") setMsgStatus(p.msg, "unsent", "the connection closed before the server answered");
    S.pending.delete(id);
  }
  updateComposer();
  const why = (CLOSE_REASONS[code] || "closed") + " (" + code + (reason ? ": " + reason : "") + ")";
  if (code === 4009) {
    // Another login of this user took the session's place (a resume, or the
    // session limit). Reconnecting would take it back: leave it to the person.
    S.wanted = false;
    S.me = "";
    $("me").textContent = "";
    setStatus("closed", why);
    showLogin();
    showLoginError("This session was " + why + ". Log in again to continue here.");
    return;
  }
  if (S.wanted && S.creds && wasInOrRetrying(wasIn)) {
    scheduleReconnect(why);
  } else {
    setStatus("closed", why);
    // During a login the person is waiting for an answer: say why there.
    // An idle login page (4004 after chat.login.timeout) just reconnects
    // when the form is sent.
    if (S.wanted && !S.me) showLoginError("The connection closed: " + why + ". Log in again to reconnect.");
    S.wanted = false;
  }
}

// Reconnect only a session that was logged in (or was already retrying);
// a connection closed during the login loop waits for the person.
function wasInOrRetrying(wasIn) {
  return wasIn || S.retries > 0;
}

function scheduleReconnect(why) {
  // Exponential backoff with jitter: the cap doubles with each attempt, and
  // the delay is random between half the cap and the cap, so that pages
  // dropped together (a server restart) do not come back together.
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** S.retries);
  const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
  S.retries++;
  S.retryAt = Date.now() + delay;
  clearTimeout(S.retryTimer);
  S.retryTimer = setTimeout(connect, delay);
  const gen = ++S.retryGen;
  const tick = () => {
    if (gen !== S.retryGen || !S.retryTimer || S.ws) return;
    const left = Math.max(0, Math.ceil((S.retryAt - Date.now()) / 1000));
    setStatus("closed", why + ", reconnecting in " + left + " s");
    setTimeout(tick, 1000);
  };
  tick();
}

// abandon gives up a connection that stopped answering without closing.
function abandon(why) {
  const ws = S.ws;
  if (!ws) return;
  ws.onopen = ws.onmessage = ws.onclose = null;
  try {
    ws.close(4000, why);
  } catch {
    // already closing
  }
  closed(1006, why);
}

function send(obj, pending) {
  if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return false;
  if (pending) {
    obj.id = S.nextID++;
    S.pending.set(obj.id, pending);
  }
  S.ws.send(JSON.stringify(obj));
  return true;
}

// heartbeat: a connection can die without a close (a phone changing
// networks); the server's pings do not reach JavaScript, so after a quiet
// spell ask a cheap question and give up if no answer comes.
setInterval(() => {
  if (!S.loggedIn || !S.ws) return;
  const now = Date.now();
  if (S.probeAt && now - S.probeAt > HEARTBEAT_WAIT_MS) {
    abandon("no answer from the server");
  } else if (!S.probeAt && now - S.lastRecv > HEARTBEAT_IDLE_MS) {
    S.probeAt = now;
    send({ type: "seen", user: S.me }, { kind: "probe" });
  }
}, 2000);

window.addEventListener("online", () => {
  if (S.retryTimer && !S.ws) connect();
});

// ---- login --------------------------------------------------------------

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

// login sends a login request with the name and the password (or token).
// After a drop it adds the session's resume token and, per room, the seq of
// the last message held ("since"): the server then takes the old session's
// place even if it still holds the name, and replays what was missed. The
// credentials go along, so a token the server no longer knows (expired, or
// a restart) costs no extra round trip: the backend checks them instead.
function login() {
  S.loginQueued = false;
  const c = S.creds;
  const req = { type: "login" };
  if (c.name) req.name = c.name;
  if (JWT_RE.test(c.password)) req.token = c.password;
  else if (c.password) req.password = c.password;
  const again = !!S.me;
  if (again && S.resume) {
    req.name = S.me;
    req.resume = S.resume;
  }
  // A resume rejoins every room of the old session; a plain login joins
  // the auto-joined ones. Other rooms are joined again after login_ok.
  const since = {};
  for (const cv of S.convs.values()) {
    if (cv.kind !== "room" || !cv.joined || cv.lastSeq === null) continue;
    if (req.resume || S.autoRooms.has(cv.name)) since[cv.name] = cv.lastSeq;
  }
  if (again && Object.keys(since).length) req.since = since;
  send(req, { kind: "login", since });
}

function onLoginOK(m, p) {
  const again = !!S.me; // a reconnect of this page's session
  S.me = m.user;
  S.loggedIn = true;
  S.retries = 0;
  if (m.resume) S.resume = m.resume;
  $("me").textContent = m.user;
  $("login-error").textContent = "";
  $("login-password").value = "";
  if (!again) S.autoRooms = new Set(m.rooms || []);
  const had = [...S.convs.values()].filter((c) => c.kind === "room" && c.joined);
  for (const name of m.rooms || []) {
    const c = conv("room", name);
    c.joined = true;
    // Rooms whose missed messages do not follow (no since sent): load recent history.
    if (!(p && p.since && name in p.since)) history(c);
  }
  // Rooms this page was in that the server did not rejoin: join them again.
  for (const c of had) {
    if (!(m.rooms || []).includes(c.name)) joinRoom(c.name, { since: c.lastSeq, quiet: true });
  }
  showChat();
  if (!S.current || !S.convs.has(S.current)) select(firstRoomKey());
  else select(S.current);
  setStatus("open", again ? "reconnected" : "");
  send({ type: "rooms", limit: 100 }, { kind: "rooms" });
}

function onLoginError(m) {
  const left = typeof m.attemptsLeft === "number" ? m.attemptsLeft : null;
  let text = m.error || "login refused";
  if (left !== null) text += " (" + left + (left === 1 ? " attempt" : " attempts") + " left)";
  showLoginError(text);
  if (S.me) {
    // An automatic re-login failed: hand the form back to the person.
    S.wanted = false;
    S.me = "";
    $("me").textContent = "";
    setStatus("open", "");
    showLogin();
  }
}

function showLoginError(text) {
  $("login-error").textContent = text;
}

function showLogin() {
  $("login-view").hidden = false;
  $("chat-view").hidden = true;
  $("logout").hidden = true;
  $("login-name").focus();
}

function showChat() {
  $("login-view").hidden = true;
  $("chat-view").hidden = false;
  $("logout").hidden = false;
  updateComposer();
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const name = $("login-name").value.trim();
  const password = $("login-password").value;
  if (!name && !password) {
    showLoginError("Type a name.");
    return;
  }
  S.creds = { name, password };
  S.wanted = true;
  S.me = "";
  showLoginError("");
  if (S.ws && S.ws.readyState === WebSocket.OPEN) login();
  else {
    S.loginQueued = true;
    if (!S.ws) connect();
  }
});

$("logout").addEventListener("click", () => {
  S.wanted = false;
  S.me = S.resume = "";
  S.creds = null;
  S.convs.clear();
  S.current = "";
  clearTimeout(S.retryTimer);
  S.retryTimer = 0;
  S.retries = 0;
  S.loggedIn = false;
  $("me").textContent = "";
  $("messages").replaceChildren();
  showLogin();
  const ws = S.ws;
  if (!ws) return;
  // Close with 1000, then open a fresh connection for the next login.
  setStatus("closing", "");
  ws.onclose = () => {
    if (S.ws !== ws) return;
    S.ws = null;
    connect();
  };
  ws.close(1000);
});

// ---- messages -----------------------------------------------------------

function handle(m) {
  const p = m.ref !== undefined ? S.pending.get(m.ref) : undefined;
  if (p) S.pending.delete(m.ref);
  switch (m.type) {
    case "login_ok": return onLoginOK(m, p);
    case "login_error": return onLoginError(m);
    case "message": return onMessage(m, false);
    case "sent": return onSent(m, p);
    case "history": return onHistory(m);
    case "joined": return onJoined(m, p);
    case "left": return onLeft(m);
    case "who": return onWho(m);
    case "rooms": return onRooms(m);
    case "seen": return onSeen(m, p);
    case "presence": return onPresence(m);
    case "error": return onError(m, p);
    default: return undefined; // newer server: ignore what we do not know
  }
}

// convOf returns the conversation a message belongs to.
function convOf(m) {
  if (m.room) return conv("room", m.room);
  const peer = m.sender === S.me ? m.receiver : m.sender;
  return conv("peer", peer);
}

// onMessage adds a message, unless it is one the page already holds.
function onMessage(m, fromHistory) {
  if (!m.sender || (!m.room && !m.receiver)) return;
  const c = convOf(m);
  if (m.room && typeof m.seq === "number" && (c.lastSeq === null || m.seq > c.lastSeq)) c.lastSeq = m.seq;
  if (typeof m.seq === "number" && c.keys.has("s:" + m.seq)) return;
  if (m.id !== undefined && c.keys.has("i:" + m.id)) return;
  // Our own message coming back (a replay after a drop, or history) before
  // its "sent" reached us: it is the one already shown as sending.
  if (m.sender === S.me) {
    const data = JSON.stringify(m.data);
    const mine = c.msgs.find((x) => x.own && x.id === undefined && JSON.stringify(x.data) === data);
    if (mine) {
      remember(c, m);
      mine.id = m.id;
      mine.seq = m.seq;
      mine.ts = m.ts;
      setMsgStatus(mine, "sent");
      return;
    }
  }
  remember(c, m);
  const msg = {
    id: m.id, seq: m.seq, sender: m.sender, room: m.room, peer: m.room ? undefined : c.name,
    data: m.data, ts: m.ts || Date.now(), offline: !!m.offline, own: m.sender === S.me,
    status: "",
  };
  insert(c, msg);
  if (c.kind === "room" && !fromHistory && !c.members.has(m.sender)) {
    c.members.set(m.sender, { online: true }); // who is asked again now and then
    if (c.key === S.current) renderUsers();
  }
  if (c.key !== S.current && !fromHistory) {
    c.unread++;
    renderConvs();
  }
  if (c.kind === "peer" && !c.listed) {
    c.listed = true;
    renderConvs();
  }
}

function remember(c, m) {
  if (typeof m.seq === "number") c.keys.add("s:" + m.seq);
  if (m.id !== undefined) c.keys.add("i:" + m.id);
}

// before orders messages: by seq when both have one, else by time.
function before(a, b) {
  if (typeof a.seq === "number" && typeof b.seq === "number") return a.seq < b.seq;
  return a.ts < b.ts;
}

function insert(c, msg) {
  let i = c.msgs.length;
  while (i > 0 && before(msg, c.msgs[i - 1])) i--;
  c.msgs.splice(i, 0, msg);
  if (c.key !== S.current) return;
  const list = $("messages");
  const next = c.msgs[i + 1];
  const node = msgNode(msg);
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  if (next && next.el && next.el.parentNode === list) list.insertBefore(node, next.el);
  else list.append(node);
  if (stick || msg.own) list.scrollTop = list.scrollHeight;
}

function text(data) {
  return typeof data === "string" ? data : JSON.stringify(data);
}

function msgNode(msg) {
  const time = new Date(msg.ts);
  const status = el("span", { class: "status" });
  const node = el("li", {
    "data-testid": "message",
    "data-sender": msg.sender,
    "data-room": msg.room,
    "data-peer": msg.peer,
    "data-seq": msg.seq,
    class: "msg" + (msg.own ? " own" : "") + (msg.offline ? " offline" : ""),
  },
  el("div", { class: "meta" },
    el("span", { class: "sender", text: msg.own ? msg.sender + " (you)" : msg.sender }),
    el("time", { datetime: time.toISOString(), title: time.toLocaleString(), text: clock(time) }),
    msg.offline ? el("span", { class: "tag", text: "offline message", title: "kept for you while you were away" }) : null,
    status),
  el("div", { class: "text", text: text(msg.data) }));
  msg.el = node;
  msg.statusEl = status;
  paintStatus(msg);
  return node;
}

const STATUS_TEXT = {
  sending: "sending…",
  sent: "✓",
  delivered: "✓ delivered",
  stored: "✓ stored for when they come online",
  failed: "✗ not sent",
  unsent: "✗ maybe not sent",
};

function setMsgStatus(msg, status, why) {
  msg.status = status;
  msg.why = why || "";
  paintStatus(msg);
}

function paintStatus(msg) {
  if (!msg.el) return;
  if (msg.status) msg.el.dataset.status = msg.status;
  else delete msg.el.dataset.status;
  msg.statusEl.textContent = msg.own ? STATUS_TEXT[msg.status] || "" : "";
  msg.statusEl.title = msg.why || "";
  if (msg.why) msg.statusEl.textContent += ": " + msg.why;
}

function clock(d) {
  const now = new Date();
  const hm = d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  if (d.toDateString() === now.toDateString()) return hm;
  return d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + hm;
}

function note(c, textContent) {
  const n = { note: true, ts: Date.now(), text: textContent };
  c.msgs.push(n);
  if (c.key === S.current) $("messages").append(noteNode(n));
}

function noteNode(n) {
  n.el = el("li", { class: "note", text: n.text });
  return n.el;
}

function onSent(m, p) {
  if (!p || p.kind !== "send") return;
  const c = S.convs.get(p.conv);
  if (c && m.id !== undefined) c.keys.add("i:" + m.id);
  p.msg.id = m.id;
  setMsgStatus(p.msg, m.status === "stored" ? "stored" : c && c.kind === "peer" ? "delivered" : "sent");
}

function onHistory(m) {
  const c = conv("room", m.room);
  for (const raw of m.messages || []) onMessage(raw, true);
  if (m.messages && m.messages.length === 0 && c.lastSeq === null) c.lastSeq = 0;
}

function history(c) {
  send({ type: "history", room: c.name, limit: HISTORY_LIMIT }, { kind: "history" });
}

// ---- rooms --------------------------------------------------------------

function joinRoom(name, opts) {
  const req = { type: "join", room: name };
  const since = opts && opts.since;
  if (typeof since === "number") req.since = since;
  send(req, { kind: "join", room: name, since: typeof since === "number", select: !(opts && opts.quiet) });
}

function onJoined(m, p) {
  const c = conv("room", m.room);
  c.joined = true;
  const seq = m.seq || 0; // the room's last seq; absent: no message yet
  if (c.lastSeq !== null && seq < c.lastSeq) {
    // The room's seq started again (its history was lost, e.g. a restart
    // without chat.history.durable): old seqs mean nothing now.
    for (const k of [...c.keys]) if (k.startsWith("s:")) c.keys.delete(k);
    c.lastSeq = seq;
    note(c, "The server lost this room's history; messages sent while you were away cannot be shown.");
  } else if (m.recovered === false) {
    note(c, m.missed ? m.missed + " message" + (m.missed === 1 ? "" : "s") + " sent while you were away could not be recovered (too old)."
      : "Some messages sent while you were away could not be recovered.");
  }
  if (!(p && p.since) && m.recovered === undefined) {
    // A fresh join: start from the room's current seq, and show recent history.
    if (c.lastSeq === null) c.lastSeq = seq;
    history(c);
  }
  if (p && p.select) select(c.key);
  else renderConvs();
  if (c.key === S.current) who(c);
}

function onLeft(m) {
  const c = S.convs.get("r:" + m.room);
  if (!c) return;
  c.joined = false;
  S.convs.delete(c.key);
  if (S.current === c.key) select(firstRoomKey());
  else renderConvs();
}

function firstRoomKey() {
  if (S.convs.has("r:lobby") && S.convs.get("r:lobby").joined) return "r:lobby";
  for (const c of S.convs.values()) if (c.kind === "room" && c.joined) return c.key;
  for (const c of S.convs.values()) return c.key;
  return "";
}

function onRooms(m) {
  const list = $("all-rooms");
  list.replaceChildren();
  for (const r of m.rooms || []) {
    const b = el("button", { type: "button", class: "link", "data-room": r.name, text: r.name });
    b.addEventListener("click", () => {
      if (S.convs.has("r:" + r.name) && S.convs.get("r:" + r.name).joined) select("r:" + r.name);
      else joinRoom(r.name);
      closeDrawers();
    });
    list.append(el("li", {}, b, el("span", { class: "hint", text: " " + r.members + (r.members === 1 ? " person" : " people") + (r.joined ? ", joined" : "") })));
  }
  if (m.more) list.append(el("li", { class: "hint", text: "and more…" }));
}

$("join-room").addEventListener("keydown", (ev) => {
  if (ev.key !== "Enter") return;
  ev.preventDefault();
  const name = ev.target.value.trim();
  if (!name) return;
  const c = S.convs.get("r:" + name);
  if (c && c.joined) select(c.key);
  else joinRoom(name);
  ev.target.value = "";
  closeDrawers();
});

$("refresh-rooms").addEventListener("click", () => send({ type: "rooms", limit: 100 }, { kind: "rooms" }));
$("directory").addEventListener("toggle", (ev) => {
  if (ev.target.open) send({ type: "rooms", limit: 100 }, { kind: "rooms" });
});

$("leave").addEventListener("click", () => {
  const c = S.convs.get(S.current);
  if (!c) return;
  if (c.kind === "room") send({ type: "leave", room: c.name }, { kind: "leave" });
  else {
    S.convs.delete(c.key);
    select(firstRoomKey());
  }
});

// ---- people -------------------------------------------------------------

function who(c) {
  if (c.kind === "room") send({ type: "who", room: c.name }, { kind: "who" });
  else send({ type: "seen", user: c.name }, { kind: "seen" });
}

function onWho(m) {
  const c = S.convs.get("r:" + m.room);
  if (!c) return;
  const online = new Set(m.users || []);
  for (const [u, st] of c.members) {
    if (!online.has(u) && st.online) c.members.delete(u);
  }
  for (const u of online) c.members.set(u, { online: true });
  if (c.key === S.current) renderUsers();
}

function onSeen(m, p) {
  if (p && p.kind === "probe") return;
  const c = S.convs.get("p:" + m.user);
  if (c) c.members = new Map([[m.user, { online: !!m.online, lastSeen: m.lastSeen }]]);
  for (const r of S.convs.values()) {
    const st = r.members.get(m.user);
    if (st && r.kind === "room" && !m.online) st.lastSeen = m.lastSeen;
  }
  if (c && c.key === S.current) renderUsers();
}

function onPresence(m) {
  const c = S.convs.get("r:" + m.room);
  if (!c) return;
  if (m.reset) {
    who(c);
    return;
  }
  if (m.status === "online") c.members.set(m.user, { online: true });
  else if (m.status === "offline") c.members.set(m.user, { online: false, lastSeen: m.lastSeen });
  else c.members.delete(m.user); // left the room, still online elsewhere
  const peer = S.convs.get("p:" + m.user);
  if (peer && m.status !== "left") peer.members.set(m.user, { online: m.status === "online", lastSeen: m.lastSeen });
  if (c.key === S.current || (peer && peer.key === S.current)) renderUsers();
}

setInterval(() => {
  const c = S.convs.get(S.current);
  if (S.loggedIn && c && !document.hidden) who(c);
}, WHO_REFRESH_MS);

function renderUsers() {
  const c = S.convs.get(S.current);
  const list = $("user-list");
  list.replaceChildren();
  if (!c) return;
  $("people-title").textContent = c.kind === "room" ? "In " + c.name : "Talking with";
  const users = [...c.members.entries()].sort((a, b) =>
    (b[1].online - a[1].online) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [u, st] of users) {
    const state = st.online ? "online" : st.lastSeen ? "last seen " + clock(new Date(st.lastSeen)) : "offline";
    const b = el("button", { type: "button", class: "user", "data-user": u, title: u === S.me ? "you" : "talk to " + u + " in private" },
      el("span", { class: "dot " + (st.online ? "on" : "off"), "aria-hidden": "true" }),
      el("span", { class: "name", text: u === S.me ? u + " (you)" : u }),
      el("span", { class: "hint", text: state }));
    if (u === S.me) b.disabled = true;
    else b.addEventListener("click", () => openPeer(u));
    list.append(el("li", { "data-user": u, "data-presence": st.online ? "online" : "offline" }, b));
  }
  if (!users.length) list.append(el("li", { class: "hint", text: c.kind === "room" ? "nobody else here" : "" }));
}

function openPeer(name) {
  const c = conv("peer", name);
  c.listed = true;
  select(c.key);
  closeDrawers();
}

// ---- view ---------------------------------------------------------------

function select(key) {
  S.current = key;
  const c = S.convs.get(key);
  const list = $("messages");
  list.replaceChildren();
  if (!c) {
    $("conv-title").textContent = "";
    $("conv-sub").textContent = "";
    renderConvs();
    renderUsers();
    return;
  }
  c.unread = 0;
  $("conv-title").textContent = c.kind === "room" ? "#" + c.name : c.name;
  $("conv-sub").textContent = c.kind === "room" ? "room" : "private";
  $("leave").textContent = c.kind === "room" ? "Leave" : "Close";
  for (const m of c.msgs) list.append(m.note ? noteNode(m) : msgNode(m));
  list.scrollTop = list.scrollHeight;
  renderConvs();
  renderUsers();
  updateComposer();
  if (S.loggedIn) who(c);
}

function renderConvs() {
  const rooms = $("room-list");
  const peers = $("peer-list");
  rooms.replaceChildren();
  peers.replaceChildren();
  let total = 0;
  for (const c of S.convs.values()) {
    if (c.kind === "room" && !c.joined) continue;
    if (c.kind === "peer" && !c.listed && c.key !== S.current) continue;
    total += c.unread;
    const attrs = { class: "conv" + (c.key === S.current ? " current" : "") };
    attrs[c.kind === "room" ? "data-room" : "data-peer"] = c.name;
    attrs["data-unread"] = c.unread;
    const b = el("button", { type: "button", "aria-current": c.key === S.current ? "true" : undefined },
      el("span", { class: "name", text: c.kind === "room" ? "#" + c.name : c.name }),
      c.unread ? el("span", { class: "badge", text: String(c.unread), title: c.unread + " unread" }) : null);
    b.addEventListener("click", () => {
      select(c.key);
      closeDrawers();
    });
    (c.kind === "room" ? rooms : peers).append(el("li", attrs, b));
  }
  $("peer-hint").hidden = peers.children.length > 0;
  const t = $("unread-total");
  t.hidden = total === 0;
  t.textContent = String(total);
  document.title = total ? "(" + total + ") chatd" : "chatd";
}

function updateComposer() {
  const ready = S.loggedIn && S.convs.has(S.current);
  $("send").disabled = !ready;
  $("composer").placeholder = ready ? "Message (Enter sends)" : "Not connected";
}

function notice(textContent) {
  $("notice-text").textContent = textContent;
  $("notice").hidden = false;
}
$("notice-close").addEventListener("click", () => { $("notice").hidden = true; });

function onError(m, p) {
  const text = m.error || "error";
  if (p && p.kind === "send") {
    setMsgStatus(p.msg, "failed", text);
  } else if (p && p.kind === "join") {
    notice("Cannot join " + p.room + ": " + text);
    return;
  }
  notice(text);
}

// ---- composer -----------------------------------------------------------

function sendMessage() {
  const box = $("composer");
  const data = box.value;
  const c = S.convs.get(S.current);
  if (!data.trim() || !c || !S.loggedIn) return;
  const msg = {
    sender: S.me, data, ts: Date.now(), own: true, status: "sending",
    room: c.kind === "room" ? c.name : undefined, peer: c.kind === "peer" ? c.name : undefined,
  };
  const req = { type: "message", data };
  if (c.kind === "room") req.room = c.name;
  else req.receiver = c.name;
  if (!send(req, { kind: "send", msg, conv: c.key })) return;
  box.value = "";
  if (c.kind === "peer") c.listed = true;
  insert(c, msg);
  renderConvs();
}

$("composer-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sendMessage();
});

$("composer").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    sendMessage();
  }
});

// ---- narrow screens -----------------------------------------------------

function toggle(id, button) {
  const open = !$(id).classList.contains("open");
  closeDrawers();
  $(id).classList.toggle("open", open);
  $(button).setAttribute("aria-expanded", String(open));
}

function closeDrawers() {
  for (const [id, button] of [["side", "toggle-side"], ["people", "toggle-people"]]) {
    $(id).classList.remove("open");
    $(button).setAttribute("aria-expanded", "false");
  }
}

$("toggle-side").addEventListener("click", () => toggle("side", "toggle-side"));
$("toggle-people").addEventListener("click", () => toggle("people", "toggle-people"));

// ---- start --------------------------------------------------------------

showLogin();
connect();
