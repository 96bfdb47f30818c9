// The compression view's training run, streamed under the view (GET /api/train?view=compression).

import { element } from "../dom.js";
import { describeChart, loadPlotly } from "../plotly.js";
import { paramQuery } from "../state.js";
import { fmt } from "../stats.js";
import { StreamedTraining } from "./streamed_training.js";
import { BLUE, GREY, ORANGE, VERMILION, percent, themeColours, times } from "./compression_parts.js";

const TRAINING_KEYS = ["dataset", "variant", "width", "depth", "epochs", "lr", "warmup"];

export function trainingKey(params, seed) {
  return JSON.stringify([seed, ...TRAINING_KEYS.map((name) => params?.[name])]);
}

// ---------------------------------------------------------------- the training run

// The run under the view: its controls (the view's "training" parameters), Train and Stop, and
// two charts streamed as it goes: the loss split into its data term and its KL term, and the
// test accuracy (before and after pruning, and the dense network's) with the pruned share.
export class CompressionTraining extends StreamedTraining {
  constructor(extra, context) {
    super(context, { probe: { state: "idle", events: 0, step: null, runs: 0, final: null }, probeName: "compressionTraining" });
    this.lossChart = element("div", { class: "loss-chart", role: "img", "aria-label": "the loss, its data term and its KL term, over the steps" });
    this.accuracyChart = element("div", { class: "loss-chart", role: "img", "aria-label": "test accuracy and the pruned share over the steps" });
    this.mount(extra, {
      className: "compression-training",
      titleId: "compression-training-title",
      title: "Training: the ELBO, term by term",
      why: "The network above is trained in the server on minibatches of 128 with Adam: the loss is the negative ELBO per example, "
        + "the data term (cross-entropy) plus the KL term (the KL divergence to the log-uniform prior, divided by the number of training examples), "
        + "whose weight rises from 0 to 1 during the warm-up. The KL term is what drives α up and the weights out. "
        + "A plain network of the same shape trains alongside on the same minibatches: the dense reference.",
      figures: [element("div", { class: "charts" }, [this.lossChart, this.accuracyChart])],
    });
  }

  show(state) {
    if (state) this.showSettings(state, "training");
  }

  query(state = this.context.state()) {
    const query = paramQuery(state);
    query.set("method", state.method);
    query.set("seed", String(state.seed));
    return query;
  }

  async run() {
    const query = this.query();
    this.history = { step: [], data: [], klWeighted: [], kl: [], loss: [], before: [], after: [], dense: [], pruned: [] };
    await this.stream(query.toString(), this.trainUrl(query), {
      info: (data) => this.#info(data),
      progress: (data) => this.#progress(data),
      done: (data) => this.#done(data),
    }, { events: 0, step: null, final: null });
  }

  #info(info) {
    this.info = info;
    this.history = { step: [], data: [], klWeighted: [], kl: [], loss: [], before: [], after: [], dense: [], pruned: [] };
    const rule = info.variant === "sbp" ? `SNR ≤ ${fmt(info.snr, 2)}` : `log α ≥ ${fmt(info.threshold, 1)}`;
    this.rule = rule;
    this.status.textContent = `Training ${info.sizes.join("-")} on ${info.n_train} examples: ${info.epochs} epochs, ${info.steps} steps…`;
  }

  #progress(event) {
    this.probe.events += 1;
    this.probe.step = event.step;
    const h = this.history;
    h.step.push(event.step);
    h.data.push(event.data_term);
    h.kl.push(event.kl_term);
    h.klWeighted.push(event.kl_weight * event.kl_term);
    h.loss.push(event.loss);
    h.before.push(event.accuracy_before);
    h.after.push(event.accuracy_after);
    h.dense.push(event.baseline_accuracy);
    h.pruned.push(event.pruned_share);
    this.status.textContent = `Step ${event.step} of ${this.info.steps} (epoch ${fmt(event.epoch, 0)}): ${percent(event.pruned_share)} of the weights at ${this.rule}, `
      + `test accuracy ${percent(event.accuracy_after)} pruned (dense ${percent(event.baseline_accuracy)})…`;
    this.#drawSoon();
  }

  #done(done) {
    this.probe.state = "done";
    this.probe.final = done;
    this.status.textContent = `Done: ${percent(done.pruned_share)} of the weights pruned (${this.rule}), ${times(done.compression)} fewer; `
      + `test accuracy ${percent(done.accuracy_before)} before pruning, ${percent(done.accuracy_after)} after (dense network ${percent(done.baseline_accuracy)}).`;
    this.#draw();
  }

  #drawSoon() {
    if (this.drawing) return;
    this.drawing = true;
    requestAnimationFrame(() => {
      this.drawing = false;
      this.#draw();
    });
  }

  async #draw() {
    const Plotly = await loadPlotly();
    const { ink, line } = themeColours();
    const h = this.history;
    const x = h.step.slice();
    const now = (values) => fmt(values.at(-1));
    const step = h.step.length ? `Step ${h.step.at(-1)} of ${this.info?.steps}` : "";
    const base = (title, yaxis) => ({
      title: { text: title, x: 0.01, xanchor: "left" },
      margin: { l: 58, r: 58, t: 40, b: 96 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: ink },
      xaxis: { title: { text: "step" }, gridcolor: line, range: [0, this.info?.steps ?? 1] },
      yaxis: { gridcolor: line, ...yaxis },
      legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
    });
    const trace = (y, name, colour, dash = "solid", extra = {}) => ({ x, y: y.slice(), type: "scatter", mode: "lines", name, line: { color: colour, dash, width: 2.5 }, ...extra });
    const losses = [
      trace(h.loss, "loss (what is minimised)", ink),
      trace(h.data, "data term: cross-entropy", BLUE),
      trace(h.klWeighted, "KL term × its warm-up weight", ORANGE),
      trace(h.kl, "KL / N, unweighted", ORANGE, "dot"),
    ];
    Plotly.react(this.lossChart, losses, base("the loss, split (log scale)", { title: { text: "per example" }, type: "log" }), { displayModeBar: false, responsive: true });
    describeChart(this.lossChart, "the loss, split into its data term and its KL term, over the steps (log scale)", losses,
      step && `${step}: loss ${now(h.loss)} = data term ${now(h.data)} + weighted KL term ${now(h.klWeighted)}`);
    const accuracies = [
      trace(h.before, "test accuracy, nothing pruned", BLUE, "dot"),
      trace(h.after, `test accuracy, pruned at ${this.rule}`, BLUE),
      trace(h.dense, "dense network", GREY, "dash"),
      trace(h.pruned, "weights pruned (right axis)", VERMILION, "solid", { yaxis: "y2" }),
    ];
    Plotly.react(this.accuracyChart, accuracies, {
      ...base("accuracy and sparsity", { title: { text: "accuracy" }, range: [0, 1.02] }),
      yaxis2: { title: { text: "pruned" }, overlaying: "y", side: "right", range: [0, 1.02], showgrid: false, tickformat: ".0%" },
    }, { displayModeBar: false, responsive: true });
    describeChart(this.accuracyChart, "test accuracy and the share of weights pruned over the steps", accuracies,
      step && `${step}: test accuracy ${percent(h.after.at(-1))} pruned at ${this.rule}, ${percent(h.before.at(-1))} before pruning, `
        + `dense network ${percent(h.dense.at(-1))}; ${percent(h.pruned.at(-1))} of the weights pruned`);
    this.probe.drawn = h.step.length;
  }
}
