// The compression view: a network trained in the server with sparse variational dropout (a
// dropout rate α per weight, Molchanov et al. 2017) or structured Bayesian pruning (a noise per
// neuron, Neklyudov et al. 2017), pruned at the threshold. An iteration is a checkpoint of the
// training run (0: as initialised, 99: trained): the network diagram with only its kept
// connections, the log α histogram with the threshold line, accuracy against sparsity as the
// threshold moves, the weight matrices as heatmaps; under it the training run itself, streamed
// (GET /api/train?view=compression): the loss split into its data term and its KL term. Every number
// arrives computed from the server; this module only draws.

import { element, svg, linkViewStyles } from "../dom.js";
import { fmt } from "../stats.js";
import { titleSvg } from "./titles.js";
import { BLUE, GREY, NEGATIVE, ORANGE, POSITIVE, VERMILION, datasetName, layerArrays, legend, percent, rgb, ruleText, themeColours, thousands, times, variantName } from "./compression_parts.js";
import { drawNetwork } from "./compression_network.js";
import { CompressionTraining, trainingKey } from "./compression_training.js";

export default class CompressionView {
  static needsImage = false;

  constructor(root, extra, context) {
    linkViewStyles("compression");
    this.root = root;
    this.context = context;
    this.paintedKey = null;
    root.classList.add("compression-view");
    this.status = element("p", { class: "compression-status", role: "status", "aria-live": "polite" });
    this.summary = element("div", { class: "compression-summary", role: "group", "aria-label": "the trained network, pruned" });
    this.netCanvas = element("canvas", { class: "net-canvas", width: 960, height: 560, role: "img", "aria-label": "the network" });
    this.netCaption = element("figcaption");
    this.netLegend = element("div");
    this.histogram = titleSvg(svg("svg", { class: "chart-svg", viewBox: "0 0 460 230" }), "histogram of log α");
    this.histogramCaption = element("figcaption");
    this.histogramLegend = element("div");
    this.curve = titleSvg(svg("svg", { class: "chart-svg", viewBox: "0 0 460 250" }), "test accuracy against the share of weights pruned");
    this.curveCaption = element("figcaption");
    this.curveLegend = element("div");
    this.heatmaps = element("div", { class: "heatmaps" });
    this.heatmapLegend = element("div");
    this.widths = element("div");
    this.note = element("p", { class: "compression-note" });
    this.container = element("div", { class: "compression" }, [
      this.status,
      this.summary,
      element("div", { class: "compression-row" }, [
        element("figure", { class: "view network-figure" }, [this.netCaption, this.netCanvas, this.netLegend]),
        element("div", { class: "compression-side" }, [
          element("figure", { class: "view" }, [this.histogramCaption, this.histogram, this.histogramLegend]),
          element("figure", { class: "view" }, [this.curveCaption, this.curve, this.curveLegend]),
        ]),
      ]),
      element("div", { class: "compression-row lower" }, [
        element("section", { class: "view" }, [
          element("h3", { text: "The weight matrices (rows: a layer's neurons; columns: their inputs)" }),
          this.heatmaps,
          this.heatmapLegend,
        ]),
        element("section", { class: "view" }, [element("h3", { text: "Layer widths" }), this.widths, this.note]),
      ]),
    ]);
    root.prepend(this.container);
    this.setStatus("Training the network in the server (a few seconds the first time)…");
    this.training = context.panels ? new CompressionTraining(extra, context) : null;
  }

  destroy() {
    this.container.remove();
    this.root.classList.remove("compression-view");
    this.training?.destroy();
  }

