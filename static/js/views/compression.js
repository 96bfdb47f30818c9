// The compression view: a network trained in the server with sparse variational dropout (a
// dropout rate α per weight, Molchanov et al. 2017) or structured Bayesian pruning (a noise per
// neuron, Neklyudov et al. 2017), pruned at the threshold. An iteration is a checkpoint of the
// training run (0: as initialised, 99: trained): the network diagram with only its kept
// connections, the log α histogram with the threshold line, accuracy against sparsity as the
// threshold moves, the weight matrices as heatmaps; under it the training run itself, streamed
// (GET /api/train/compression): the loss split into its data term and its KL term. Every number
// arrives computed from the server; this module only draws.

import { OKABE_ITO, OKABE_RGB } from "../colours.js";
import { renderControls } from "../controls.js";
import { element, svg, linkViewStyles } from "../dom.js";
import { describeChart, loadPlotly } from "../plotly.js";
import { paramQuery } from "../state.js";
import { fmt } from "../stats.js";
import { StreamedTraining } from "./streamed_training.js";
import { titleSvg } from "./titles.js";

const { blue: BLUE, orange: ORANGE, vermilion: VERMILION, sky: SKY } = OKABE_ITO;
const GREY = "#8c8c8c";
const POSITIVE = OKABE_RGB.blue; // a weight > 0
const NEGATIVE = OKABE_RGB.orange; // a weight < 0
const TRAINING_KEYS = ["dataset", "variant", "width", "depth", "epochs", "lr", "warmup"];
const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

const percent = (fraction, digits = 1) => (fraction === null || fraction === undefined ? "–" : `${(100 * fraction).toFixed(digits)} %`);
const times = (factor) => (factor === null || factor === undefined ? "∞" : `× ${factor >= 10 ? factor.toFixed(0) : factor.toFixed(1)}`);
const thousands = (n) => n.toLocaleString("en-US").replaceAll(",", " ");

function themeColours() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return { ink: read("--ink"), muted: read("--muted"), panel: read("--panel"), line: read("--line") };
}

function rgb(colour) {
  const probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = colour;
  const hex = probe.fillStyle; // "#rrggbb" for an opaque colour
  return hex.startsWith("#") ? [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)) : [255, 255, 255];
}

// The weights of layer `l` as the frame carries them: a level per weight and the value of each
// level (app/wire.py), and the kept bits.
function layerArrays(frame, l) {
  const weights = frame[`weights_${l}`];
  const kept = frame[`kept_${l}`];
  const [, rows, columns] = weights.shape;
  return {
    rows, columns, kept: kept.bits,
    value: (index) => weights.factors[weights.levels[index]],
  };
}

function legend(items) {
  return element("p", { class: "compression-legend" }, items.map(([colour, label, kind = "box"]) => element("span", { class: "key" }, [
    element("span", { class: `swatch ${kind}`, style: kind === "ring" ? `border-color:${colour}` : `background:${colour}` }), ` ${label}`,
  ])));
}

function variantName(theory) {
  return theory.variant === "sbp" ? "structured BP" : "sparse VD";
}

// What is pruned, in words: "log α ≥ 3" or "SNR ≤ 1".
function ruleText(theory) {
  return theory.variant === "sbp" ? `SNR ≤ ${fmt(theory.snr, 2)}` : `log α ≥ ${fmt(theory.threshold, 1)}`;
}

