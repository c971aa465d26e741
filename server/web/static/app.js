// chatd's chat page, the entry module. Plain JavaScript modules, no build
// step. docs/PROTOCOL.md is the protocol; server/web/doc.go explains the
// page.
//
// Rule: text from the network reaches the page only through textContent
// (el() in state.js), never as HTML.

import { connect, onLoginError, onLoginOK, showLogin } from "./conn.js";
import { msgNode, noteNode, onHistory, onMessage, onSent, setMsgStatus } from "./messages.js";
import { onJoined, onLeft, onPresence, onRooms, onSeen, onWho, renderUsers, who } from "./rooms.js";
import { $, el, S } from "./state.js";

export function handle(m) {
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

// ---- view ---------------------------------------------------------------

export function select(key) {
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

export function renderConvs() {
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

export function updateComposer() {
  const ready = S.loggedIn && S.convs.has(S.current);
  $("send").disabled = !ready;
  $("composer").placeholder = ready ? "Message (Enter sends)" : "Not connected";
}

export function notice(textContent) {
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

// ---- narrow screens -----------------------------------------------------

function toggle(id, button) {
  const open = !$(id).classList.contains("open");
  closeDrawers();
  $(id).classList.toggle("open", open);
  $(button).setAttribute("aria-expanded", String(open));
}

export function closeDrawers() {
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
