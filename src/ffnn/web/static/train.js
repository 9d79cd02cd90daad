// ffnn serve: the training panel. Starts a job with POST /api/train, watches its Server-Sent Events
// (progress every few batches, each epoch, each diagnosis, done or error), draws them as they come, and
// hands the saved network to app.js's addModel so that it reads the drawing with the others.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
  const NUMBERS = ["learning_rate", "batch_size", "momentum", "epochs", "n_train", "seed"];
  let job = null;  // {id, source, epochs, batches, batch: [...], epoch: [...], layers: [...]}

  // ---------------------------------------------------------------- the form

  function fill(select, values, chosen) {
    select.replaceChildren(...values.map((v) => new Option(v, v, false, v === chosen)));
  }

  function setUpForm(options) {
    const form = byId("train-form"), d = options.defaults;
    fill(form.elements.backend, options.backends, d.backend);
    fill(form.elements.activation, options.activations, d.activation);
    fill(form.elements.loss, options.losses, d.loss);
    fill(form.elements.schedule, options.schedules, d.schedule);
    form.elements.hidden.value = d.layer_sizes.slice(1, -1).join(",");
    for (const name of NUMBERS) form.elements[name].value = d[name] === null ? "" : d[name];
    form.elements.epochs.title = `at most ${options.limits.max_epochs} on this server`;
    form.elements.n_train.title = `at most ${options.limits.max_train} on this server; empty for all`;
    form.elements.hidden.title = `comma-separated; at most ${options.limits.max_width} units a layer on this server`;
    form.addEventListener("submit", (e) => { e.preventDefault(); start(); });
    byId("train-stop").addEventListener("click", stop);
  }

  // What the user typed, as the API's fields: a word that is not a number is sent as it is, so that the
  // server refuses it by name, as it refuses any other bad setting.
  const number = (text) => (text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text.trim());

  function settings() {
    const f = byId("train-form").elements;
    const body = { backend: f.backend.value, activation: f.activation.value, loss: f.loss.value,
                   schedule: f.schedule.value };
    const hidden = f.hidden.value.trim();
    body.layer_sizes = [784, ...(hidden ? hidden.split(",").map(number) : []), 10];
    for (const name of NUMBERS) {
      const text = f[name].value;
      if (text.trim() !== "") body[name] = number(text);
      else if (name === "n_train") body[name] = null;  // all the training images
    }
    return body;
  }

  function status(text, state, isError = false) {
    const s = byId("train-status");
    s.textContent = text;
    if (state) s.dataset.state = state;
    s.classList.toggle("error", isError);
  }

  async function start() {
    for (const el of byId("train-form").querySelectorAll(".invalid")) el.classList.remove("invalid");
    let response, body;
    try {
      response = await fetch("/api/train", { method: "POST", headers: { "Content-Type": "application/json" },
                                             body: JSON.stringify(settings()) });
      body = await response.json();
    } catch (err) {
      status("The server did not answer (" + err.message + ").", null, true);
      return;
    }
    if (!response.ok) {
      outline(body.field);
      status("Not started: " + body.error, null, true);
      return;
    }
    watch(body.id, body.settings);
  }

  // Outline the box of the setting `field` names (a bad one), if the form has it.
  function outline(field) {
    const box = field && byId("train-form").querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (box) box.classList.add("invalid");
  }

  async function stop() {
    if (!job) return;
    byId("train-stop").disabled = true;
    status("Stopping after this batch; the finished epochs are kept and saved.", "stopping");
    await fetch(`/api/train/${encodeURIComponent(job.id)}`, { method: "DELETE" });
  }

  // ---------------------------------------------------------------- the events

  function watch(id, settings) {
    if (job && job.source) job.source.close();
    job = { id, epochs: settings.epochs, batches: 1, batch: [], epoch: [], layers: [] };
    const s = byId("train-status");
    s.dataset.progress = s.dataset.epochs = "0";
    delete s.dataset.name;
    delete s.dataset.runDir;
    byId("train-diagnoses").replaceChildren();
    byId("train-start").disabled = true;
    byId("train-stop").disabled = false;
    status(`Starting ${settings.backend} ${settings.layer_sizes.join("-")}: loading the images...`, "running");
    draw();
    const source = new EventSource(`/api/train/${encodeURIComponent(id)}/events`);
    job.source = source;
    const on = (type, handler) => source.addEventListener(type, (e) => {
      if (e.data === undefined) return;  // the connection dropped: EventSource reconnects by itself
      handler(JSON.parse(e.data));
    });
    on("start", (d) => {
      job.batches = d.batches;
      job.epochs = d.epochs;
      status(`Training ${d.backend} ${d.layer_sizes.join("-")} on ${d.n_train} images (${d.n_val} for validation).`);
    });
    on("progress", (d) => {
      job.batch.push({ x: d.epoch - 1 + d.batch / d.batches, loss: d.loss, accuracy: d.accuracy });
      s.dataset.progress = String(Number(s.dataset.progress) + 1);
      if (s.dataset.state !== "stopping") {
        status(`epoch ${d.epoch}/${job.epochs}, batch ${d.batch}/${d.batches}: loss ${fmt(d.loss)}, ` +
               `accuracy ${pct(d.accuracy)} on the latest batch`);
      }
      draw();
    });
    on("epoch", (d) => {
      job.epoch.push(d);
      s.dataset.epochs = String(job.epoch.length);
      if (d.weights) {
        byId("train-weights").src = d.weights;
        byId("train-weights-epoch").textContent = `epoch ${d.epoch}`;
      }
      draw();
    });
    on("diagnosis", (d) => {
      const li = document.createElement("li");
      li.dataset.code = d.code;
      li.textContent = d.line;
      byId("train-diagnoses").appendChild(li);
    });
    on("done", (d) => {
      finish(d.interrupted ? "stopped" : "done");
      s.dataset.name = d.name;
      s.dataset.runDir = d.run_dir;
      status(`${d.interrupted ? "Stopped after" : "Trained"} ${d.epochs} epoch${d.epochs === 1 ? "" : "s"}: ` +
             `test accuracy ${pct(d.test_accuracy)}. Saved in ${d.run_dir}; it reads your drawing as ${d.name}.`);
      if (typeof addModel === "function") addModel(d.model);
    });
    on("error", (d) => {
      finish("failed");
      outline(d.field);  // a setting only the loaded images could refuse (a validation set too large)
      status("Training failed: " + d.message, null, true);
    });
  }

  function finish(state) {
    job.source.close();
    byId("train-status").dataset.state = state;
    byId("train-start").disabled = false;
    byId("train-stop").disabled = true;
  }

  const pct = (v) => (v === null || v === undefined ? "n/a" : (100 * v).toFixed(1) + "%");
  const fmt = (v) => (v === null || v === undefined ? "n/a" : v.toPrecision(3));

  // ---------------------------------------------------------------- the charts

  // Lines of [x, y] points on a canvas; x from 0 to xMax, y from lo to hi (log10 of y with log: true).
  function lines(canvas, series, { xMax, lo, hi, log = false, label = (v) => v.toPrecision(2) }) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, left = 40, bottom = 18;
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#999";
    ctx.strokeRect(left, 4, W - left - 4, H - bottom - 4);
    ctx.fillStyle = "#444";
    ctx.font = "11px sans-serif";
    const t = (v) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
    const [a, b] = [t(lo), t(hi) === t(lo) ? t(lo) + 1 : t(hi)];
    ctx.fillText(label(hi), 0, 12);
    ctx.fillText(label(lo), 0, H - bottom);
    ctx.fillText(`epochs 0-${xMax}`, left + 4, H - 4);
    const x = (v) => left + (v / (xMax || 1)) * (W - left - 4);
    const y = (v) => 4 + (1 - (t(v) - a) / (b - a)) * (H - bottom - 4);
    let points = 0;
    for (const { data, colour, dash = [], width = 1.5, dots = false } of series) {
      const valid = data.filter(([, v]) => v !== null && v !== undefined && Number.isFinite(v));
      points += valid.length;
      ctx.strokeStyle = ctx.fillStyle = colour;
      ctx.lineWidth = width;
      ctx.setLineDash(dash);
      ctx.beginPath();
      valid.forEach(([u, v], i) => (i ? ctx.lineTo(x(u), y(v)) : ctx.moveTo(x(u), y(v))));
      ctx.stroke();
      if (dots) valid.forEach(([u, v]) => ctx.fillRect(x(u) - 2, y(v) - 2, 4, 4));
    }
    ctx.setLineDash([]);
    ctx.lineWidth = 1;
    return points;
  }

  function range(values, floor = -Infinity) {
    const v = values.filter((u) => u !== null && u !== undefined && Number.isFinite(u));
    return v.length ? [Math.max(floor, Math.min(...v)), Math.max(...v)] : [0, 1];
  }

  function draw() {
    if (!job) return;
    const xMax = job.epochs;
    const batchLoss = job.batch.map((p) => [p.x, p.loss]), batchAcc = job.batch.map((p) => [p.x, p.accuracy]);
    const perEpoch = (key) => job.epoch.map((e) => [e.epoch, e[key]]);
    const [lo, hi] = range([...batchLoss, ...perEpoch("loss"), ...perEpoch("val_loss")].map(([, v]) => v));
    lines(byId("train-loss"), [
      { data: batchLoss, colour: "#9ab", width: 1 },
      { data: perEpoch("loss"), colour: COLOURS[0], dots: true },
      { data: perEpoch("val_loss"), colour: COLOURS[1], dash: [5, 3], dots: true },
    ], { xMax, lo: Math.min(0, lo), hi });
    const accuracies = [...batchAcc, ...perEpoch("accuracy"), ...perEpoch("val_accuracy")].map(([, v]) => v);
    const floor = Math.floor(10 * range(accuracies)[0]) / 10;
    const canvas = byId("train-accuracy");
    canvas.dataset.points = String(lines(canvas, [
      { data: batchAcc, colour: "#9ab", width: 1 },
      { data: perEpoch("accuracy"), colour: COLOURS[0], dots: true },
      { data: perEpoch("val_accuracy"), colour: COLOURS[1], dash: [5, 3], dots: true },
    ], { xMax, lo: floor, hi: 1, label: (v) => Math.round(100 * v) + "%" }));
    drawDynamics();
  }

  function drawDynamics() {
    const grads = job.epoch.map((e) => e.dynamics.grad_norm);
    const n = grads.length ? grads[0].length : 0;
    const series = [];
    for (let l = 0; l < n; l++) {
      series.push({ data: job.epoch.map((e) => [e.epoch, e.dynamics.grad_norm[l]]), colour: COLOURS[l % COLOURS.length],
                    dots: true });
    }
    const [lo, hi] = range(grads.flat(), 1e-12);
    lines(byId("train-dynamics"), series, { xMax: job.epochs, lo, hi, log: true });
    const table = byId("train-layers");
    const last = job.epoch[job.epoch.length - 1];
    if (!last) { table.replaceChildren(); return; }
    const d = last.dynamics, rows = [["layer", "|W|", "|dL/dW|", "saturated"]];
    for (let l = 0; l < n; l++) {
      rows.push([`<span style="color:${COLOURS[l % COLOURS.length]}">${l + 1}</span>`, fmt(d.weight_norm[l]),
                 fmt(d.grad_norm[l]), l < d.saturation.length ? pct(d.saturation[l]) : "output"]);
    }
    table.innerHTML = rows.map((r, i) => "<tr>" + r.map((c) => (i ? `<td>${c}</td>` : `<th>${c}</th>`)).join("") + "</tr>").join("");
  }

  // ---------------------------------------------------------------- start

  async function setUp() {
    try {
      const options = await (await fetch("/api/train/options")).json();
      setUpForm(options);
      // A job already running (started before this page was loaded) is watched from its first event.
      const running = (await (await fetch("/api/train")).json()).filter((j) => !["done", "stopped", "failed"].includes(j.state));
      if (running.length) watch(running[0].id, running[0].settings);
    } catch (err) {
      status("Training is not available (" + err.message + ").", null, true);
      return;
    }
    byId("train").dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();
