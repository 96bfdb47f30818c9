// The uncertainty view (Monte Carlo dropout, Gal & Ghahramani 2016): a small network trained
// with dropout in the server, then T stochastic passes per iteration. Regression: the passes
// as faint curves, the predictive mean and the band of ±2 predictive standard deviations
// (τ⁻¹ plus the passes' variance), wider far from the data. Classification: the averaged
// P(class 1), the predictive entropy and the mutual information as heatmaps. Under them, the
// estimate settling as passes are added, and the common mistakes of "use dropout at test
// time"; the training run below (uncertainty_training.js). The charts are drawn by
// uncertainty_regression.js and uncertainty_classification.js. Every number arrives computed.

import { element, linkViewStyles } from "../dom.js";
import { loadPlotly } from "../plotly.js";
import { fmt } from "../stats.js";
import { share as percent } from "./titles.js";
import { COLOURS } from "./uncertainty_charts.js";
import { drawClassification } from "./uncertainty_classification.js";
import { drawRegression } from "./uncertainty_regression.js";
import { UncertaintyTraining } from "./uncertainty_training.js";

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
    this.training = context.panels ? new UncertaintyTraining(extra, context) : null;
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
      if (theory.task === "regression") drawRegression(Plotly, this.figures, frame, theory, { context: this.context, probe: this.probe, deterministicGap: this.deterministicGap });
      else drawClassification(Plotly, this.figures, frame, theory, { context: this.context, probe: this.probe });
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
