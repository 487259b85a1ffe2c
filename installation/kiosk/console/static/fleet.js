// The fleet page: every player on the wall's broker, its state and preview; commands to one or all.
"use strict";

const $ = (sel) => document.querySelector(sel);
let perPlayer = false;
const COMMANDS = ["previous", "next", "blackout", "unblackout", "reload"];
let csrf = null;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

async function api(path, options = {}) {
  const opts = { credentials: "same-origin", cache: "no-store", ...options };
  if ((opts.method || "GET") !== "GET") opts.headers = { "X-CSRF-Token": csrf || "" };
  const r = await fetch(path, opts);
  if (r.status === 401) { window.location.href = "/console"; throw new Error("logged out"); }
  return r;
}

async function send(cmd, player, cue) {
  const out = $("#fleet-result");
  out.className = "result";
  out.textContent = cmd + (player ? " to " + player : " to all") + "…";
  try {
    const r = await api("/console/api/fleet/" + cmd + "?player=" + encodeURIComponent(player || "all")
      + (cue ? "&id=" + encodeURIComponent(cue) : ""), { method: "POST" });
    const body = await r.json();
    out.textContent = cmd + ": " + (body.ok ? "sent" : (body.error || "refused"));
    out.className = "result " + (body.ok ? "ok" : "bad");
  } catch (e) {
    out.textContent = cmd + ": " + e;
    out.className = "result bad";
  }
  setTimeout(refresh, 500);
}

function playerCard(p) {
  const card = el("div", null, "player");
  card.dataset.id = p.id;
  const head = el("p");
  head.append(el("strong", p.id + " "));
  head.append(el("span", p.state || "unknown", "badge " + String(p.state || "down").replace(" ", "-")));
  card.append(head);
  if (p.preview) {
    const img = el("img");
    img.alt = "frame of " + p.id;
    img.src = "/console/api/fleet/" + encodeURIComponent(p.id) + "/preview.jpg?n=" + Date.now();
    card.append(img);
  }
  const facts = [];
  if (p.cue) facts.push("cue " + p.cue);
  if (p.fps !== undefined && p.fps !== null) facts.push(Number(p.fps).toFixed(0) + " fps");
  if (p.viewport) facts.push("viewport " + p.viewport);
  if (p.age_seconds !== undefined && p.age_seconds !== null) facts.push("seen " + Math.round(p.age_seconds) + " s ago");
  card.append(el("p", facts.join(" · "), "muted"));
  if (perPlayer) {
    const controls = el("div", null, "controls");
    for (const cmd of COMMANDS) {
      const b = el("button", cmd);
      b.addEventListener("click", () => send(cmd, p.id));
      controls.append(b);
    }
    card.append(controls);
  }
  return card;
}

async function refresh() {
  if (document.hidden) return;
  const r = await api("/console/api/fleet");
  const body = await r.json();
  const box = $("#players");
  box.replaceChildren();
  if (r.status === 404) { $("#fleet-note").textContent = body.error; return; }
  perPlayer = Boolean(body.per_player);
  $("#fleet-note").textContent = (body.error ? "No connection: " + body.error + ". " : "")
    + (body.note || ((body.players || []).length + " player(s)"));
  for (const problem of body.problems || []) box.append(el("p", problem, "bad"));
  for (const p of body.players || []) box.append(playerCard(p));
}

async function start() {
  const s = await (await api("/console/api/session")).json();
  csrf = s.csrf;
  for (const b of document.querySelectorAll("#all-controls button[data-cmd]")) {
    b.addEventListener("click", () => send(b.dataset.cmd, null));
  }
  $("#cue-form").addEventListener("submit", (e) => { e.preventDefault(); send("cue", null, $("#cue-id").value); });
  refresh();
  setInterval(refresh, 3000);
}

start();
