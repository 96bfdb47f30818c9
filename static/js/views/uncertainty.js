// The uncertainty view (Monte Carlo dropout, Gal & Ghahramani 2016): a small network trained
// with dropout in the server, then T stochastic passes per iteration. Regression: the passes
// as faint curves, the predictive mean and the band of ±2 predictive standard deviations
// (τ⁻¹ plus the passes' variance), wider far from the data. Classification: the averaged
// P(class 1), the predictive entropy and the mutual information as heatmaps. Under them, the
// estimate settling as passes are added, and the common mistakes of "use dropout at test
// time"; the training run below (uncertainty_training.js). Every number arrives computed.

import { OKABE_RGB } from "../colours.js";
import { element, linkViewStyles } from "../dom.js";
import { describeChart, loadPlotly } from "../plotly.js";
import { fmt } from "../stats.js";
import { share as percent } from "./titles.js";
import { COLOURS, bandTraces, baseLayout, contrast, themeColours } from "./uncertainty_charts.js";
import { UncertaintyTraining } from "./uncertainty_training.js";

const wrongFill = () => `rgba(${OKABE_RGB.vermilion.join(", ")}, ${contrast() ? 0.35 : 0.16})`;
const gapFill = () => `rgba(120, 120, 120, ${contrast() ? 0.32 : 0.13})`;
// P(class 1): orange (class 0) to white to blue (class 1), lightened so that the training
// points, in the full colours, stand out on it.
const PROBABILITY_SCALE = [[0, "#f1ca73"], [0.5, "#ffffff"], [1, "#73c0d5"]];
const CONFIG = { displayModeBar: false, responsive: true };


// The values of a `bytes` array (app/wire.py): channel c of unit k is bytes[k] / 255 * scale[c].
function channel(array, c) {
  const [, h, w] = array.shape;
  const units = h * w;
  const out = new Float64Array(units);
  for (let k = 0; k < units; k += 1) out[k] = (array.bytes[c * units + k] / 255) * array.scale[c];
  return out;
}

// Rows of a (G, G) map as nested arrays (row 0 is y_min, drawn at the bottom by Plotly).
function rows(values, size) {
  return Array.from({ length: size }, (_, i) => Array.from(values.subarray(i * size, (i + 1) * size)));
}

// The passes as ONE trace: each curve, then a gap (null), so Plotly draws one path.
function passTrace(frame, theory) {
  const passes = frame.passes;
  const [, count, points] = passes.shape;
  const low = theory.y_range[0];
  const x = [];
  const y = [];
  for (let t = 0; t < count; t += 1) {
    for (let k = 0; k < points; k += 1) {
      x.push(theory.grid[k]);
      y.push(low + (passes.bytes[t * points + k] / 255) * passes.scale[0]);
    }
    x.push(null);
    y.push(null);
  }
  return {
    x, y, type: "scatter", mode: "lines", hoverinfo: "skip",
    line: { color: COLOURS.pass, width: 1 }, opacity: count > 30 ? 0.35 : 0.6,
    name: count < theory.T ? `passes (${count} of T = ${theory.T} drawn)` : `passes (T = ${theory.T})`,
  };
}


export function pointsTrace(theory) {
  return {
    x: theory.train.x.map((row) => row[0]), y: theory.train.y.map((row) => row[0]), type: "scatter", mode: "markers",
    marker: { color: themeColours().ink, size: 6, line: { color: contrast() ? "#000000" : "#ffffff", width: 1 } }, name: `training points (${theory.n_train})`,
  };
}

function gapShape(theory) {
  return {
    type: "rect", xref: "x", yref: "paper", x0: theory.gap[0], x1: theory.gap[1], y0: 0, y1: 1,
    fillcolor: gapFill(), line: { width: 0 }, layer: "below",
  };
}

// A legend entry for the shaded gap (shapes have none).
function gapLegend() {
  return { x: [null], y: [null], type: "scatter", mode: "markers", marker: { symbol: "square", size: 14, color: gapFill(), line: { color: "#888", width: 1 } }, name: "no training points" };
}

