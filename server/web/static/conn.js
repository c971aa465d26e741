// The connection: connect, reconnect with backoff, heartbeat, and the
// login loop (with resume and since after a drop).

import { handle, notice, select, updateComposer } from "./app.js";
import { history, setMsgStatus } from "./messages.js";
import { firstRoomKey, joinRoom } from "./rooms.js";
import { $, BACKOFF_FIRST_MS, BACKOFF_MAX_MS, CLOSE_REASONS, conv, HEARTBEAT_IDLE_MS, HEARTBEAT_WAIT_MS, PROTOCOL, S } from "./state.js";

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

export function connect() {
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

export function send(obj, pending) {
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

// A JWT (its header is base64url JSON, so it starts with "eyJ") goes as
// the token; anything else typed there is a password.
const JWT_RE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

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

export function onLoginOK(m, p) {
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

export function onLoginError(m) {
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

export function showLogin() {
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