  setStatus(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  loaded() {
    return true; // no picture: the network arrives with the frames
  }

  async load(state) {
    // A setting not trained yet: the frames wait for the run (a few seconds); say so.
    if (this.paintedKey !== null && trainingKey(state.params, state.seed) !== this.paintedKey) {
      this.setStatus("Training the network for this setting in the server…");
    }
    this.training?.show(state);
  }

  paint(frame, header) {
    const { theory } = header;
    this.paintedKey = trainingKey(header.params, header.seed);
    this.setStatus("");
    this.#summary(theory);
    drawNetwork(this, frame, theory);
    this.#histogram(frame, theory);
    this.#curve(theory);
    if (!this.context.compact) {
      this.#heatmaps(frame, theory);
      this.#widths(frame, theory);
    }
  }

  #summary(theory) {
    const final = theory.final;
    const figure = (label, value, small = "", extra = "") => element("div", { class: `figure ${extra}` }, [
      element("span", { class: "label", text: label }),
      element("span", { class: "value" }, [value, small ? element("small", { text: ` ${small}` }) : ""]),
    ]);
    const structured = theory.variant === "sbp";
    const figures = [
      figure(`weights pruned (${ruleText(theory)})`, percent(final.pruned_share), `of ${thousands(final.weights)}`),
      figure("compression", times(final.compression), `${thousands(final.weights_kept)} weights left`),
      figure("test accuracy before → after pruning", `${percent(final.accuracy_before)} → ${percent(final.accuracy_after)}`),
      figure("dense network, same training", percent(final.baseline_accuracy)),
      figure("layer widths", `${final.widths_before.join("-")} → ${final.widths_after.join("-")}`, "", "widths-figure"),
    ];
    if (structured) figures.splice(1, 0, figure("neurons removed", percent(final.dropped_fraction)));
    this.summary.replaceChildren(
      ...figures,
      element("p", {
        class: "what",
        text: `The trained network (${variantName(theory)}, ${theory.epochs} epochs on ${thousands(theory.n_train)} ${datasetName(theory)}; `
          + `accuracies on ${thousands(theory.n_test)} test examples never trained on). The player replays its training: iteration i is checkpoint i of 100.`,
      }),
    );
  }