// The figures of a task, built once and refilled on every frame.
function figure(title, className, label) {
  const chart = element("div", { class: `unc-chart ${className}`, role: "img", "aria-label": label });
  const caption = element("figcaption", {}, [element("span", { class: "title", text: title }), " ", element("span", { class: "detail" })]);
  return { chart, caption, label, node: element("figure", { class: `view unc-figure ${className}-figure` }, [caption, chart]) };
}

function legendList(items) {
  return element("ul", { class: "unc-legend" }, items.map(([colour, text, kind = "line"]) => element("li", {}, [
    element("span", { class: `unc-key ${kind}`, style: `--key:${colour}` }), ` ${text}`,
  ])));
}

export default class UncertaintyView {
  static needsImage = false;
  // Each p, T and n_train is a training run or a theory of its own: no slider prefetch.
  static prefetch = false;

  constructor(root, extra, context) {
    linkViewStyles("uncertainty");
    this.root = root;
    this.context = context;
    this.task = null;
    this.drawing = 0; // the latest paint: an older one still waiting for Plotly gives up
    this.probe = { task: null, iteration: null, T: null, band: null, painted: 0 };
    if (window.dropoutLab) window.dropoutLab.uncertainty = this.probe;
    root.classList.add("uncertainty-view");
    this.container = element("div", { class: "uncertainty" });
    root.prepend(this.container);
    this.training = context.compact || context.embedded ? null : new UncertaintyTraining(extra, context);
  }

  destroy() {
    this.drawing += 1;
    this.container.remove();
    this.root.classList.remove("uncertainty-view");
    this.training?.destroy();
  }

  loaded() {
    return true; // nothing to load: the data arrive with the theory
  }

  async load(state) {
    this.training?.show(state);
  }

  // ------------------------------------------------------------ the layout of each task