function datasetName(theory) {
  return theory.dataset === "digits" ? "handwritten digits (8 × 8)" : `${theory.dataset} (2-D)`;
}

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
    this.training = context.compact || context.embedded ? null : new CompressionTraining(extra, context);
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
    this.#network(frame, theory);
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

  // The network at this checkpoint: only the kept connections are drawn (the pruned ones
  // vanish), neurons still in use filled, the others hollow (removed ones crossed out).
  #network(frame, theory) {
    const canvas = this.netCanvas;
    const scale = Math.min(2, window.devicePixelRatio || 1);
    // Laid out in CSS pixels at the size it is shown (text at its true size), 0.6 as high as wide.
    const W = Math.max(240, Math.round(canvas.getBoundingClientRect().width) || 960);
    const H = Math.round(Math.min(Math.max(180, W * 0.6), Math.max(360, window.innerHeight - 200)));
    const small = W < 420;
    canvas.width = W * scale;
    canvas.height = H * scale;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    const colours = themeColours();
    ctx.fillStyle = colours.panel;
    ctx.fillRect(0, 0, W, H);
    const sizes = theory.sizes;
    const image = theory.image_shape;
    const top = 42;
    const bottom = 24;
    const mapCell = image ? Math.min(24, (H - top - bottom) / image[0], W / 40) : 0;
    const left = image ? 12 + image[1] * mapCell + 40 : 60;
    const right = theory.dataset === "digits" ? 44 : 70;
    const columnX = (l) => left + ((W - left - right) * l) / (sizes.length - 1);
    const spots = sizes.map((n, l) => {
      const spacing = (H - top - bottom) / n;
      return Array.from({ length: n }, (_, k) => ({ x: columnX(l), y: top + spacing * (k + 0.5), r: Math.max(1.6, Math.min(9, spacing * 0.38)) }));
    });
    // Connections, grouped by colour and strength: one path each (tens of thousands at step 0).
    let keptTotal = 0;
    const layers = sizes.slice(1).map((_, l) => layerArrays(frame, l));
    for (const layer of layers) for (let i = 0; i < layer.kept.length; i += 1) keptTotal += layer.kept[i];
    const width = keptTotal > 4000 ? 0.5 : keptTotal > 1000 ? 0.8 : 1.3;
    const fade = Math.min(1, Math.sqrt(1200 / Math.max(1, keptTotal))); // thousands of lines: lighter
    const BUCKETS = 6;
    layers.forEach((layer, l) => {
      const s = theory.weight_scale[l];
      const paths = Array.from({ length: 2 * BUCKETS }, () => new Path2D());
      for (let j = 0; j < layer.rows; j += 1) {
        for (let i = 0; i < layer.columns; i += 1) {
          const index = j * layer.columns + i;
          if (!layer.kept[index]) continue;
          const w = layer.value(index);
          const strength = Math.min(1, Math.abs(w) / s);
          const bucket = Math.min(BUCKETS - 1, Math.floor(strength * BUCKETS));
          const path = paths[(w >= 0 ? 0 : BUCKETS) + bucket];
          path.moveTo(spots[l][i].x, spots[l][i].y);
          path.lineTo(spots[l + 1][j].x, spots[l + 1][j].y);
        }
      }
      ctx.lineWidth = width;
      for (let bucket = 0; bucket < BUCKETS; bucket += 1) { // weak first, the two signs in turn
        for (const [offset, colour] of [[0, BLUE], [BUCKETS, ORANGE]]) {
          ctx.strokeStyle = colour;
          ctx.globalAlpha = fade * (0.18 + (0.82 * (bucket + 1)) / BUCKETS);
          ctx.stroke(paths[offset + bucket]);
        }
      }
    });
    ctx.globalAlpha = 1;
    // Neurons.
    const alive = frame.alive;
    const removed = frame.neurons?.kept ?? null; // structured BP: 0 = removed by its SNR
    spots.forEach((column, l) => column.forEach((spot, k) => {
      const on = alive[l][k] === 1;
      ctx.beginPath();
      ctx.arc(spot.x, spot.y, spot.r, 0, 2 * Math.PI);
      ctx.fillStyle = on ? colours.ink : colours.panel;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = on ? colours.ink : GREY;
      ctx.stroke();
      if (removed && l < removed.length && removed[l][k] === 0) {
        const d = Math.max(2.5, spot.r * 0.9);
        ctx.strokeStyle = VERMILION;
        ctx.lineWidth = spot.r > 4 ? 2 : 1.2;
        ctx.beginPath();
        ctx.moveTo(spot.x - d, spot.y - d);
        ctx.lineTo(spot.x + d, spot.y + d);
        ctx.moveTo(spot.x + d, spot.y - d);
        ctx.lineTo(spot.x - d, spot.y + d);
        ctx.stroke();
      }
    }));
    // Labels: each column's width in use, the classes, the inputs.
    ctx.fillStyle = colours.ink;
    ctx.textAlign = "center";
    sizes.forEach((n, l) => {
      const inUse = alive[l].reduce((a, b) => a + b, 0);
      const name = l === 0 ? "inputs" : l === sizes.length - 1 ? "outputs" : `hidden ${l}`;
      ctx.font = `600 ${small ? 10 : W < 700 ? 12 : 14}px system-ui, sans-serif`;
      ctx.fillText(name, columnX(l), 13);
      ctx.font = `${small ? 9 : W < 700 ? 11 : 13}px system-ui, sans-serif`;
      ctx.fillText(l === sizes.length - 1 ? `${n}` : `${inUse} of ${n} in use`, columnX(l), 28);
    });
    ctx.font = `${small ? 10 : 13}px system-ui, sans-serif`;
    ctx.textAlign = "left";
    const classes = sizes[sizes.length - 1];
    spots[spots.length - 1].forEach((spot, k) => {
      ctx.fillText(theory.dataset === "digits" ? `“${DIGITS[k]}”` : `class ${k}`, spot.x + spot.r + 6, spot.y + 4);
    });
    if (!image) {
      ctx.textAlign = "right";
      spots[0].forEach((spot, k) => ctx.fillText(`x${k + 1}`, spot.x - spot.r - 6, spot.y + 4));
    } else {
      this.#pixelMap(ctx, frame, theory, { x: 12, y: top + (H - top - bottom - image[0] * mapCell) / 2, cell: mapCell }, colours);
    }
    const hidden = alive.slice(1, -1).flat();
    this.netCaption.replaceChildren(
      element("span", { class: "title", text: `Iteration ${frame.iteration}: step ${frame.step} of ${theory.steps} (epoch ${fmt(frame.epoch, 1)})` }), " ",
      element("span", { class: "detail", text: `${thousands(frame.weights_kept)} of ${thousands(frame.weights)} connections kept (${ruleText(theory)} pruned); ${classes} classes` }),
    );
    this.netCanvas.setAttribute("aria-label", `the network at iteration ${frame.iteration}: ${frame.weights_kept} of ${frame.weights} connections kept, `
      + `${hidden.filter((a) => a === 1).length} of ${hidden.length} hidden neurons in use`);
    const items = [
      [BLUE, "weight > 0", "line"], [ORANGE, "weight < 0", "line"],
      [colours.ink, "neuron in use", "ring"], [GREY, "neuron with no kept path (hollow)", "ring"],
    ];
    if (removed) items.push([VERMILION, "neuron removed (SNR at or below the threshold)", "box"]);
    if (image) items.push([SKY, "input pixel in use (darker: more kept connections; white: none)", "box"]);
    this.netLegend.replaceChildren(legend(items), element("p", { class: "help", text: "Only kept connections are drawn, darker for a larger |weight|: a pruned connection vanishes. Move the threshold and the diagram follows without training again." }));
  }

  // Digits: the 8 × 8 input pixels, each shaded by its kept outgoing connections.
  #pixelMap(ctx, frame, theory, { x, y, cell }, colours) {
    const [rows, columns] = theory.image_shape;
    const first = layerArrays(frame, 0);
    const counts = new Array(rows * columns).fill(0);
    for (let j = 0; j < first.rows; j += 1) {
      for (let i = 0; i < first.columns; i += 1) counts[i] += first.kept[j * first.columns + i];
    }
    const most = Math.max(1, ...counts);
    const alive = frame.alive[0];
    const sky = rgb(SKY);
    const blank = rgb(colours.panel); // a pixel out of use: the background (white in light)
    for (let k = 0; k < rows * columns; k += 1) {
      const t = alive[k] ? 0.25 + 0.75 * (counts[k] / most) : 0;
      const c = blank.map((w, m) => Math.round(w + (sky[m] - w) * t));
      ctx.fillStyle = `rgb(${c.join(",")})`;
      ctx.fillRect(x + (k % columns) * cell, y + Math.floor(k / columns) * cell, cell - 1, cell - 1);
    }
    ctx.strokeStyle = colours.line;
    ctx.lineWidth = 1;
    ctx.strokeRect(x - 0.5, y - 0.5, columns * cell, rows * cell);
    ctx.fillStyle = colours.ink;
    ctx.font = "13px system-ui, sans-serif";
    ctx.textAlign = "left";
    ctx.fillText("the 64 pixels:", x, y - 24);
    ctx.fillText("in use", x, y - 8);
    ctx.fillText("(the inputs, row", x, y + rows * cell + 16);
    ctx.fillText("by row, at right)", x, y + rows * cell + 32);
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

