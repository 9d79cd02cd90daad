// ffnn serve: the drawing pad, the calls to /api/predict, and what they return drawn on canvases.
"use strict";

const INK_WIDTH = 18;      // pen width on the 280-pixel pad: about MNIST's stroke once fitted into 20x20
const DEBOUNCE_MS = 120;   // wait this long after the last stroke change before asking the server

const $ = (id) => document.getElementById(id);
const state = { models: [], limits: null, strokes: [], drawing: null, timer: null, sent: 0, shown: 0, lastImage: null,
                unit: 0 };

// ------------------------------------------------------------------ drawing pad

function redraw() {
  const pad = $("pad"), ctx = pad.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.strokeStyle = "#000";
  ctx.lineWidth = INK_WIDTH;
  ctx.lineCap = ctx.lineJoin = "round";
  for (const stroke of state.strokes) {
    ctx.beginPath();
    ctx.moveTo(stroke[0].x, stroke[0].y);
    for (const p of stroke) ctx.lineTo(p.x, p.y);
    if (stroke.length === 1) ctx.lineTo(stroke[0].x + 0.1, stroke[0].y);  // a dot
    ctx.stroke();
  }
}

function padPoint(pad, event) {
  const r = pad.getBoundingClientRect();
  return { x: (event.clientX - r.left) * pad.width / r.width, y: (event.clientY - r.top) * pad.height / r.height };
}

function setUpPad() {
  const pad = $("pad");
  pad.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    state.drawing = [padPoint(pad, e)];
    state.strokes.push(state.drawing);
    redraw();
    schedule();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!state.drawing) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of (events.length ? events : [e])) state.drawing.push(padPoint(pad, ev));
    redraw();
    schedule();
  });
  const end = () => { if (state.drawing) { state.drawing = null; schedule(); } };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("undo").addEventListener("click", () => { state.strokes.pop(); redraw(); schedule(); });
  $("clear").addEventListener("click", () => { state.strokes = []; redraw(); schedule(); });
  $("upload").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const limit = state.limits && state.limits.max_upload_bytes;
    if (limit && file.size > limit) {  // refused here: sending it would only get a 413 (or a reset)
      e.target.value = "";
      showNothing();
      message(`${file.name} is ${megabytes(file.size)}, more than the ${megabytes(limit)} the server accepts; ` +
              "choose a smaller image.", true);
      return;
    }
    state.strokes = [];
    redraw();
    state.lastImage = { blob: file, name: file.name };
    send();
    e.target.value = "";
  });
  redraw();
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    if (!state.strokes.length) { state.lastImage = null; showNothing(); return; }
    $("pad").toBlob((blob) => { state.lastImage = { blob, name: "pad.png" }; send(); }, "image/png");
  }, DEBOUNCE_MS);
}

// ------------------------------------------------------------------ the API

async function send() {
  if (!state.lastImage) return;
  const id = ++state.sent;
  const form = new FormData();
  form.append("image", state.lastImage.blob, state.lastImage.name);
  const inspect = $("inspect-model").value;
  let response, body;
  try {
    response = await fetch("/api/predict" + (inspect ? "?inspect=" + encodeURIComponent(inspect) : ""),
                           { method: "POST", body: form });
    body = await response.json();
  } catch (err) {
    if (id === state.sent) message("The server did not answer (" + err.message + ").", true);
    return;
  }
  if (id < state.shown) return;  // an older request answered after a newer one
  state.shown = id;
  if (!response.ok) {
    showNothing();
    message("Could not read " + state.lastImage.name + ": " + (body.error || response.statusText), true);
    return;
  }
  message(state.lastImage.name === "pad.png" ? "Reading your drawing." : "Reading " + state.lastImage.name + ".");
  showPredictions(body.predictions);
  showSteps(body.steps, body.input);
  if (body.hidden) showHidden(body.hidden.layers);
}

function megabytes(bytes) {
  return (bytes / 2 ** 20).toFixed(1) + " MB";
}

function message(text, isError = false) {
  const m = $("message");
  m.textContent = text;
  m.classList.toggle("error", isError);
}

// ------------------------------------------------------------------ answers

function modelCard(m) {
  const card = document.createElement("div");
  card.className = "model";
  card.dataset.model = m.name;
  card.innerHTML = '<h3></h3><div class="digit">?</div><ol class="bars"></ol>';
  card.querySelector("h3").textContent = m.name;
  $("models").appendChild(card);
}

function modelCards() {
  for (const m of state.models) modelCard(m);
}