  #build(task) {
    this.task = task;
    const compact = this.context.compact || this.context.embedded;
    this.figures = {};
    this.aside = element("aside", { class: "view unc-aside", "aria-label": "how the band is computed" });
    let main;
    if (task === "regression") {
      this.figures.main = figure("Monte Carlo dropout", "unc-main", "the stochastic passes, the predictive mean and its band");
      this.figures.running = figure("The estimate settling", "unc-running", "the predictive standard deviation over the first t passes");
      this.figures.batchNorm = figure("BatchNorm in training mode while sampling", "unc-mistake", "the band with BatchNorm in training mode against the right one");
      this.figures.deterministic = figure("The deterministic network's single answer", "unc-mistake", "model.eval()'s curve against the Monte Carlo mean");
      main = element("div", { class: "unc-row unc-top" }, [this.figures.main.node, this.aside]);
    } else {
      this.figures.probability = figure("Averaged P(class 1)", "unc-map", "the averaged probability of class 1");
      this.figures.entropy = figure("Predictive entropy", "unc-map", "the predictive entropy");
      this.figures.information = figure("Mutual information", "unc-map", "the mutual information");
      this.figures.running = figure("The estimate settling", "unc-running", "predictive entropy and mutual information over the first t passes");
      this.figures.batchNorm = figure("BatchNorm in training mode while sampling", "unc-map unc-mistake", "P(class 1) with BatchNorm in training mode");
      this.figures.deterministic = figure("The deterministic network's single answer", "unc-map unc-mistake", "model.eval()'s P(class 1)");
    }
    this.mapLegend = element("div", { class: "unc-map-legend" });
    if (task === "classification") {
      main = element("div", { class: "unc-maps" }, [this.figures.probability.node, this.figures.entropy.node, this.figures.information.node, this.mapLegend]);
    }
    this.batchNormNote = element("p", { class: "help unc-note" });
    this.deterministicNote = element("p", { class: "help unc-note" });
    this.figures.batchNorm.node.append(this.batchNormNote);
    this.figures.deterministic.node.append(this.deterministicNote);
    const parts = [main];
    if (task === "classification") parts.push(element("div", { class: "unc-row unc-top" }, [this.figures.running.node, this.aside]));
    else parts.push(element("div", { class: "unc-row" }, [this.figures.running.node]));
    this.mistakes = element("section", { class: "unc-mistakes", "aria-labelledby": "unc-mistakes-title" }, [
      element("h3", { id: "unc-mistakes-title", text: "Common mistakes with “use dropout at test time”" }),
      element("div", { class: "unc-row unc-pair" }, [this.figures.batchNorm.node, this.figures.deterministic.node]),
    ]);
    parts.push(this.mistakes);
    // A comparison's panel: the main drawing alone (for classification the entropy map, with
    // the boundary on it); an embed: the main row.
    if (this.context.compact) {
      const alone = task === "regression" ? this.figures.main.node : this.figures.entropy.node;
      this.container.replaceChildren(alone);
    } else {
      this.container.replaceChildren(...(compact ? [main] : parts));
    }
    this.container.dataset.task = task;
  }

  // ------------------------------------------------------------ painting

  paint(frame, header) {
    const { theory } = header;
    if (theory.task !== this.task) this.#build(theory.task);
    const drawing = (this.drawing += 1);
    Object.assign(this.probe, { task: theory.task, iteration: frame.iteration, T: theory.T });
    this.#captions(frame, theory);
    this.#aside(frame, theory);
    loadPlotly().then((Plotly) => {
      if (drawing !== this.drawing) return; // a newer frame is on its way
      if (theory.task === "regression") this.#drawRegression(Plotly, frame, theory);
      else this.#drawClassification(Plotly, frame, theory);
      this.probe.painted += 1;
    }).catch(() => {}); // without Plotly the numbers still show
  }

  #captions(frame, theory) {
    const f = this.figures;
    const detail = (fig, text) => { fig.caption.querySelector(".detail").textContent = text; };
    if (theory.task === "regression") {
      const { probes } = theory;
      detail(f.main, `T = ${theory.T} passes, iteration ${frame.iteration}: band = mean ± 2 predictive sd; sd ${fmt(frame.probe_std[2])} in the gap, ${fmt((frame.probe_std[1] + frame.probe_std[3]) / 2)} in the data`);
      detail(f.running, `at x = ${probes.running[0]} (the gap) and x = ${probes.running[1]} (data), passes 1 … ${theory.T} of this iteration`);
      detail(f.batchNorm, `mean off by ${fmt(frame.batch_norm_train_error)} on average`);
      const gap = Math.max(0, ...theory.deterministic.map((d, k) => Math.abs(d - frame.band.mean[k])));
      this.deterministicGap = gap; // the chart's description says it too
      detail(f.deterministic, `model.eval(): dropout off, one curve, no band; at most ${fmt(gap)} from the mean`);
      this.deterministicNote.textContent = "model.eval() switches dropout off: one curve (orange), the same every time, and no uncertainty at all. "
        + `The Monte Carlo mean (blue) averages ${theory.T} sampled networks; the two part where the network is most nonlinear in its masks, mostly away from the data.`;
      this.batchNormNote.textContent = "Calling model.train() to switch dropout on also puts BatchNorm in training mode: each pass then normalises with the mean and variance "
        + "of the points it is asked about (here the 200 points of the curve, spread over the whole axis), not with the statistics learnt from the training data. "
        + "Same masks; vermilion: the wrong band. Switch on only the dropout modules (dropouts.mc.enable_dropout).";
    } else {
      const regions = theory.regions;
      detail(f.probability, `T = ${theory.T} passes, iteration ${frame.iteration}`);
      detail(f.entropy, `between the classes ${fmt(frame.entropy_between)} nats; on the data ${fmt(frame.entropy_data)}`);
      detail(f.information, `between the classes ${fmt(frame.mutual_information_between)}; far from the data ${fmt(frame.mutual_information_far)}`);
      detail(f.running, "at the point between the classes nearest the data's centre (×)");
      detail(f.batchNorm, `P(class 1) off by ${fmt(frame.batch_norm_train_error)} on average`);
      detail(f.deterministic, "model.eval(): dropout off, no entropy to split");
      this.batchNormNote.textContent = "model.train() also puts BatchNorm in training mode: each pass normalises with the statistics of the grid it is asked about, "
        + "not those of the training data. Background: P(class 1) so computed, same masks; line: the right boundary (P = 0.5).";
      this.deterministicNote.textContent = "model.eval()'s P(class 1): a single network with dropout off, as confident far from the data as on it. "
        + "Line: the Monte Carlo boundary. Without the passes there is no mutual information: the model cannot say what it does not know.";
      this.mapLegend.replaceChildren(
        legendList([
          [COLOURS.class0, "training points of class 0", "dot"],
          [COLOURS.class1, "training points of class 1", "dot"],
          ["#111111", "the point of the curves below", "cross"],
          ["#111111", "the Monte Carlo boundary, P(class 1) = 0.5 (dotted white on the entropy maps)"],
        ]),
        element("p", { class: "help", text: `P(class 1): orange (class 0) – white (0.5) – blue (class 1). Entropy and mutual information: dark (0) to yellow (high), in nats; at most ln 2 ≈ 0.693. `
          + `Regions: ${regions.between.points} grid points between the classes, ${regions.far.points} far from the data (more than 1 from every training point; at most 128, evenly spread).` }),
      );
    }
  }

  #aside(frame, theory) {
    const line = (text, cls = "") => element("p", { class: cls, text });
    if (theory.task === "regression") {
      const lambda = theory.weight_decay;
      this.aside.replaceChildren(
        element("h3", { text: "The band" }),
        line("predictive variance = τ⁻¹ + (1/T) Σₜ ŷₜ² − mean²", "unc-formula"),
        line("τ = (1 − p) l² / (2 N λ)", "unc-formula"),
        line(`= (1 − ${fmt(theory.p, 2)}) × ${fmt(theory.lengthscale, 2)}² / (2 × ${theory.n_train} × ${lambda.toExponential(1)}) = ${fmt(theory.tau, 1)}`, "unc-formula"),
        line(`τ⁻¹ = ${fmt(theory.tau_inverse, 4)} (the data's noise: σ² = ${fmt(theory.noise ** 2, 4)})`, "unc-formula"),
        line(`Each iteration draws its own T passes (from the seed and the iteration); pass t is the same whatever T, so a larger T adds passes to the same draw and the band settles. `
          + `l and λ enter only τ: l changes the band, not the network.`, "help"),
        line("Dropout's band widens beyond the data much more than in the gap: Monte Carlo dropout, like other cheap approximations, tends to underestimate the uncertainty between two clusters of data (Foong et al. 2019).", "help"),
      );
    } else {
      this.aside.replaceChildren(
        element("h3", { text: "Two kinds of uncertainty" }),
        line("p̄ = (1/T) Σₜ softmax(fₜ(x)): probabilities averaged, never logits", "unc-formula"),
        line("predictive entropy H[p̄] = − Σ_c p̄_c ln p̄_c", "unc-formula"),
        line("mutual information = H[p̄] − (1/T) Σₜ H[pₜ] ≥ 0", "unc-formula"),
        line("The entropy is high wherever the classes meet, whether the data overlap there (aleatoric) or the model does not know (epistemic); the mutual information keeps only the second: it is high where the passes disagree, far from the data along the boundary.", "help"),
        line(`Test accuracy of the Monte Carlo mean: ${fmt(theory.reference_test_accuracy, 3)} (${theory.reference_test_passes} passes).`, "help"),
      );
    }
  }

  #drawRegression(Plotly, frame, theory) {
    const { grid } = theory;
    const band = frame.band;
    const layout = (extra) => baseLayout({
      xaxis: { range: [grid[0], grid[grid.length - 1]], gridcolor: themeColours().grid, zeroline: false },
      yaxis: { range: theory.y_range, gridcolor: themeColours().grid, zeroline: false },
      shapes: [gapShape(theory)],
      ...extra,
    });
    const truth = { x: grid, y: theory.truth, type: "scatter", mode: "lines", line: { color: COLOURS.truth, width: 2, dash: "dash" }, name: "truth sin(2x)" };
    const main = [
      passTrace(frame, theory),
      ...bandTraces(grid, band.mean, band.std, { name: "predictive mean", bandName: "mean ± 2 sd" }),
      truth,
      pointsTrace(theory),
      gapLegend(),
    ];
    const compact = this.context.compact || this.context.embedded;
    Plotly.react(this.figures.main.chart, main, layout({
      showlegend: true,
      legend: { orientation: "h", x: 0, y: -0.08, yanchor: "top", tracegroupgap: 0, itemwidth: 30 },
      margin: { l: 40, r: 8, t: 6, b: 24 },
    }), CONFIG);
    this.probe.band = { mean: band.mean.slice(), std: band.std.slice() };
    const probes = theory.probes;
    const atProbes = probes.x.map((x, k) => `${probes.labels[k]}: mean ${fmt(frame.probe_mean[k], 2)}, band ± ${fmt(2 * frame.probe_std[k], 2)}`).join("; ");
    describeChart(this.figures.main.chart, this.figures.main.label, [],
      `Iteration ${frame.iteration}, T = ${theory.T} passes (p = ${fmt(theory.p, 2)}): the passes as faint curves, the predictive mean, and a band of ± 2 predictive sd. `
      + `${atProbes}. No training point between x = ${theory.gap[0]} and ${theory.gap[1]}; dashed: the truth sin(2x)`);
    if (compact) return;

    // The estimate over the first t passes at the two probes, against its limit.
    const running = frame.running;
    const t = running.std[0].map((_, k) => k + 1);
    const expected = theory.probes.running.map((x) => {
      const k = theory.probes.x.indexOf(x);
      return Math.sqrt(theory.tau_inverse + theory.probes.reference_model_variance[k]);
    });
    const runningTraces = [
      { x: t, y: running.std[0], type: "scatter", mode: "lines", line: { color: COLOURS.mean, width: 2.5 }, name: `sd at x = ${theory.probes.running[0]} (the gap)` },
      { x: [1, theory.T], y: [expected[0], expected[0]], type: "scatter", mode: "lines", line: { color: COLOURS.mean, width: 1.5, dash: "dash" }, name: `its limit (${theory.reference_passes} passes)` },
      { x: t, y: running.std[1], type: "scatter", mode: "lines", line: { color: COLOURS.deterministic, width: 2.5 }, name: `sd at x = ${theory.probes.running[1]} (in the data)` },
      { x: [1, theory.T], y: [expected[1], expected[1]], type: "scatter", mode: "lines", line: { color: COLOURS.deterministic, width: 1.5, dash: "dash" }, name: "its limit" },
    ];
    describeChart(this.figures.running.chart, this.figures.running.label, runningTraces,
      `Iteration ${frame.iteration}: the predictive sd estimated from the first t of ${theory.T} passes, at two points, against its limit`);
    Plotly.react(this.figures.running.chart, runningTraces, baseLayout({
      xaxis: { title: { text: "passes t", standoff: 2 }, gridcolor: themeColours().grid, range: [1, Math.max(2, theory.T)] },
      yaxis: { title: { text: "predictive sd" }, gridcolor: themeColours().grid, rangemode: "tozero" },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
      margin: { l: 52, r: 10, t: 6, b: 70 },
    }), CONFIG);

    const wrong = frame.batch_norm_train;
    const mistake = (name, y) => ({ x: grid, y, type: "scatter", name });
    describeChart(this.figures.batchNorm.chart, this.figures.batchNorm.label, [
      mistake("right mean", band.mean), mistake("mean with BatchNorm in training mode", wrong.mean),
    ], `Iteration ${frame.iteration}, the same masks: with BatchNorm in training mode the mean is off by ${fmt(frame.batch_norm_train_error)} on average, `
      + "and its band (vermilion) differs from the right one (blue)");
    Plotly.react(this.figures.batchNorm.chart, [
      ...bandTraces(grid, band.mean, band.std, { name: "right: BatchNorm on its running statistics", bandName: "± 2 sd" }),
      ...bandTraces(grid, wrong.mean, wrong.std, { name: "model.train(): BatchNorm on the batch", bandName: "± 2 sd", fill: wrongFill(), colour: COLOURS.wrong, dash: "dot", group: "wrong" }),
      pointsTrace(theory),
    ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: -0.18, yanchor: "top" }, margin: { l: 44, r: 10, t: 6, b: 84 } }), CONFIG);
    Plotly.react(this.figures.deterministic.chart, [
      ...bandTraces(grid, band.mean, band.std, { name: `Monte Carlo mean (T = ${theory.T})`, bandName: "± 2 sd" }),
      { x: grid, y: theory.deterministic, type: "scatter", mode: "lines", line: { color: COLOURS.deterministic, width: 3 }, name: "model.eval(): the single answer" },
      pointsTrace(theory),
    ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: -0.18, yanchor: "top" }, margin: { l: 44, r: 10, t: 6, b: 84 } }), CONFIG);
    describeChart(this.figures.deterministic.chart, this.figures.deterministic.label, [
      mistake(`Monte Carlo mean (T = ${theory.T})`, band.mean), mistake("model.eval()'s single answer", theory.deterministic),
    ], `model.eval() switches dropout off: one curve and no band, at most ${fmt(this.deterministicGap)} from the Monte Carlo mean`);
  }

  #drawClassification(Plotly, frame, theory) {
    const size = theory.grid;
    const [x0, x1, y0, y1] = theory.extent;
    const axis = (k) => Array.from({ length: size }, (_, i) => k[0] + ((k[1] - k[0]) * i) / (size - 1));
    const xs = axis([x0, x1]);
    const ys = axis([y0, y1]);
    const maps = frame.maps;
    const probability = rows(channel(maps, 0), size);
    const entropy = rows(channel(maps, 1), size);
    const information = rows(channel(maps, 2), size);
    const points = (classId) => {
      const picked = theory.train.x.filter((_, k) => theory.train.y[k] === classId);
      return {
        x: picked.map((p) => p[0]), y: picked.map((p) => p[1]), type: "scatter", mode: "markers", hoverinfo: "skip",
        marker: { color: classId === 0 ? COLOURS.class0 : COLOURS.class1, size: 7, line: { color: "#111", width: 1 } },
        name: `class ${classId}`,
      };
    };
    const mark = frame.running.point;
    const cross = mark ? [{ x: [mark[0]], y: [mark[1]], type: "scatter", mode: "markers", hoverinfo: "skip", marker: { symbol: "x-thin", size: 14, line: { color: "#111", width: 3 } }, name: "probe" }] : [];
    const heat = (z, colorscale, zmax, title) => ({
      x: xs, y: ys, z, type: "heatmap", colorscale, zmin: 0, zmax, zsmooth: "best", hoverinfo: "skip",
      colorbar: { thickness: 10, len: 0.9, title: { text: title, side: "top" }, outlinewidth: 0, xpad: 4 },
    });
    const contour = (z, colour, dash) => ({
      x: xs, y: ys, z, type: "contour", hoverinfo: "skip", showscale: false,
      contours: { start: 0.5, end: 0.5, size: 1, coloring: "none" }, line: { color: colour, width: 2.5, dash },
    });
    const square = baseLayout({
      xaxis: { range: [x0, x1], showgrid: false, zeroline: false, constrain: "domain" },
      yaxis: { range: [y0, y1], showgrid: false, zeroline: false, scaleanchor: "x", constrain: "domain" },
      margin: { l: 30, r: 6, t: 4, b: 24 },
    });
    const maxEntropy = theory.max_entropy;
    this.probe.band = { entropy_between: frame.entropy_between, mutual_information_between: frame.mutual_information_between };
    // In words: the map's range (a heatmap named for the description only) and the view's figures.
    const named = (z, name) => [{ z, type: "heatmap", name }];
    const regions = theory.regions;
    const passes = `Iteration ${frame.iteration}, T = ${theory.T} passes, over ${theory.n_train} training points of two classes`;
    Plotly.react(this.figures.entropy.chart, [heat(entropy, "Viridis", maxEntropy, "nats"), contour(probability, "#ffffff", "dot"), points(0), points(1), ...cross], square, CONFIG);
    describeChart(this.figures.entropy.chart, this.figures.entropy.label, named(entropy, "predictive entropy, in nats"),
      `${passes}: the predictive entropy is ${fmt(frame.entropy_between)} nats ${regions.between.label}, ${fmt(frame.entropy_data)} ${regions.data.label} `
      + `and ${fmt(frame.entropy_far)} ${regions.far.label} (at most ${fmt(maxEntropy)}); a dotted line marks the boundary P(class 1) = 0.5`);
    if (this.context.compact) return;
    Plotly.react(this.figures.probability.chart, [heat(probability, PROBABILITY_SCALE, 1, "P(class 1)"), contour(probability, "#111", "solid"), points(0), points(1)], square, CONFIG);
    describeChart(this.figures.probability.chart, this.figures.probability.label, named(probability, "P(class 1)"),
      `${passes}: the probability of class 1 averaged over the passes, orange towards class 0 and blue towards class 1, with the boundary P = 0.5 as a line`);
    Plotly.react(this.figures.information.chart, [heat(information, "Viridis", null, "nats"), contour(probability, "#ffffff", "dot"), points(0), points(1), ...cross], square, CONFIG);
    describeChart(this.figures.information.chart, this.figures.information.label, named(information, "mutual information, in nats"),
      `${passes}: the mutual information, where the passes disagree, is ${fmt(frame.mutual_information_between)} nats ${regions.between.label} `
      + `and ${fmt(frame.mutual_information_far)} ${regions.far.label}`);
    if (this.context.embedded) return;

    const running = frame.running;
    const t = running.entropy.map((_, k) => k + 1);
    const runningTraces = [
      { x: t, y: running.entropy, type: "scatter", mode: "lines", line: { color: COLOURS.mean, width: 2.5 }, name: "predictive entropy" },
      { x: t, y: running.mutual_information, type: "scatter", mode: "lines", line: { color: COLOURS.deterministic, width: 2.5 }, name: "mutual information" },
    ];
    describeChart(this.figures.running.chart, this.figures.running.label, runningTraces,
      `Iteration ${frame.iteration}: in nats, estimated from the first t of ${theory.T} passes at the point between the classes nearest the data's centre`);
    Plotly.react(this.figures.running.chart, runningTraces, baseLayout({
      xaxis: { title: { text: "passes t", standoff: 2 }, gridcolor: themeColours().grid, range: [1, Math.max(2, theory.T)] },
      yaxis: { title: { text: "nats" }, gridcolor: themeColours().grid, range: [0, maxEntropy * 1.05] },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
      margin: { l: 52, r: 10, t: 6, b: 70 },
    }), CONFIG);
    const wrong = rows(channel(frame.batch_norm_train, 0), size);
    Plotly.react(this.figures.batchNorm.chart, [heat(wrong, PROBABILITY_SCALE, 1, "P(class 1)"), contour(probability, "#111", "solid"), contour(wrong, COLOURS.wrong, "dot"), points(0), points(1)], square, CONFIG);
    describeChart(this.figures.batchNorm.chart, this.figures.batchNorm.label, named(wrong, "P(class 1) with BatchNorm in training mode"),
      `Iteration ${frame.iteration}: off by ${fmt(frame.batch_norm_train_error)} on average from the right P(class 1); its boundary dotted, the right one solid`);
    Plotly.react(this.figures.deterministic.chart, [heat(theory.deterministic, PROBABILITY_SCALE, 1, "P(class 1)"), contour(probability, "#111", "solid"), contour(theory.deterministic, COLOURS.deterministic, "dot"), points(0), points(1)], square, CONFIG);
    describeChart(this.figures.deterministic.chart, this.figures.deterministic.label, named(theory.deterministic, "model.eval()'s P(class 1)"),
      "A single network with dropout off: as confident far from the data as on it; its boundary dotted, the Monte Carlo one solid");
  }

  // ------------------------------------------------------------ statistics panel and charts

  announce(frame, theory) {
    const dropped = `${percent(frame.dropped_fraction)} of units dropped over ${theory.T} passes, expected ${percent(theory.expected_dropped_fraction)}`;
    if (theory.task === "regression") {
      const sd = (k) => `${fmt(frame.probe_std[k], 2)} at x = ${theory.probes.x[k]}`;
      return `Iteration ${frame.iteration}: ${dropped}; predictive mean ${fmt(frame.probe_mean[3], 2)} ± ${fmt(frame.probe_std[3], 2)} sd at x = ${theory.probes.x[3]} in the data; `
        + `sd ${sd(2)} in the gap and ${sd(4)} beyond the data.`;
    }
    return `Iteration ${frame.iteration}: ${dropped}; between the classes predictive entropy ${fmt(frame.entropy_between, 2)} nats and mutual information ${fmt(frame.mutual_information_between, 2)}, `
      + `far from the data ${fmt(frame.mutual_information_far, 2)}.`;
  }

  numbers(frame, theory) {
    const rows = [{ term: `units dropped (${theory.T} passes)`, measured: fmt(frame.dropped_fraction), expected: fmt(theory.expected_dropped_fraction) }];
    if (theory.task === "regression") {
      const { probes } = theory;
      const sd = (k) => ({ measured: fmt(frame.probe_std[k]), expected: fmt(probes.expected_std[k]) });
      rows.push(
        { term: "τ⁻¹ = 2Nλ / ((1 − p) l²)", measured: fmt(theory.tau_inverse, 4) },
        { term: "the data's noise σ²", measured: fmt(theory.noise ** 2, 4) },
        { term: "predictive sd, in the data (x = 2)", ...sd(3) },
        { term: "predictive sd, in the gap (x = 0)", ...sd(2) },
        { term: "predictive sd, beyond the data (x = 4.5)", ...sd(4) },
        { term: "BatchNorm in training mode: mean off by", measured: fmt(frame.batch_norm_train_error) },
      );
    } else {
      const region = (name) => theory.regions[name];
      for (const name of ["between", "data", "far"]) {
        rows.push({ term: `predictive entropy, ${region(name).label}`, measured: fmt(frame[`entropy_${name}`]), expected: fmt(region(name).reference_entropy) });
      }
      for (const name of ["between", "far"]) {
        rows.push({ term: `mutual information, ${region(name).label}`, measured: fmt(frame[`mutual_information_${name}`]), expected: fmt(region(name).reference_mutual_information) });
      }
      rows.push({ term: "BatchNorm in training mode: P(class 1) off by", measured: fmt(frame.batch_norm_train_error) });
    }
    return rows;
  }

  series(series) {
    const x = series.frames.map((frame) => frame.iteration);
    const theory = series.theory;
    const ends = (value) => ({ x: [x[0], x[x.length - 1]], y: [value, value] });
    if (theory.task === "regression") {
      const expected = theory.probes.expected_std;
      return {
        title: `predictive sd per iteration (each its own ${theory.T} passes)`,
        yTitle: "predictive sd",
        x,
        lines: [
          { name: "measured in the gap (x = 0)", y: series.frames.map((frame) => frame.probe_std[2]), role: "measured" },
          { name: `expected at T = ${theory.T}`, ...ends(expected[2]), role: "expected" },
          { name: "measured in the data (x = 2)", y: series.frames.map((frame) => frame.probe_std[3]), role: "extra" },
        ],
      };
    }
    const between = theory.regions.between;
    return {
      title: `between the classes, per iteration (each its own ${theory.T} passes)`,
      yTitle: "nats",
      x,
      lines: [
        { name: "predictive entropy, measured", y: series.frames.map((frame) => frame.entropy_between), role: "measured" },
        { name: `reference (${theory.reference_passes} passes)`, ...ends(between.reference_entropy), role: "expected" },
        { name: "mutual information", y: series.frames.map((frame) => frame.mutual_information_between), role: "extra" },
      ],
    };
  }

  bars(frame, theory) {
    if (theory.task === "regression") {
      return {
        title: "predictive sd at five points, this iteration",
        yTitle: "predictive sd",
        x: ["x = −4.5", "x = −2", "x = 0 (gap)", "x = 2", "x = 4.5"],
        y: frame.probe_std,
        name: `this iteration (T = ${theory.T})`,
        expected: { y: theory.probes.expected_std, name: "expected" },
      };
    }
    const names = ["data", "between", "far"];
    return {
      title: "entropy and mutual information by region",
      yTitle: "nats",
      x: [...names.map((n) => `H, ${n}`), ...names.map((n) => `MI, ${n}`)],
      y: [...names.map((n) => frame[`entropy_${n}`]), ...names.map((n) => frame[`mutual_information_${n}`])],
      name: "this iteration",
      expected: {
        y: [...names.map((n) => theory.regions[n].reference_entropy), ...names.map((n) => theory.regions[n].reference_mutual_information)],
        name: `reference (${theory.reference_passes} passes)`,
      },
    };
  }

  derived() {
    return null;
  }
}
