// Rooms and people: join and leave, the room list, who is in a room,
// presence and last seen, private conversations.

import { closeDrawers, renderConvs, select } from "./app.js";
import { send } from "./conn.js";
import { history, note } from "./messages.js";
import { $, clock, conv, el, S, WHO_REFRESH_MS } from "./state.js";

// ---- rooms --------------------------------------------------------------

export function joinRoom(name, opts) {
  const req = { type: "join", room: name };
  const since = opts && opts.since;
  if (typeof since === "number") req.since = since;
  send(req, { kind: "join", room: name, since: typeof since === "number", select: !(opts && opts.quiet) });
}

export function onJoined(m, p) {
  const c = conv("room", m.room);
  c.joined = true;
  const seq = m.seq || 0; // the room's last seq; absent: no message yet
  if (c.lastSeq !== null && seq < c.lastSeq) {
    // The room's seq started again (its history was lost, e.g. a restart
    // without chat.history.durable): old seqs mean nothing now.
    for (const k of [...c.keys]) if (k.startsWith("s:")) c.keys.delete(k);
    c.lastSeq = seq;
    c.floor = 0;
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

export function onLeft(m) {
  const c = S.convs.get("r:" + m.room);
  if (!c) return;
  c.joined = false;
  S.convs.delete(c.key);
  if (S.current === c.key) select(firstRoomKey());
  else renderConvs();
}

export function firstRoomKey() {
  if (S.convs.has("r:lobby") && S.convs.get("r:lobby").joined) return "r:lobby";
  for (const c of S.convs.values()) if (c.kind === "room" && c.joined) return c.key;
  for (const c of S.convs.values()) return c.key;
  return "";
}

export function onRooms(m) {
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

export function who(c) {
  if (c.kind === "room") send({ type: "who", room: c.name }, { kind: "who" });
  else send({ type: "seen", user: c.name }, { kind: "seen" });
}

export function onWho(m) {
  const c = S.convs.get("r:" + m.room);
  if (!c) return;
  const online = new Set(m.users || []);
  for (const [u, st] of c.members) {
    if (!online.has(u) && st.online) c.members.delete(u);
  }
  for (const u of online) c.members.set(u, { online: true });
  if (c.key === S.current) renderUsers();
}

export function onSeen(m, p) {
  if (p && p.kind === "probe") return;
  const c = S.convs.get("p:" + m.user);
  if (c) c.members = new Map([[m.user, { online: !!m.online, lastSeen: m.lastSeen }]]);
  for (const r of S.convs.values()) {
    const st = r.members.get(m.user);
    if (st && r.kind === "room" && !m.online) st.lastSeen = m.lastSeen;
  }
  if (c && c.key === S.current) renderUsers();
}

export function onPresence(m) {
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

export function renderUsers() {
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