function showPredictions(predictions) {
  for (const p of predictions) {
    const card = document.querySelector(`.model[data-model="${CSS.escape(p.name)}"]`);
    if (!card) continue;
    card.dataset.prediction = String(p.prediction);
    card.querySelector(".digit").textContent = p.prediction;
    const top = p.probabilities.map((v, k) => [k, v]).sort((a, b) => b[1] - a[1]).slice(0, 3);
    const bars = card.querySelector(".bars");
    bars.replaceChildren(...top.map(([k, v]) => {
      const li = document.createElement("li");
      li.innerHTML = '<span class="k"></span><span class="bar"><span></span></span><span class="v"></span>';
      li.querySelector(".k").textContent = k;
      li.querySelector(".bar span").style.width = (100 * v).toFixed(1) + "%";
      li.querySelector(".v").textContent = (100 * v).toFixed(1) + "%";
      return li;
    }));
  }
}

function showNothing() {
  for (const card of document.querySelectorAll(".model")) {
    delete card.dataset.prediction;
    card.querySelector(".digit").textContent = "?";
    card.querySelector(".bars").replaceChildren();
  }
  for (const id of ["step-gray", "step-crop", "step-fitted", "step-input"]) {
    const c = $(id);
    c.getContext("2d").clearRect(0, 0, c.width, c.height);
  }
  $("hidden").replaceChildren();
}

// ------------------------------------------------------------------ images

// Paint a matrix of values on a canvas, each cell `px` pixels; colour(v) gives [r, g, b].
function paint(canvas, matrix, px, colour) {
  const h = matrix.length, w = matrix[0].length;
  canvas.width = w * px;
  canvas.height = h * px;
  const ctx = canvas.getContext("2d");
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const [r, g, b] = colour(matrix[i][j]);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(j * px, i * px, px, px);
    }
  }
  return ctx;
}

const gray = (v) => { const g = Math.round(255 * Math.min(1, Math.max(0, v))); return [g, g, g]; };
// Blue for negative, white for 0, red for positive, relative to `scale`.
const diverging = (scale) => (v) => {
  const t = Math.min(1, Math.abs(v) / (scale || 1)), fade = Math.round(255 * (1 - t));
  return v < 0 ? [fade, fade, 255] : [255, fade, fade];
};

function showSteps(steps, input) {
  for (const k of ["gray", "crop", "fitted"]) {
    const m = steps[k];
    paint($("step-" + k), m, Math.max(1, Math.floor(112 / Math.max(m.length, m[0].length))), gray);
    $("size-" + k).textContent = `(${steps.sizes[k][0]}x${steps.sizes[k][1]})`;
  }
  const ctx = paint($("step-input"), input, 6, gray);
  const [cy, cx] = steps.center;
  ctx.strokeStyle = "#e33";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo((cx + 0.5) * 6 - 8, (cy + 0.5) * 6); ctx.lineTo((cx + 0.5) * 6 + 8, (cy + 0.5) * 6);
  ctx.moveTo((cx + 0.5) * 6, (cy + 0.5) * 6 - 8); ctx.lineTo((cx + 0.5) * 6, (cy + 0.5) * 6 + 8);
  ctx.stroke();
}

// ------------------------------------------------------------------ inside one network

function showHidden(layers) {
  const box = $("hidden");
  box.replaceChildren(...layers.map((acts, l) => {
    const cols = Math.ceil(Math.sqrt(acts.length)), px = 14;
    const grid = [];
    for (let i = 0; i < acts.length; i += cols) grid.push(acts.slice(i, i + cols).concat(Array(Math.max(0, i + cols - acts.length)).fill(NaN)));
    const lo = Math.min(...acts), hi = Math.max(...acts), scale = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    const colour = (v) => Number.isNaN(v) ? [240, 240, 240] : lo < 0 ? diverging(scale)(v) : gray(v / Math.max(1, hi));
    const fig = document.createElement("figure");
    const canvas = document.createElement("canvas");
    const ctx = paint(canvas, grid, px, colour);
    if (l === 0) {
      ctx.strokeStyle = "#e33";
      ctx.strokeRect((state.unit % cols) * px + 1, Math.floor(state.unit / cols) * px + 1, px - 2, px - 2);
      canvas.classList.add("clickable");
      canvas.addEventListener("click", (e) => {
        const r = canvas.getBoundingClientRect();
        const unit = Math.floor((e.clientY - r.top) / px) * cols + Math.floor((e.clientX - r.left) / px);
        if (unit < acts.length) { selectUnit(unit); showHidden(layers); }
      });
    }
    const cap = document.createElement("figcaption");
    cap.textContent = `hidden layer ${l + 1}: ${acts.length} units`;
    fig.append(canvas, cap);
    return fig;
  }));
}

