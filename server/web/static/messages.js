// Messages: ordering, deduplication (room+seq, id), rendering as text,
// delivery status of one's own, history, and the composer.

import { renderConvs } from "./app.js";
import { send } from "./conn.js";
import { renderUsers } from "./rooms.js";
import { $, clock, conv, dataText, el, HISTORY_LIMIT, MAX_MESSAGES, S } from "./state.js";

// ---- messages -----------------------------------------------------------

// convOf returns the conversation a message belongs to.
function convOf(m) {
  if (m.room) return conv("room", m.room);
  const peer = m.sender === S.me ? m.receiver : m.sender;
  return conv("peer", peer);
}

// onMessage adds a message, unless it is one the page already holds.
export function onMessage(m, fromHistory) {
  if (!m.sender || (!m.room && !m.receiver)) return;
  const c = convOf(m);
  if (m.room && typeof m.seq === "number" && (c.lastSeq === null || m.seq > c.lastSeq)) c.lastSeq = m.seq;
  if (typeof m.seq === "number" && (c.keys.has("s:" + m.seq) || m.seq <= c.floor)) return;
  if (m.id !== undefined && c.keys.has("i:" + m.id)) return;
  // Our own message coming back (a replay after a drop, or history) before
  // its "sent" reached us: it is the one already shown as sending.
  if (m.sender === S.me) {
    const data = JSON.stringify(m.data);
    const mine = c.msgs.find((x) => x.own && x.id === undefined && x.status !== "failed" && JSON.stringify(x.data) === data);
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
  if (c.key === S.current) {
    const list = $("messages");
    const next = c.msgs[i + 1];
    const node = msgNode(msg);
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (next && next.el && next.el.parentNode === list) list.insertBefore(node, next.el);
    else list.append(node);
    if (stick || msg.own) list.scrollTop = list.scrollHeight;
  }
  trim(c);
}

// trim keeps a conversation to MAX_MESSAGES: a tab left open for days
// holds that many, not all. Room messages at or below the floor, the
// newest seq dropped, are not taken back (a history reply would bring
// them again).
function trim(c) {
  while (c.msgs.length > MAX_MESSAGES) {
    const old = c.msgs.shift();
    if (old.el) old.el.remove();
    if (typeof old.seq === "number") {
      c.keys.delete("s:" + old.seq);
      c.floor = Math.max(c.floor || 0, old.seq);
    }
    if (old.id !== undefined) c.keys.delete("i:" + old.id);
  }
}

export function msgNode(msg) {
  const time = new Date(msg.ts);
  const status = el("span", { class: "status" });
  const node = el("li", {
    "data-testid": "message",
    "data-sender": msg.sender,
    "data-room": msg.room,
    "data-peer": msg.peer,
    "data-seq": msg.seq,
    "data-offline": msg.offline ? "true" : undefined,
    class: "msg" + (msg.own ? " own" : "") + (msg.offline ? " offline" : ""),
  },
  el("div", { class: "meta" },
    el("span", { class: "sender", text: msg.own ? msg.sender + " (you)" : msg.sender }),
    el("time", { datetime: time.toISOString(), title: time.toLocaleString(), text: clock(time) }),
    msg.offline ? el("span", { class: "tag", text: "offline message", title: "kept for you while you were away" }) : null,
    status),
  el("div", { class: "text", text: dataText(msg.data) }));
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

export function setMsgStatus(msg, status, why) {
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

export function note(c, textContent) {
  const n = { note: true, ts: Date.now(), text: textContent };
  c.msgs.push(n);
  if (c.key === S.current) $("messages").append(noteNode(n));
}

export function noteNode(n) {
  n.el = el("li", { class: "note", text: n.text });
  return n.el;
}

export function onSent(m, p) {
  if (!p || p.kind !== "send") return;
  const c = S.convs.get(p.conv);
  if (c && m.id !== undefined) c.keys.add("i:" + m.id);
  p.msg.id = m.id;
  setMsgStatus(p.msg, m.status === "stored" ? "stored" : c && c.kind === "peer" ? "delivered" : "sent");
}

export function onHistory(m) {
  const c = conv("room", m.room);
  for (const raw of m.messages || []) onMessage(raw, true);
  if (m.messages && m.messages.length === 0 && c.lastSeq === null) c.lastSeq = 0;
}

export function history(c) {
  send({ type: "history", room: c.name, limit: HISTORY_LIMIT }, { kind: "history" });
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
