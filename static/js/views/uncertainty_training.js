// The training run under the uncertainty view: the network that Monte Carlo dropout samples
// from, trained with dropout in the server and streamed as it goes (GET /api/train?view=uncertainty,
// server-sent events): the Monte Carlo estimate of a few passes at each snapshot, over the
// data, and the train and test losses. The view above draws the network at the end of this
// same run (same setting and seed: the server trains it once). A new run (or leaving the page)
// aborts the old request, and the server stops training it.

import { OKABE_RGB } from "../colours.js";
import { renderControls } from "../controls.js";
import { element } from "../dom.js";
import { describeChart, loadPlotly } from "../plotly.js";
import { paramQuery } from "../state.js";
import { fmt } from "../stats.js";
import { StreamedTraining } from "./streamed_training.js";
import { COLOURS, baseLayout, bandTraces, themeColours } from "./uncertainty_charts.js";

const CONFIG = { displayModeBar: false, responsive: true };
// What the run depends on (T changes the passes drawn above, not the network).
const NOT_TRAINING = new Set(["T"]);

// P(class 1) as a colour: orange below 0.5, blue above, white at 0.5 (as the dense view's).
function probabilityColour(p) {
  const t = Math.min(1, Math.abs(p - 0.5) * 2);
  const [r, g, b] = p < 0.5 ? OKABE_RGB.orange : OKABE_RGB.blue;
  const mix = (c) => Math.round(255 + (c - 255) * t * 0.55);
  return [mix(r), mix(g), mix(b)];
}

export class UncertaintyTraining extends StreamedTraining {
  constructor(extra, context) {
    super(context, { probe: { state: "idle", snapshots: 0, step: null, runs: 0, final: null, task: null }, probeName: "training" });
    this.fitCaption = element("figcaption", {}, [element("span", { class: "title", text: "the network as it trains" }), " ", element("span", { class: "detail" })]);
    this.fit = element("div", { class: "unc-chart unc-fit", role: "img", "aria-label": "the Monte Carlo estimate of the network as it trains" });
    this.board = element("canvas", { class: "boundary unc-board", width: 320, height: 320, role: "img", "aria-label": "the averaged decision boundary as the network trains", hidden: true });
    this.chart = element("div", { class: "unc-chart unc-loss", role: "img", "aria-label": "train and test loss over the steps" });
    this.mount(extra, {
      className: "unc-training",
      titleId: "unc-training-title",
      title: "Training: the network the passes sample",
      why: "One network with dropout, trained in the server on the training points: full-batch Adam on the loss of Gal's code, "
        + "the mean squared error (or the cross-entropy) plus λ Σ‖W‖². Each snapshot shows the Monte Carlo estimate of a few passes. "
        + "The view above draws this network at the end of the run: the same setting and seed give the same network, trained once.",
      gridClass: "unc-training-grid",
      figures: [
        element("figure", { class: "view unc-figure" }, [this.fitCaption, this.fit, this.board]),
        element("figure", { class: "view unc-figure" }, [
          element("figcaption", {}, [element("span", { class: "title", text: "loss over the steps" })]),
          this.chart,
        ]),
      ],
    }); // a trained setting replays at once
  }

  // The training controls follow the state; a run already shown follows the setting.
  show(state) {
    if (!state) return;
    const spec = this.context.viewSpec?.() ?? null;
    const params = (spec?.params ?? []).filter((param) => param.group === "training");
    const regression = state.params.task !== "classification";
    renderControls(this.form, { methodParams: params, viewParams: [], seedParam: null }, state, (name, value, phase) => {
      this.context.setParam(name, value, phase);
    }, () => null);
    // Every setting stays in the URL and on the page; the one this task does not use is shown
    // disabled, with the task it belongs to (the data set is classification's, the
    // length-scale regression's).
    const [inactive, owner] = regression ? ["dataset", "classification"] : ["lengthscale", "regression"];
    const box = this.form.querySelector(`[data-param="${inactive}"]`)?.closest(".control");
    if (box) {
      box.classList.add("inactive");
      for (const field of box.querySelectorAll("input, select")) field.disabled = true;
      box.append(element("p", { class: "help", text: `Used by the ${owner} task.` }));
    }
    if (this.started !== null && this.key(state) !== this.started) this.run(state);
  }

  key(state) {
    const query = paramQuery(state);
    for (const name of NOT_TRAINING) query.delete(name);
    query.set("seed", String(state.seed));
    return query.toString();
  }

  async run(state = this.context.state()) {
    const query = paramQuery(state);
    query.set("method", state.method);
    query.set("seed", String(state.seed));
    this.history = { steps: [], train: [], test: [] };
    await this.stream(this.key(state), this.trainUrl(query), {
      info: (data) => this.#info(data),
      snapshot: (data) => this.#snapshot(data),
      done: () => this.#done(),
    }, { snapshots: 0, step: null, final: null, task: state.params.task });
  }