function trainingKey(params, seed) {
  return JSON.stringify([seed, ...TRAINING_KEYS.map((name) => params?.[name])]);
}

// ---------------------------------------------------------------- the training run

// The run under the view: its controls (the view's "training" parameters), Train and Stop, and
// two charts streamed as it goes: the loss split into its data term and its KL term, and the
// test accuracy (before and after pruning, and the dense network's) with the pruned share.
class CompressionTraining extends StreamedTraining {
  constructor(extra, context) {
    super(context, { probe: { state: "idle", events: 0, step: null, runs: 0, final: null }, probeName: "compressionTraining" });
    this.lossChart = element("div", { class: "loss-chart", role: "img", "aria-label": "the loss, its data term and its KL term, over the steps" });
    this.accuracyChart = element("div", { class: "loss-chart", role: "img", "aria-label": "test accuracy and the pruned share over the steps" });
    this.section = element("section", { class: "training compression-training", "aria-labelledby": "compression-training-title" }, [
      element("h2", { id: "compression-training-title", text: "Training: the ELBO, term by term" }),
      element("p", {
        class: "why-text",
        text: "The network above is trained in the server on minibatches of 128 with Adam: the loss is the negative ELBO per example, "
          + "the data term (cross-entropy) plus the KL term (the KL divergence to the log-uniform prior, divided by the number of training examples), "
          + "whose weight rises from 0 to 1 during the warm-up. The KL term is what drives α up and the weights out. "
          + "A plain network of the same shape trains alongside on the same minibatches: the dense reference.",
      }),
      element("div", { class: "training-grid" }, [
        this.controlsColumn(),
        element("div", { class: "charts" }, [this.lossChart, this.accuracyChart]),
      ]),
    ]);
    extra.append(this.section);
    this.startWhenSeen(this.section);
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
    await this.stream(query.toString(), `/api/train/compression?${query}`, {
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
