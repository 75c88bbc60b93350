// The bot's dashboard: polls ./status once a second and draws it. No library, no network beyond the
// bot's own endpoint. Values from the document are written with textContent only, never as HTML.
"use strict";

const POLL_MS = 1000;
const HISTORY = 900; // points kept for the chart (15 minutes at one a second)
const history = [];
let token = sessionStorage.getItem("mm_ops_token") || "";
let seeded = false;

const $ = (id) => document.getElementById(id);

function setText(id, value, signed) {
  const el = $(id);
  el.textContent = value === null || value === undefined ? "-" : String(value);
  if (signed) {
    el.classList.toggle("pos", Number(value) > 0);
    el.classList.toggle("neg", Number(value) < 0);
  }
}

// Money for the eye: 2 decimals from 100 up, 4 below (the document keeps every digit; `status --json`).
function money(value) {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return n.toFixed(Math.abs(n) >= 100 ? 2 : 4);
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  if (seconds < 60) return seconds < 10 ? seconds.toFixed(1) + "s" : Math.round(seconds) + "s";
  if (seconds < 3600) return Math.round(seconds / 60) + "m";
  return (seconds / 3600).toFixed(1) + "h";
}

function utc(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function row(cells, className) {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const [text, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "-" : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  return tr;
}

function drawLadder(doc) {
  const body = $("ladder").tBodies[0];
  const price = doc.market.price === null ? null : Number(doc.market.price);
  const rows = [];
  let marked = price === null;
  const marker = () => {
    const tr = row([["price " + doc.market.price]], "marker");
    tr.firstChild.colSpan = 7;
    return tr;
  };
  for (const r of doc.ladder) {
    const at = Number(r.price !== null ? r.price : r.level);
    if (!marked && at <= price) { rows.push(marker()); marked = true; }
    rows.push(row([[r.level], [r.state], [r.side || "", r.side], [r.price], [r.qty], [r.filled], [age(r.age_s)]],
                  "level"));
  }
  if (!marked) rows.push(marker());
  if (!doc.ladder.length) rows.push(row([["no working orders or held levels"]]));
  body.replaceChildren(...rows);
}

function drawFills(doc) {
  const fills = doc.last_fills || [];
  const rows = fills.map((f) => row([[utc(f.time_ms)], [f.side, f.side], [f.price], [f.qty], [f.trade_id]]));
  if (!rows.length) rows.push(row([["no fills yet"]]));
  $("fills").tBodies[0].replaceChildren(...rows);
}

function svg(tag, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function drawChart() {
  const chart = $("chart");
  const w = 600, h = 220, pad = 24;
  const keys = ["realized", "unrealized", "net"];
  let lo = 0, hi = 0;
  for (const p of history) for (const k of keys) { lo = Math.min(lo, p[k]); hi = Math.max(hi, p[k]); }
  if (hi === lo) { hi += 1; lo -= 1; }
  const t0 = history.length ? history[0].t : 0;
  const span = history.length > 1 ? history[history.length - 1].t - t0 : 1;
  const x = (t) => pad + ((t - t0) / span) * (w - 2 * pad);
  const y = (v) => h - pad - ((v - lo) / (hi - lo)) * (h - 2 * pad);
  const parts = [svg("line", { x1: pad, x2: w - pad, y1: y(0), y2: y(0), class: "zero" })];
  for (const k of keys) {
    const points = history.map((p) => x(p.t).toFixed(1) + "," + y(p[k]).toFixed(1)).join(" ");
    parts.push(svg("polyline", { points, class: k }));
  }
  const label = (text, ty) => { const el = svg("text", { x: 2, y: ty }); el.textContent = text; return el; };
  parts.push(label(hi.toFixed(2), pad - 8), label(lo.toFixed(2), h - 6));
  if (history.length > 1) {
    const clock = (ms) => new Date(ms).toISOString().slice(11, 19);
    const span = svg("text", { x: w - 2, y: h - 6, "text-anchor": "end" });
    span.textContent = `${clock(t0)} - ${clock(history[history.length - 1].t)} UTC`;
    parts.push(span);
  }
  chart.replaceChildren(...parts);
}

function draw(doc) {
  const b = doc.bot;
  document.title = `${b.id} ${b.symbol} - market maker`;
  setText("title", `${b.id} | ${b.symbol} ${b.market} | ${b.venue}`);
  $("paused").hidden = !b.paused;
  const health = $("health");
  health.textContent = doc.health.ok ? "healthy" : "unhealthy: " + doc.health.reason;
  health.className = "badge " + (doc.health.ok ? "ok" : "bad");
  setText("updated", "updated " + utc(doc.time_ms));
  for (const k of ["price", "center", "interval", "atr"]) setText(k, doc.market[k]);
  setText("position", doc.position);
  setText("equity", money(doc.equity.equity));
  setText("peak", money(doc.equity.peak));
  setText("drawdown", doc.equity.drawdown_pct === null ? null : doc.equity.drawdown_pct + "%");
  for (const k of ["net", "realized", "unrealized"]) setText(k, money(doc.pnl[k]), true);
  setText("fees", money(doc.pnl.fees));
  setText("round_trips", doc.pnl.round_trips);
  setText("risk", doc.risk.triggered ? "TRIGGERED: " + doc.risk.reasons.join(", ") : "ok");
  const br = doc.risk.breaker;
  setText("breaker", br.tripped ? "HALTED: " + (br.reason || "no reason given") : "ok");
  setText("slots", Object.entries(doc.slots).map(([k, v]) => `${k} ${v}`).join("  "));
  drawLadder(doc);
  drawFills(doc);
  history.push({ t: doc.time_ms, realized: Number(doc.pnl.realized), unrealized: Number(doc.pnl.unrealized),
                 net: Number(doc.pnl.net) });
  if (history.length > HISTORY) history.shift();
  drawChart();
  const o = doc.orders, rl = doc.rate_limit, rec = doc.reconcile;
  const streams = Object.entries(doc.streams).map(([n, s]) => `${n} ${s.connected === false ? "down" : age(s.staleness_s)}`);
  $("footer").textContent =
    `Orders open ${o.open_own} own / ${o.open_foreign} foreign, placed ${o.placed}, cancelled ${o.cancelled},` +
    ` rejected ${o.rejected}, fills ${o.fills}. Streams ${streams.join(", ") || "-"}.` +
    ` Reconcile ${rec.last_ms === null ? "never" : (rec.ok ? "ok" : "FAILED: " + rec.error) + " at " + utc(rec.last_ms)}.` +
    ` Rate limit ${rl.used_weight ?? "-"}/${rl.limit ?? "-"}.`;
}

function headers() {
  return token ? { Authorization: "Bearer " + token } : {};
}

async function poll() {
  try {
    const r = await fetch("status", { headers: headers(), cache: "no-store" });
    if (r.status === 401) {
      $("login").hidden = false;
      $("health").textContent = "needs the ops token";
      $("health").className = "badge warn";
      return;
    }
    $("login").hidden = true;
    if (!seeded) seeded = await seedHistory();
    $("controls").hidden = !token; // the endpoint takes requests only from who holds its token
    if (r.ok) draw(await r.json());
  } catch (err) {
    $("health").textContent = "bot not reachable";
    $("health").className = "badge bad";
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// The bot's own samples (every 5 s, the last hour) seed the chart, so a page opened late has the past.
async function seedHistory() {
  try {
    const r = await fetch("history", { headers: headers(), cache: "no-store" });
    if (!r.ok) return false;
    const doc = await r.json();
    const past = doc.pnl.map((p) => ({ t: p.time_ms, realized: Number(p.realized),
                                       unrealized: Number(p.unrealized), net: Number(p.net) }));
    history.unshift(...past.filter((p) => !history.length || p.t < history[0].t));
    return true;
  } catch (err) {
    return false;
  }
}

async function control(what) {
  const r = await fetch(what, { method: "POST", headers: headers() });
  $("control_result").textContent = (await r.text()).trim();
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("mm_ops_token", token);
});
$("pause").addEventListener("click", () => control("pause"));
$("resume").addEventListener("click", () => control("resume"));
poll();
