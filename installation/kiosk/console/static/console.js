// The show console (docs/console.md). Plain JavaScript, no libraries: polls /status, the preview and the log,
// sends controls and uploads with the session's CSRF token. Text from the kiosk is always set as text, never
// as HTML.
"use strict";

const $ = (sel) => document.querySelector(sel);
const FILE_LINE = /([^\s:'"]+\.ya?ml:\d+)/g;
let csrf = null;
let settings = { preview_seconds: 2 };
let cues = [];
let logSeq = 0;
let lastStatus = null;
let previewBusy = false;

async function api(path, options = {}) {
  const opts = { credentials: "same-origin", cache: "no-store", ...options };
  if ((opts.method || "GET") !== "GET") {
    opts.headers = { ...(opts.headers || {}), "X-CSRF-Token": csrf || "" };
  }
  const response = await fetch(path, opts);
  if (response.status === 401) {
    window.location.href = "/console";
    throw new Error("logged out");
  }
  return response;
}

function isJson(response) {
  return (response.headers.get("Content-Type") || "").startsWith("application/json");
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

// a line of text with every FILE:LINE shown apart
function withPlaces(text) {
  const span = el("span");
  let last = 0;
  for (const m of String(text).matchAll(FILE_LINE)) {
    span.append(document.createTextNode(text.slice(last, m.index)));
    span.append(el("code", m[0], "where"));
    last = m.index + m[0].length;
  }
  span.append(document.createTextNode(String(text).slice(last)));
  return span;
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString();
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  let s = Math.round(seconds);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return (d ? d + " d " : "") + (d || h ? h + " h " : "") + (d || h || m ? m + " min " : "") + s + " s";
}

// ---- state -------------------------------------------------------------------------------------------

function renderStatus(st) {
  lastStatus = st;
  const badge = $("#state");
  badge.textContent = st.state + (st.open === false ? " (closed)" : "");
  badge.className = "badge " + st.state.replace(" ", "-");
  $("#cue").textContent = st.cue || "–";
  const index = cues.findIndex((c) => c.id === st.cue);
  const next = index >= 0 && cues.length ? cues[(index + 1) % cues.length] : null;
  $("#next-cue").textContent = next ? "next: " + next.id : "";
  for (const li of document.querySelectorAll("#cues li")) {
    li.classList.toggle("current", li.dataset.id === st.cue);
  }
  const facts = [
    ["Show", st.show],
    ["Playing for", duration(st.player_uptime_seconds)],
    ["Kiosk up", duration(st.uptime_seconds)],
    ["Restarts", st.restarts + (st.recent_failures ? ` (${st.recent_failures} recent failures)` : "")],
    ["Frames per second", Number(st.fps).toFixed(1)],
    ["Frame time", `${Number(st.frame_time_p50_ms).toFixed(1)} ms typical, ${Number(st.frame_time_p99_ms).toFixed(1)} ms worst 1%`],
    ["Dropped frames", `${st.dropped_frames} now, ${st.dropped_frames_total} in all`],
    ["Memory", st.rss_bytes ? (st.rss_bytes / 1048576).toFixed(0) + " MB" : "–"],
    ["Camera", st.camera && st.camera.state !== "none" ? st.camera.state + (st.camera.last_error ? ": " + st.camera.last_error : "") : "not used by this cue"],
    ["Images failing", st.media ? String(st.media.failing) : "0"],
    ["Fallbacks", Object.keys(st.fallbacks || {}).length ? Object.entries(st.fallbacks).map(([k, v]) => k + ": " + v).join("; ") : "none"],
    ["Opening hours", hours(st)],
    ["Daily restart", st.daily_restart ? "at " + st.daily_restart.at + (st.daily_restart.next ? ", next " + st.daily_restart.next : "") : "off"],
    ["Last good version", st.last_good && st.last_good.saved ? "saved " + st.last_good.saved + (st.last_good.trial ? " (a new version is on trial)" : "") : "–"],
    ["Reloads", st.reloads + (st.last_reload ? (st.last_reload.ok ? " (last one ok)" : " (last one refused: " + st.last_reload.error + ")") : "")],
  ];
  if (st.safe_mode) facts.unshift(["SAFE MODE", "the show failed repeatedly; a holding screen plays and the show is retried"]);
  const dl = $("#facts");
  dl.replaceChildren();
  for (const [k, v] of facts) {
    dl.append(el("dt", k));
    const dd = el("dd");
    dd.append(withPlaces(v));
    dl.append(dd);
  }
  const ul = $("#errors");
  ul.replaceChildren();
  const errors = (st.last_errors || []).slice().reverse();
  if (!errors.length) ul.append(el("li", "none", "muted"));
  for (const e of errors) {
    const li = el("li", null, e.level === "info" ? "ok" : "error");
    li.append(el("span", clock(e.time), "when"));
    li.append(withPlaces(e.message));
    ul.append(li);
  }
}

function hours(st) {
  const s = st.schedule;
  if (!s) return "always open (no schedule)";
  const next = s.next_change ? new Date(s.next_change).toLocaleString() : "never";
  return (s.open ? "open; closes " : "closed; opens ") + next + (s.timezone ? " (" + s.timezone + ")" : "");
}

async function refreshStatus() {
  try {
    const r = await api("/status");
    if (r.ok) renderStatus(await r.json());
  } catch (e) { /* the next poll tries again */ }
}

// ---- preview -----------------------------------------------------------------------------------------

let previewCount = 0;
function refreshPreview() {
  if (previewBusy || document.hidden) return;
  previewBusy = true;
  const img = new Image();
  img.onload = () => {
    $("#preview").src = img.src;
    $("#preview").dataset.count = String(++previewCount);
    $("#preview-note").textContent = "updated " + new Date().toLocaleTimeString();
    previewBusy = false;
  };
  img.onerror = () => {
    $("#preview-note").textContent = "no frame right now (the player is starting or restarting)";
    previewBusy = false;
  };
  img.src = "/console/preview.jpg?n=" + Date.now();
}

// ---- cues and controls -------------------------------------------------------------------------------

async function loadShow() {
  const r = await api("/console/api/show");
  const info = await r.json();
  cues = info.cues || [];
  if (info.name) { $("#show-name").textContent = info.name; document.title = info.name + " – console"; }
  const ol = $("#cues");
  ol.replaceChildren();
  for (const c of cues) {
    const li = el("li");
    li.dataset.id = c.id;
    const b = el("button");
    b.append(el("span", c.id));
    const meta = [c.scene, c.duration ? c.duration + " s" : null, c.follow].filter(Boolean).join(" · ");
    b.append(el("span", meta, "meta"));
    b.addEventListener("click", () => control("cue/" + encodeURIComponent(c.id), "cue " + c.id));
    li.append(b);
    ol.append(li);
  }
  const select = $("#collection");
  select.replaceChildren();
  for (const c of info.collections || []) {
    const o = el("option", c.name + " (" + c.path + ")");
    o.value = String(c.index);
    select.append(o);
  }
  $("#media-section").hidden = !(info.collections || []).length;
  if (lastStatus) renderStatus(lastStatus);
}

async function control(cmd, label) {
  const out = $("#control-result");
  out.className = "result";
  out.textContent = (label || cmd) + "…";
  const buttons = document.querySelectorAll(".controls button, #cues button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const r = await api("/control/" + cmd, { method: "POST" });
    const body = isJson(r) ? await r.json() : { control: { error: await r.text() } };
    const c = body.control || {};
    if (r.ok) {
      out.textContent = (label || cmd) + ": done";
      out.className = "result ok";
    } else {
      out.textContent = "";
      out.append(withPlaces((label || cmd) + ": " + (c.error || r.statusText || r.status)));
      out.className = "result bad";
    }
    if (cmd === "reload") loadShow();
    setTimeout(refreshStatus, 150);
    setTimeout(() => { previewBusy = false; refreshPreview(); }, settings.preview_seconds * 1000 + 100);
  } catch (e) {
    out.textContent = (label || cmd) + ": " + e;
    out.className = "result bad";
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---- uploads -------------------------------------------------------------------------------------------

function showResult(box, body) {
  box.replaceChildren();
  const ok = body.ok;
  box.className = "result " + (ok ? "ok" : "bad");
  box.append(el("p", ok ? (body.note || "done") : "Not used: " + (body.note || "the file has problems")));
  if (body.errors && body.errors.length) {
    const ul = el("ul", null, "errors");
    for (const e of body.errors) {
      const li = el("li");
      li.append(withPlaces(e));
      ul.append(li);
    }
    box.append(ul);
  }
}

async function uploadShow() {
  const file = $("#show-file").files[0];
  const box = $("#show-result");
  if (!file) { box.textContent = "Choose a file first."; return; }
  box.className = "result";
  box.textContent = "Checking " + file.name + "…";
  $("#upload-show").disabled = true;
  try {
    const r = await api("/console/api/show", { method: "POST", body: await file.arrayBuffer(),
      headers: { "Content-Type": "application/x-yaml" } });
    const body = isJson(r) ? await r.json()
      : { ok: false, errors: [await r.text()] };
    showResult(box, body);
    if (body.ok) { loadShow(); refreshStatus(); }
  } catch (e) {
    box.textContent = "Upload failed: " + e;
  } finally {
    $("#upload-show").disabled = false;
  }
}

async function uploadMedia() {
  const files = Array.from($("#media-files").files);
  const out = $("#media-result");
  out.replaceChildren();
  const collection = $("#collection").value;
  for (const file of files) {
    const li = el("li", file.name + ": checking…");
    out.append(li);
    try {
      const r = await api("/console/api/media?collection=" + encodeURIComponent(collection) + "&name="
        + encodeURIComponent(file.name), { method: "POST", body: await file.arrayBuffer(),
        headers: { "Content-Type": "application/octet-stream" } });
      const body = isJson(r) ? await r.json()
        : { ok: false, errors: [await r.text()] };
      li.textContent = body.ok ? body.note : body.errors.join("; ");
      li.className = body.ok ? "ok" : "bad";
    } catch (e) {
      li.textContent = file.name + ": " + e;
      li.className = "bad";
    }
  }
}

// ---- log ---------------------------------------------------------------------------------------------

async function refreshLog() {
  if (document.hidden) return;
  try {
    const r = await api("/console/api/log?after=" + logSeq);
    const body = await r.json();
    const ul = $("#log");
    const stick = ul.scrollTop + ul.clientHeight >= ul.scrollHeight - 8;
    for (const line of body.lines) {
      const li = el("li", null, line.level);
      li.append(el("span", clock(line.time), "when"));
      li.append(withPlaces(line.message));
      ul.append(li);
      logSeq = Math.max(logSeq, line.seq);
    }
    while (ul.children.length > 300) ul.firstChild.remove();
    if (stick) ul.scrollTop = ul.scrollHeight;
  } catch (e) { /* the next poll tries again */ }
}

// ---- start -----------------------------------------------------------------------------------------------

async function start() {
  const r = await api("/console/api/session");
  const s = await r.json();
  csrf = s.csrf;
  settings = s;
  $("#fleet-link").hidden = !s.fleet;
  for (const b of document.querySelectorAll(".controls button[data-cmd]")) {
    b.addEventListener("click", () => control(b.dataset.cmd));
  }
  $("#upload-show").addEventListener("click", uploadShow);
  $("#upload-media").addEventListener("click", uploadMedia);
  await loadShow();
  refreshStatus();
  refreshPreview();
  refreshLog();
  setInterval(() => { if (!document.hidden) refreshStatus(); }, 1000);
  setInterval(refreshPreview, Math.max(1, s.preview_seconds) * 1000);
  setInterval(refreshLog, 3000);
  setInterval(loadShow, 30000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) { refreshStatus(); refreshPreview(); } });
}

start();