  // The log α histogram (log counts), kept left of the line, pruned right of it.
  #histogram(frame, theory) {
    const edges = theory.histogram_edges;
    const counts = frame.histograms.reduce((sum, layer) => sum.map((v, k) => v + layer[k]), new Array(edges.length - 1).fill(0));
    const structured = theory.variant === "sbp";
    const W = 460;
    const H = 230;
    const m = { l: 50, r: 12, t: 14, b: 40 };
    const x = (v) => m.l + ((W - m.l - m.r) * (v - edges[0])) / (edges[edges.length - 1] - edges[0]);
    const topCount = Math.max(10, ...counts);
    const yMax = Math.log10(1 + topCount);
    const y = (count) => H - m.b - ((H - m.t - m.b) * Math.log10(1 + count)) / yMax;
    const parts = [];
    for (let power = 0; 10 ** power <= topCount; power += 1) {
      const yy = y(10 ** power);
      parts.push(svg("line", { class: "grid", x1: m.l, x2: W - m.r, y1: yy, y2: yy }));
      parts.push(svg("text", { x: m.l - 6, y: yy + 4, "text-anchor": "end", text: thousands(10 ** power) }));
    }
    counts.forEach((count, k) => {
      if (!count) return;
      const centre = (edges[k] + edges[k + 1]) / 2;
      parts.push(svg("rect", {
        x: x(edges[k]) + 0.5, y: y(count), width: Math.max(0.5, x(edges[k + 1]) - x(edges[k]) - 1), height: H - m.b - y(count),
        fill: centre >= theory.line ? VERMILION : BLUE, "fill-opacity": 0.85,
      }));
    });
    for (let v = -8; v <= 8; v += 4) parts.push(svg("text", { x: x(v), y: H - m.b + 16, "text-anchor": "middle", text: String(v) }));
    parts.push(svg("line", { class: "axis", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
    const lineX = x(Math.max(edges[0], Math.min(edges[edges.length - 1], theory.line)));
    parts.push(svg("line", { x1: lineX, x2: lineX, y1: m.t - 4, y2: H - m.b, stroke: "currentColor", "stroke-width": 2.5, "stroke-dasharray": "6 3" }));
    parts.push(svg("text", { x: W / 2, y: H - 6, "text-anchor": "middle", text: structured ? "log α of a neuron's noise = −2 log SNR" : "log α = log σ² − log θ²" }));
    parts.push(svg("text", { x: 12, y: (H - m.b) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(H - m.b) / 2})`, text: structured ? "neurons" : "weights" }));
    this.histogram.replaceChildren(...parts);
    this.histogram.style.color = themeColours().ink;
    const pruned = counts.reduce((sum, count, k) => sum + ((edges[k] + edges[k + 1]) / 2 >= theory.line ? count : 0), 0);
    const total = counts.reduce((a, b) => a + b, 0);
    this.histogramCaption.replaceChildren(
      element("span", { class: "title", text: structured ? "Each neuron's noise, as log α" : "Each weight's log α" }), " ",
      element("span", { class: "detail", text: `iteration ${frame.iteration}: ${thousands(pruned)} of ${thousands(total)} at or past the line (count on a log scale)` }),
    );
    titleSvg(this.histogram, `histogram of ${structured ? "each neuron's noise, as log α" : "each weight's log α"} at iteration ${frame.iteration}, `
      + `counts on a log scale: ${thousands(pruned)} of ${thousands(total)} ${structured ? "neurons" : "weights"} at or past the threshold line (${ruleText(theory)}), `
      + `${structured ? "removed" : "pruned"}; the rest kept`);
    this.histogramLegend.replaceChildren(legend([
      [BLUE, structured ? "kept (SNR above the threshold)" : "kept: log α below the threshold"],
      [VERMILION, structured ? "removed" : "pruned: α ≥ e³ ≈ 20, a drop rate of 0.95 and more"],
      [themeColours().ink, structured ? `threshold: SNR = ${fmt(theory.snr, 2)} (log α = ${fmt(theory.line, 2)})` : `threshold log α = ${fmt(theory.threshold, 1)}`, "line"],
    ]));
  }

  // The trained network's accuracy against its sparsity, one point per threshold.
  #curve(theory) {
    const curve = theory.curve;
    const final = theory.final;
    const W = 460;
    const H = 250;
    const m = { l: 50, r: 14, t: 14, b: 40 };
    const shares = curve.pruned_share.map((s) => 100 * s);
    const low = Math.max(0, Math.floor(Math.min(...shares, 100 * final.pruned_share) / 5) * 5 - (Math.min(...shares) > 95 ? 5 : 0));
    const x = (share) => m.l + ((W - m.l - m.r) * (share - low)) / Math.max(1e-9, 100 - low);
    const y = (accuracy) => H - m.b - ((H - m.t - m.b) * accuracy) / 100;
    const parts = [];
    for (let a = 0; a <= 100; a += 25) {
      parts.push(svg("line", { class: "grid", x1: m.l, x2: W - m.r, y1: y(a), y2: y(a) }));
      parts.push(svg("text", { x: m.l - 6, y: y(a) + 4, "text-anchor": "end", text: `${a}` }));
    }
    const stepX = [1, 2, 5, 10, 20, 25].find((step) => (100 - low) / step <= 6) ?? 25;
    for (let share = Math.ceil(low / stepX) * stepX; share <= 100; share += stepX) {
      parts.push(svg("line", { class: "grid", x1: x(share), x2: x(share), y1: m.t, y2: H - m.b }));
      parts.push(svg("text", { x: x(share), y: H - m.b + 16, "text-anchor": "middle", text: String(share) }));
    }
    parts.push(svg("line", { class: "axis", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
    const dense = 100 * final.baseline_accuracy;
    parts.push(svg("line", { x1: m.l, x2: W - m.r, y1: y(dense), y2: y(dense), stroke: GREY, "stroke-width": 2, "stroke-dasharray": "5 4" }));
    const order = shares.map((s, k) => k).sort((a, b) => shares[a] - shares[b]);
    const points = order.map((k) => `${x(shares[k]).toFixed(1)},${y(100 * curve.accuracy[k]).toFixed(1)}`).join(" ");
    parts.push(svg("polyline", { points, fill: "none", stroke: BLUE, "stroke-width": 2.5 }));
    const px = x(100 * final.pruned_share);
    const py = y(100 * final.accuracy_after);
    parts.push(svg("circle", { cx: px, cy: py, r: 6.5, fill: VERMILION, stroke: themeColours().panel, "stroke-width": 2 }));
    const anchor = px > W * 0.6 ? "end" : "start";
    parts.push(svg("text", { x: px + (anchor === "end" ? -10 : 10), y: Math.min(H - m.b - 8, py + (py < m.t + 30 ? 18 : -10)), "text-anchor": anchor, "font-weight": 700, text: `${ruleText(theory)}: ${percent(final.pruned_share)}, ${percent(final.accuracy_after)}` }));
    parts.push(svg("text", { x: W / 2, y: H - 6, "text-anchor": "middle", text: "weights pruned (%)" }));
    parts.push(svg("text", { x: 12, y: (H - m.b) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(H - m.b) / 2})`, text: "test accuracy (%)" }));
    this.curve.replaceChildren(...parts);
    titleSvg(this.curve, `test accuracy of the trained network against the share of weights pruned, one point per `
      + `${theory.curve.parameter === "snr" ? "SNR" : "log α"} threshold; at the current threshold (${ruleText(theory)}) `
      + `${percent(final.pruned_share)} pruned and ${percent(final.accuracy_after)} accurate; the dense network ${percent(final.baseline_accuracy)}`);
    this.curveCaption.replaceChildren(
      element("span", { class: "title", text: "Accuracy against sparsity" }), " ",
      element("span", { class: "detail", text: `the trained network, pruned at each ${theory.curve.parameter === "snr" ? "SNR" : "log α"} threshold` }),
    );
    this.curveLegend.replaceChildren(legend([
      [BLUE, `test accuracy at each threshold (${theory.curve.parameter === "snr" ? "SNR 0.05 to 20" : "log α −8 to 8"})`, "line"],
      [VERMILION, "the current threshold"],
      [GREY, `dense network: ${percent(final.baseline_accuracy)}`, "line"],
    ]));
  }

