// The training run under the dense view: the same network trained in the server with the
// method and without it, side by side, streamed as it goes (GET /api/train?view=dense, server-sent
// events): the decision boundaries over the data and the train and test losses. A new run
// (or leaving the page) aborts the old request, and the server stops training it.

import { OKABE_ITO, OKABE_RGB } from "../colours.js";
import { renderControls } from "../controls.js";
import { element } from "../dom.js";
import { describeChart, loadPlotly } from "../plotly.js";
import { paramQuery } from "../state.js";
import { fmt } from "../stats.js";
import { StreamedTraining } from "./streamed_training.js";

const CLASS_COLOURS = [OKABE_ITO.orange, OKABE_ITO.blue]; // Okabe-Ito orange (class 0) and blue (class 1)
const RUNS = [["dropout", "with the method"], ["baseline", "without dropout"]];

// P(class 1) as a colour: orange below 0.5, blue above, white at 0.5.
function probabilityColour(p) {
  const t = Math.min(1, Math.abs(p - 0.5) * 2);
  const [r, g, b] = p < 0.5 ? OKABE_RGB.orange : OKABE_RGB.blue;
  const mix = (c) => Math.round(255 + (c - 255) * t * 0.55); // light: the points stay visible
  return [mix(r), mix(g), mix(b)];
}

export class TrainingPanel extends StreamedTraining {
  constructor(extra, context) {
    super(context, { probe: { state: "idle", snapshots: 0, step: null, runs: 0, final: null }, probeName: "training" });
    this.showNetwork = element("button", { type: "button", class: "button show-network", text: "Show this network in the diagram" });
    this.showNetwork.addEventListener("click", () => {
      context.setParam("network", "trained", "change");
      window.scrollTo({ top: 0, behavior: "smooth" });
    });
    this.boards = Object.fromEntries(RUNS.map(([id, label]) => {
      const canvas = element("canvas", { class: "boundary", width: 320, height: 320, role: "img", "aria-label": `decision boundary ${label}` });
      const caption = element("figcaption", {}, [element("span", { class: "title", text: label }), " ", element("span", { class: "detail" })]);
      return [id, { canvas, caption, figure: element("figure", { class: "view boundary-figure" }, [caption, canvas]) }];
    }));
    this.chart = element("div", { class: "loss-chart", role: "img", "aria-label": "train and test loss over the steps" });
    this.mount(extra, {
      titleId: "training-title",
      title: "Training: what dropout buys",
      why: "The same network is trained twice on the same few noisy points, from the same initial weights: with the method above "
        + "and without any dropout. Without it, a wide network learns the training points by heart and its test loss climbs; "
        + "with it, the boundary stays smoother and the test loss lower. Trained in the server, step by step; the same setting and seed give the same run.",
      controls: [this.showNetwork],
      figures: [this.boards.dropout.figure, this.boards.baseline.figure],
      after: [
        this.chart,
        element("p", { class: "help", text: "Background: the probability of class 1 (blue) against class 0 (orange). Large dots: the training points; small dots: the test points." }),
      ],
    });
  }

  // The training controls follow the state (a link, back and forward).
  show(state) {
    if (!state) return;
    this.state = state;
    const spec = this.context.viewSpec?.() ?? null;
    const params = (spec?.params ?? []).filter((param) => param.group === "training");
    renderControls(this.form, { methodParams: params, viewParams: [], seedParam: null }, state, (name, value, phase) => {
      this.context.setParam(name, value, phase);
      if (phase === "change" && this.started !== null) this.run(); // the new setting, trained
    }, () => null);
    // A setting changed elsewhere (the method's p, a link, back and forward) gets its run once
    // one was shown, after a pause, so that a drag asks for one run.
    clearTimeout(this.again);
    if (this.started !== null && this.query().toString() !== this.started) {
      this.again = setTimeout(() => {
        if (this.query().toString() !== this.started) this.run();
      }, 400);
    }
  }

  query() {
    const state = this.context.state();
    const query = paramQuery(state);
    for (const name of ["network", "width", "depth"]) query.delete(name); // the diagram's own
    query.set("method", state.method);
    query.set("seed", String(state.seed));
    return query;
  }

  async run() {
    const query = this.query();
    this.history = { steps: [], dropout: { train: [], test: [] }, baseline: { train: [], test: [] } };
    await this.stream(query.toString(), this.trainUrl(query), {
      info: (data) => this.#info(data),
      snapshot: (data) => this.#snapshot(data),
      done: () => this.#done(),
    }, { snapshots: 0, step: null, final: null });
  }