async function selectUnit(unit) {
  const name = $("inspect-model").value;
  if (!name) return;
  state.unit = unit;
  $("unit").value = unit;
  const response = await fetch(`/api/models/${encodeURIComponent(name)}/weights/${unit}`);
  const body = await response.json();
  if (!response.ok) { message(body.error, true); return; }
  const px = Math.max(1, Math.floor(168 / Math.max(...body.shape)));
  paint($("weights"), body.weights, px, diverging(body.scale));
}

const inspectOption = (m) => new Option(`${m.name} (${m.layer_sizes.join("-")}, ${m.activation})`, m.name);

function setUpInspector() {
  const select = $("inspect-model");
  for (const m of state.models) select.add(inspectOption(m));
  const units = () => (state.models.find((m) => m.name === select.value) || { layer_sizes: [0, 1] }).layer_sizes[1];
  $("unit").max = units() - 1;
  select.addEventListener("change", () => {
    $("unit").max = units() - 1;
    selectUnit(Math.min(state.unit, units() - 1));
    send();
  });
  $("unit").addEventListener("change", (e) => {
    const unit = Math.min(units() - 1, Math.max(0, Number.parseInt(e.target.value, 10) || 0));
    selectUnit(unit);
    send();
  });
  selectUnit(0);
}

// ------------------------------------------------------------------ training runs

function chart(canvas, m) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = 28;
  const train = m.history.accuracy || [], val = m.history.val_accuracy || [];
  const n = Math.max(train.length, val.length);
  ctx.clearRect(0, 0, W, H);
  ctx.strokeStyle = "#999";
  ctx.strokeRect(pad, 4, W - pad - 4, H - pad);
  ctx.fillStyle = "#444";
  ctx.font = "11px sans-serif";
  // The y axis starts at the tenth below the lowest accuracy, so that curves near 100% do not flatten.
  const values = train.concat(val).filter((v) => v !== null);
  const lo = values.length ? Math.floor(10 * Math.min(...values)) / 10 : 0;
  ctx.fillText("100%", 0, 12);
  ctx.fillText(`${Math.round(100 * lo)}%`, 0, H - pad + 4);
  ctx.fillText(`epochs 1-${n}`, pad + 4, H - 8);
  const x = (i) => pad + (n > 1 ? i / (n - 1) : 0.5) * (W - pad - 4);
  const y = (v) => 4 + (1 - (v - lo) / (1 - lo || 1)) * (H - pad);
  for (const [series, colour, dash] of [[train, "#1f77b4", []], [val, "#ff7f0e", [5, 3]]]) {
    ctx.strokeStyle = ctx.fillStyle = colour;
    ctx.setLineDash(dash);
    ctx.beginPath();
    series.forEach((v, i) => { if (v !== null) { if (i === 0) ctx.moveTo(x(i), y(v)); else ctx.lineTo(x(i), y(v)); } });
    ctx.stroke();
    series.forEach((v, i) => { if (v !== null) ctx.fillRect(x(i) - 2, y(v) - 2, 4, 4); });
  }
  ctx.setLineDash([]);
}

function historyFigure(m) {
  const fig = document.createElement("figure");
  const canvas = document.createElement("canvas");
  canvas.width = 260;
  canvas.height = 140;
  const cap = document.createElement("figcaption");
  const acc = m.test_accuracy === null ? "not measured" : (100 * m.test_accuracy).toFixed(2) + "%";
  const run = m.run === m.name ? "" : ` (${m.run})`;
  cap.textContent = `${m.name}${run}: test accuracy ${acc}; train solid, validation dashed`;
  fig.append(canvas, cap);
  $("histories").appendChild(fig);
  chart(canvas, m);
}

function showHistories() {
  for (const m of state.models) historyFigure(m);
}

// A network trained from the page (train.js) joins the others and reads the current drawing too.
function addModel(m) {
  if (state.models.some((known) => known.name === m.name)) return;
  state.models.push(m);
  modelCard(m);
  historyFigure(m);
  $("inspect-model").add(inspectOption(m));
  send();
}

// ------------------------------------------------------------------ start

async function start() {
  setUpPad();
  try {
    const response = await fetch("/api/models");
    state.models = await response.json();
    state.limits = await (await fetch("/api/limits")).json();
  } catch (err) {
    message("Cannot reach the server (" + err.message + ").", true);
    return;
  }
  modelCards();
  setUpInspector();
  showHistories();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