  #info(info) {
    this.info = info;
    const regression = info.task === "regression";
    this.fit.hidden = !regression;
    this.board.hidden = regression;
    this.status.textContent = `Training ${info.steps} steps on ${info.train.x.length} points…`;
    this.history = { steps: [], train: [], test: [] };
  }

  #snapshot(snapshot) {
    this.probe.snapshots += 1;
    this.probe.step = snapshot.step;
    this.history.steps.push(snapshot.step);
    this.history.train.push(snapshot.train_loss);
    this.history.test.push(snapshot.test_loss);
    const loss = this.info.task === "regression" ? "mean squared error" : "cross-entropy";
    const accuracy = snapshot.test_accuracy === null ? "" : `, test accuracy ${(100 * snapshot.test_accuracy).toFixed(0)} %`;
    this.fitCaption.querySelector(".detail").textContent = `step ${snapshot.step}: ${loss} ${fmt(snapshot.train_loss)} (train), ${fmt(snapshot.test_loss)} (test)${accuracy}`;
    if (this.info.task !== "regression") {
      this.board.setAttribute("aria-label", `the probability of class 1 averaged over ${this.info.snapshot_passes} passes, over the training points, at step ${snapshot.step} of ${this.info.steps}${accuracy}`);
    }
    this.status.textContent = `Step ${snapshot.step} of ${this.info.steps}…`;
    this.last = snapshot;
    this.#drawSoon();
  }

  #done() {
    const last = this.history.steps.length - 1;
    this.probe.state = "done";
    this.probe.final = { train: this.history.train[last], test: this.history.test[last] };
    this.status.textContent = `Done: ${this.info.steps} steps. The view above samples this network.`;
    this.#drawSoon();
  }

  // Snapshots may arrive faster than Plotly draws (a replayed run arrives at once): draw the
  // latest at the next animation frame.
  #drawSoon() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      this.#draw();
    });
  }

  async #draw() {
    const Plotly = await loadPlotly();
    const info = this.info;
    const snapshot = this.last;
    if (!info || !snapshot || !this.section.isConnected) return;
    const { grid } = themeColours();
    const loss = info.task === "regression" ? "mean squared error" : "cross-entropy";
    const now = `Step ${snapshot.step} of ${info.steps}: ${loss} ${fmt(snapshot.train_loss)} on the training points, ${fmt(snapshot.test_loss)} on the test points`;
    if (info.task === "regression") {
      const tauInverse = info.tau_inverse ?? 0;
      const std = snapshot.std.map((s) => Math.sqrt(s * s + tauInverse));
      const mean = bandTraces(info.grid, snapshot.mean, std, { name: `mean of ${info.snapshot_passes} passes`, bandName: "± 2 sd" });
      const truth = { x: info.grid, y: info.truth, type: "scatter", mode: "lines", line: { color: COLOURS.truth, width: 2, dash: "dash" }, name: "the truth" };
      Plotly.react(this.fit, [
        ...mean,
        truth,
        { x: info.train.x.map((r) => r[0]), y: info.train.y.map((r) => r[0]), type: "scatter", mode: "markers", marker: { color: themeColours().ink, size: 6 }, name: "training points" },
      ], baseLayout({
        xaxis: { range: [info.grid[0], info.grid[info.grid.length - 1]], gridcolor: grid, zeroline: false },
        yaxis: { range: [-3, 3], gridcolor: grid, zeroline: false },
        shapes: [{ type: "rect", xref: "x", yref: "paper", x0: info.gap[0], x1: info.gap[1], y0: 0, y1: 1, fillcolor: "rgba(120,120,120,0.13)", line: { width: 0 }, layer: "below" }],
        showlegend: true,
        legend: { orientation: "h", x: 0, y: -0.12, yanchor: "top" },
        margin: { l: 40, r: 8, t: 6, b: 56 },
      }), CONFIG);
      describeChart(this.fit, "the Monte Carlo estimate of the network as it trains", [mean[2], truth],
        `${now}; the mean of ${info.snapshot_passes} passes with a band of ± 2 sd, over ${info.train.x.length} training points with a gap from x = ${info.gap[0]} to ${info.gap[1]}`);
    } else {
      this.#drawBoard(snapshot);
    }
    const losses = [
      { x: this.history.steps.slice(), y: this.history.test.slice(), type: "scatter", mode: "lines", line: { color: COLOURS.wrong, width: 2.5 }, name: "test loss" },
      { x: this.history.steps.slice(), y: this.history.train.slice(), type: "scatter", mode: "lines", line: { color: COLOURS.mean, width: 2.5, dash: "dot" }, name: "train loss" },
    ];
    Plotly.react(this.chart, losses, baseLayout({
      xaxis: { title: { text: "step", standoff: 2 }, gridcolor: grid, range: [0, info.steps] },
      yaxis: { title: { text: info.task === "regression" ? "mean squared error" : "cross-entropy" }, gridcolor: grid, rangemode: "tozero" },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: -0.25, yanchor: "top" },
      margin: { l: 52, r: 8, t: 6, b: 64 },
    }), CONFIG);
    describeChart(this.chart, `train and test loss (${loss}) over the steps`, losses, now);
  }

  // The averaged boundary (P(class 1) on the grid) and the points, y upwards.
  #drawBoard(snapshot) {
    const canvas = this.board;
    const info = this.info;
    const context = canvas.getContext("2d");
    const size = canvas.width;
    const grid = snapshot.boundary.length;
    const image = new ImageData(grid, grid);
    snapshot.boundary.forEach((row, gy) => row.forEach((percent, gx) => {
      const [r, g, b] = probabilityColour(percent / 100);
      image.data.set([r, g, b, 255], 4 * ((grid - 1 - gy) * grid + gx));
    }));
    const tile = document.createElement("canvas");
    tile.width = grid;
    tile.height = grid;
    tile.getContext("2d").putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(tile, 0, 0, size, size);
    const [x0, x1, y0, y1] = info.extent;
    info.train.x.forEach(([x, y], k) => {
      context.beginPath();
      context.arc(((x - x0) / (x1 - x0)) * size, (1 - (y - y0) / (y1 - y0)) * size, 4.5, 0, 2 * Math.PI);
      context.fillStyle = info.train.y[k] === 0 ? COLOURS.class0 : COLOURS.class1;
      context.fill();
      context.strokeStyle = "#111";
      context.lineWidth = 1.2;
      context.stroke();
    });
  }
}