  #info(info) {
    this.info = info;
    this.status.textContent = `Training ${info.steps} steps on ${info.train.x.length} points (test: ${info.test.x.length})…`;
    for (const [id] of RUNS) this.#drawBoard(id, null);
  }

  #snapshot(snapshot) {
    this.probe.snapshots += 1;
    this.probe.step = snapshot.step;
    this.history.steps.push(snapshot.step);
    for (const [id] of RUNS) {
      const run = snapshot[id];
      this.history[id].train.push(run.train_loss);
      this.history[id].test.push(run.test_loss);
      this.#drawBoard(id, run);
      const detail = `step ${snapshot.step}: train loss ${fmt(run.train_loss)}, test loss ${fmt(run.test_loss)}, test accuracy ${(100 * run.test_accuracy).toFixed(0)} %`;
      this.boards[id].caption.querySelector(".detail").textContent = detail;
      this.boards[id].canvas.setAttribute("aria-label", `decision boundary ${RUNS.find(([run]) => run === id)[1]} over the data, ${detail}`);
    }
    this.status.textContent = `Step ${snapshot.step} of ${this.info.steps}…`;
    this.#drawLosses();
  }

  #done() {
    const last = this.history.steps.length - 1;
    const gap = this.history.baseline.test[last] - this.history.dropout.test[last];
    this.probe.state = "done";
    this.probe.final = { dropout: this.history.dropout.test[last], baseline: this.history.baseline.test[last] };
    this.status.textContent = `Done. Final test loss ${fmt(this.history.dropout.test[last])} with the method, ${fmt(this.history.baseline.test[last])} without: `
      + (gap > 0 ? `dropout lowered it by ${fmt(gap)}.` : `no gain here (${fmt(gap)}); try a wider network or fewer points.`);
  }

  // The boundary (P(class 1) on the grid) and the points, y upwards.
  #drawBoard(id, run) {
    const { canvas } = this.boards[id];
    const info = this.info;
    const context = canvas.getContext("2d");
    const size = canvas.width;
    context.clearRect(0, 0, size, size);
    if (run) {
      const grid = run.boundary.length;
      const image = new ImageData(grid, grid);
      run.boundary.forEach((row, gy) => row.forEach((percent, gx) => {
        const [r, g, b] = probabilityColour(percent / 100); // whole percents on the wire
        const k = 4 * ((grid - 1 - gy) * grid + gx); // row 0 is y_min: draw it at the bottom
        image.data.set([r, g, b, 255], k);
      }));
      const tile = document.createElement("canvas");
      tile.width = grid;
      tile.height = grid;
      tile.getContext("2d").putImageData(image, 0, 0);
      context.imageSmoothingEnabled = true;
      context.drawImage(tile, 0, 0, size, size);
    }
    const [x0, x1, y0, y1] = info.extent;
    const at = ([x, y]) => [((x - x0) / (x1 - x0)) * size, (1 - (y - y0) / (y1 - y0)) * size];
    const dots = (points, radius, alpha) => points.x.forEach((point, k) => {
      const [px, py] = at(point);
      context.beginPath();
      context.arc(px, py, radius, 0, 2 * Math.PI);
      context.globalAlpha = alpha;
      context.fillStyle = CLASS_COLOURS[points.y[k]];
      context.fill();
      if (radius > 2) {
        context.strokeStyle = "#111";
        context.lineWidth = 1.2;
        context.stroke();
      }
    });
    dots(info.test, 1.6, 0.45);
    dots(info.train, 4.5, 1);
    context.globalAlpha = 1;
  }

  async #drawLosses() {
    const Plotly = await loadPlotly();
    const style = getComputedStyle(document.documentElement);
    const ink = style.getPropertyValue("--ink").trim() || "#111";
    const grid = style.getPropertyValue("--line").trim() || "#ddd";
    // Copies: Plotly.react redraws only data it sees as new arrays.
    const x = this.history.steps.slice();
    const trace = (id, split, colour, dash, name) => ({
      x, y: this.history[id][split].slice(), type: "scatter", mode: "lines", name, line: { color: colour, dash, width: 2.5 },
    });
    const traces = [
      trace("dropout", "test", OKABE_ITO.blue, "solid", "test loss, with the method"),
      trace("baseline", "test", OKABE_ITO.vermilion, "solid", "test loss, without dropout"),
      trace("dropout", "train", OKABE_ITO.blue, "dot", "train loss, with the method"),
      trace("baseline", "train", OKABE_ITO.vermilion, "dot", "train loss, without dropout"),
    ];
    Plotly.react(this.chart, traces, {
      title: { text: "loss over the training steps (cross-entropy)", x: 0.01, xanchor: "left" },
      margin: { l: 56, r: 16, t: 40, b: 90 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: ink },
      xaxis: { title: { text: "step" }, gridcolor: grid, range: [0, this.info.steps] },
      yaxis: { title: { text: "loss" }, gridcolor: grid, rangemode: "tozero" },
      legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
    }, { displayModeBar: false, responsive: true });
    const last = (id, split) => fmt(this.history[id][split].at(-1));
    describeChart(this.chart, "loss over the training steps (cross-entropy)", traces, x.length === 0 ? "" : `Step ${x.at(-1)} of ${this.info.steps}: `
      + `with the method, train loss ${last("dropout", "train")} and test loss ${last("dropout", "test")}; `
      + `without dropout, train loss ${last("baseline", "train")} and test loss ${last("baseline", "test")}`);
  }
}