  // One heatmap per layer: kept weights blue (> 0) or orange (< 0), pruned ones blank.
  #heatmaps(frame, theory) {
    const blank = rgb(themeColours().panel);
    const figures = theory.sizes.slice(1).map((_, l) => {
      const layer = layerArrays(frame, l);
      const canvas = element("canvas", { width: layer.columns, height: layer.rows, role: "img" });
      const ctx = canvas.getContext("2d");
      const pixels = ctx.createImageData(layer.columns, layer.rows);
      const s = theory.weight_scale[l];
      let kept = 0;
      for (let index = 0; index < layer.rows * layer.columns; index += 1) {
        let colour = blank;
        if (layer.kept[index]) {
          kept += 1;
          const w = layer.value(index);
          const t = Math.min(1, Math.abs(w) / s);
          const target = w >= 0 ? POSITIVE : NEGATIVE;
          colour = [0, 1, 2].map((c) => Math.round(255 + (target[c] - 255) * (0.15 + 0.85 * t)));
        }
        pixels.data.set([...colour, 255], 4 * index);
      }
      ctx.putImageData(pixels, 0, 0);
      const total = layer.rows * layer.columns;
      canvas.setAttribute("aria-label", `layer ${l + 1}: ${kept} of ${total} weights kept`);
      canvas.style.aspectRatio = `${layer.columns} / ${Math.max(layer.rows, layer.columns / 8)}`;
      return element("figure", { class: "heatmap" }, [
        element("figcaption", { text: `layer ${l + 1}: ${layer.columns} → ${layer.rows}, ${thousands(kept)} of ${thousands(total)} kept (${percent(kept / total)})` }),
        canvas,
      ]);
    });
    this.heatmaps.replaceChildren(...figures);
    this.heatmapLegend.replaceChildren(legend([
      [BLUE, "weight > 0"], [ORANGE, "weight < 0 (deeper: larger |weight|)"], [themeColours().line, "blank: pruned"],
    ]));
  }

  #widths(frame, theory) {
    const sizes = theory.sizes;
    const names = sizes.map((_, l) => (l === 0 ? "inputs" : l === sizes.length - 1 ? "outputs" : `hidden ${l}`));
    const row = (label, values) => element("tr", {}, [element("th", { scope: "row", text: label }), ...values.map((v) => element("td", { text: String(v) }))]);
    this.widths.replaceChildren(element("table", { class: "widths" }, [
      element("tr", {}, [element("th", { text: "" }), ...names.map((n) => element("th", { scope: "col", text: n }))]),
      row("before", sizes),
      row(`iteration ${frame.iteration}`, frame.widths_after),
      row("trained", theory.final.widths_after),
    ]));
    this.note.textContent = theory.variant === "sbp"
      ? "Structured Bayesian pruning multiplies every neuron that feeds a layer (the input pixels too) by a log-normal noise θ, log θ ~ N(μ, σ²) "
        + "truncated to [−20, 0]; a neuron whose noise is mostly noise (SNR = E[θ] / std θ at or below the threshold) is removed with all its "
        + "connections, so the layers become narrower: the network stays dense, only smaller."
      : "Sparse variational dropout gives every weight its own Gaussian dropout, w = θ·ξ with ξ ~ N(1, α), and learns α. The KL term pushes α up "
        + "wherever the data allow; a weight with log α ≥ 3 carries almost only noise and is set to zero. A neuron whose connections all "
        + "went is out of use: the widths count the neurons still on a path from an input to an output.";
  }

  announce(frame, theory) {
    const neurons = theory.variant === "sbp" ? `, ${percent(frame.dropped_fraction)} of neurons removed` : "";
    return `Iteration ${frame.iteration}, step ${frame.step} of ${theory.steps}: ${percent(frame.pruned_share)} of the weights pruned `
      + `(${percent(theory.final.pruned_share)} when trained)${neurons}; test accuracy ${percent(frame.accuracy_after)} after pruning, `
      + `${percent(frame.accuracy_before)} before.`;
  }

  numbers(frame, theory) {
    const structured = theory.variant === "sbp";
    const rows = [
      { term: "checkpoint", measured: `step ${frame.step} of ${theory.steps}, epoch ${fmt(frame.epoch, 1)}` },
      { term: `weights pruned (${ruleText(theory)})`, measured: percent(frame.pruned_share), expected: `${percent(theory.final.pruned_share)} when trained` },
      { term: "test accuracy, before → after pruning", measured: `${percent(frame.accuracy_before)} → ${percent(frame.accuracy_after)}` },
      { term: "dense network, same step", measured: percent(frame.baseline_accuracy) },
      { term: "compression", measured: times(frame.compression) },
      { term: "loss = data term + KL weight × KL term", measured: frame.loss === null ? "– (before training)" : `${fmt(frame.loss)} = ${fmt(frame.data_term)} + ${fmt(frame.kl_weight, 2)} × ${fmt(frame.kl_term)}` },
    ];
    if (structured) rows.splice(2, 0, { term: "neurons removed", measured: percent(frame.dropped_fraction), expected: `${percent(theory.final.dropped_fraction)} when trained` });
    return rows;
  }

  series(series) {
    const x = series.frames.map((frame) => frame.iteration);
    return {
      title: "over training (iteration = checkpoint)",
      yTitle: "share",
      x,
      lines: [
        { name: "weights pruned, measured", y: series.frames.map((frame) => frame.pruned_share), role: "measured" },
        { name: "dense network's accuracy", y: series.frames.map((frame) => frame.baseline_accuracy), role: "expected" },
        { name: "test accuracy after pruning", y: series.frames.map((frame) => frame.accuracy_after), role: "extra" },
      ],
      yRange: [0, 1.02],
    };
  }

  bars(frame, theory) {
    const sizes = theory.sizes;
    return {
      title: `weights kept per layer, iteration ${frame.iteration}`,
      yTitle: "share kept",
      x: frame.layer_kept.map((_, l) => `layer ${l + 1} (${sizes[l]}→${sizes[l + 1]})`),
      y: frame.layer_kept.map((kept, l) => kept / frame.layer_weights[l]),
      name: "kept at this checkpoint",
      expected: { y: theory.final.layer_kept.map((kept, l) => kept / theory.final.layer_weights[l]), name: "kept when trained" },
    };
  }

  derived() {
    return null;
  }
}
