// The residual view: DropPath (stochastic depth, Huang et al. 2016) on a stack of residual
// blocks. A batch of patches of the picture goes through the stack: each row is a sample,
// its main line the shortcut (never dropped), each arch a block's branch, cut when DropPath
// dropped it this iteration; the output of the training pass beside the test-time network's.
// Under it, the survival probability of each block with the expected depth, and the
// test-time rule. Every number arrives computed from the server (app/wire.py).
// Papers: Huang et al. 2016, "Deep Networks with Stochastic Depth" (the gate, the linear decay,
// the expected depth); the name drop-path is from Larsson et al. 2017 (FractalNet), where it
// drops the inputs of a join: a different mechanism, named alike by timm and torchvision.

import { fetchScene } from "../api.js";
import { element, svg, linkViewStyles } from "../dom.js";
import { fmt } from "../stats.js";
import { share, titleSvg } from "./titles.js";

import { GREY, ORANGE, VERMILION, modeWords, outputImage, percent, rich, ruleWords, svgRich, theme } from "./residual_parts.js";

export default class ResidualView {
  static needsImage = true;

  constructor(root, extra, context) {
    linkViewStyles("residual");
    this.root = root;
    this.context = context;
    this.scene = null;
    this.image = null;
    this.last = null;
    this.images = new Map();
    root.classList.add("residual-view");
    this.caption = element("figcaption");
    this.stack = titleSvg(svg("svg", { class: "stack" }), "the batch through the residual stack");
    this.legend = element("ul", { class: "residual-legend", "aria-label": "what the colours mean" });
    this.note = element("p", { class: "residual-note" });
    this.survival = titleSvg(svg("svg", { class: "survival-chart" }), "survival probability per block");
    this.survivalKey = element("ul", { class: "residual-legend" });
    this.depth = element("p", { class: "expected-depth" });
    this.rule = element("section", { class: "view test-rule" });
    this.figure = element("figure", { class: "view stack-figure" }, [this.caption, this.stack, this.legend]);
    this.container = element("div", { class: "residual" }, [
      this.figure,
      element("div", { class: "residual-row" }, [
        element("section", { class: "view survival" }, [
          element("h3", { text: "Survival over depth" }),
          this.depth,
          this.survival,
          this.survivalKey,
        ]),
        this.rule,
      ]),
      this.note,
    ]);
    root.prepend(this.container);
    this.width = 0;
    this.resize = new ResizeObserver(() => {
      const width = Math.round(this.stack.getBoundingClientRect().width);
      if (width && Math.abs(width - this.width) > 2 && this.last) this.paint(this.last.frame, this.last.header);
    });
    this.resize.observe(this.figure);
  }

  destroy() {
    this.resize.disconnect();
    this.container.remove();
    this.root.classList.remove("residual-view");
  }

  loaded(state) {
    return this.image === state.image && this.scene !== null;
  }

  async load(state) {
    if (this.loaded(state)) return;
    const scene = await fetchScene("residual", state.image);
    this.scene = scene;
    this.image = state.image;
    this.pictureUrl = this.context.imageUrl(state.image);
    this.note.textContent = `Each sample is a ${2 * scene.side} × ${2 * scene.side} patch of the picture (at ${scene.stage_width} × ${scene.stage_height}; `
      + "its most active squares, most active first). It goes through the stage of the feature-map view (8 fixed filters, ReLU, 2 × 2 max pooling: "
      + `${scene.side} × ${scene.side} × ${scene.channels} activations), then through the residual blocks: each branch is conv 3 × 3 → ReLU → conv 3 × 3 `
      + "with fixed random weights (He initialisation, seeded, not trained), so a branch adds a fifth of its input's size on average, "
      + "as in a residual network at its initialisation.";
  }

  paint(frame, header) {
    if (!this.scene) return;
    this.last = { frame, header };
    const { theory } = header;
    this.#drawStack(frame, theory);
    this.#legend(theory);
    this.#drawSurvival(frame, theory);
    this.#drawRule(frame, theory);
    const dropped = frame.gates.flat().filter((g) => g === 0).length;
    const total = theory.batch * theory.blocks;
    this.caption.replaceChildren(
      element("span", { class: "title", text: `training, iteration ${frame.iteration}` }), " ",
      element("span", { class: "detail", text: `${dropped} of ${total} branches dropped · ${modeWords(theory.mode)}` }),
    );
  }

  // The batch through the stack: a row per sample, then the test-time network.
  #drawStack(frame, theory) {
    const colours = theme();
    const width = Math.max(420, Math.round(this.stack.getBoundingClientRect().width) || 560);
    this.width = width;
    const font = Math.max(12, Math.round(colours.base * 0.78));
    const small = Math.max(11, Math.round(colours.base * 0.7));
    const B = theory.batch;
    const L = theory.blocks;
    // Thumbnails grow with the width (a wide screen has the room), smaller for a large batch.
    let thumb = B <= 8 ? Math.max(40, Math.min(64, Math.round(width / 22))) : Math.max(30, Math.min(46, Math.round(width / 30)));
    const headH = Math.round(font * 2.9);
    // An embed caps the drawing's height (its stylesheet): the rows shrink to fit the frame.
    const cap = parseFloat(getComputedStyle(this.stack).maxHeight);
    if (Number.isFinite(cap) && cap > 0) thumb = Math.max(14, Math.min(thumb, Math.floor((cap - headH - 18) / (B + 1)) - 8));
    const rowH = thumb + 8;
    const indexW = Math.round(font * 1.5);
    const textW = Math.round(font * 4.6);
    const x0 = indexW + thumb + 12; // the stack's left end
    // Between the two outputs: room for their labels "train" and "test" when the rows are small.
    const gap = Math.max(6, Math.ceil(0.6 * small * 5 + 4 - thumb));
    const pairW = 2 * thumb + gap;
    const outX = width - textW - pairW - 8; // the first output
    const x1 = outX - 14; // the stack's right end
    const tight = rowH < 2 * font + 8; // one line per row: the depth, not its Δ
    const cell = (x1 - x0) / L;
    const testTop = headH + B * rowH + 14;
    const height = testTop + rowH + 4;
    this.stack.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.stack.setAttribute("width", width);
    this.stack.setAttribute("height", height);
    const parts = [];
    const text = (x, y, words, attributes = {}) => svg("text", { x, y, "font-size": font, fill: colours.ink, ...attributes }, svgRich(words));
    // Column heads.
    const headY = Math.round(font * 1.1);
    const subY = Math.round(font * 2.35);
    parts.push(text(indexW + thumb / 2, headY, "sample", { "text-anchor": "middle" }));
    parts.push(text((x0 + x1) / 2, headY, `${L} residual block${L === 1 ? "" : "s"}: H + branch f(H)`, { "text-anchor": "middle" }));
    parts.push(text(outX + pairW / 2, headY, "output |H_L|", { "text-anchor": "middle" }));
    parts.push(text(outX + thumb / 2, subY, "train", { "text-anchor": "middle", "font-size": small, fill: colours.muted }));
    parts.push(text(outX + 1.5 * thumb + gap, subY, "test", { "text-anchor": "middle", "font-size": small, fill: colours.muted }));
    parts.push(text(width - textW / 2, headY, "depth", { "text-anchor": "middle" }));
    if (!tight) parts.push(text(width - textW / 2, subY, "Δ output", { "text-anchor": "middle", "font-size": small, fill: colours.muted }));
    const every = cell >= small * 1.6 ? 1 : 2;
    for (let l = 0; l < L; l += 1) {
      if (l % every !== 0 && l !== L - 1) continue;
      parts.push(text(x0 + cell * (l + 0.5), subY, String(l + 1), { "text-anchor": "middle", "font-size": small, fill: colours.muted }));
    }
    const boxes = this.scene.samples;
    frame.samples.forEach((sample, b) => {
      const top = headH + b * rowH;
      const gates = frame.gates[b];
      parts.push(text(indexW - 6, top + rowH / 2 + font * 0.35, String(b + 1), { "text-anchor": "end", "font-size": small, fill: colours.muted }));
      parts.push(this.#patch(boxes[b], indexW, top + 4, thumb, colours));
      this.#row(parts, { top, rowH, x0, x1, cell, gates, colours, sample: b + 1 });
      parts.push(this.#output(sample.output, outX, top + 4, thumb, theory.side, colours, `sample ${b + 1}, output while training`));
      parts.push(this.#output(theory.test.outputs[b], outX + thumb + gap, top + 4, thumb, theory.side, colours, `sample ${b + 1}, output at test time`));
      const cut = sample.depth < L;
      parts.push(text(width - textW / 2, tight ? top + rowH / 2 + font * 0.35 : top + rowH / 2 - 2, `${sample.depth} / ${L}`, { "text-anchor": "middle", "font-weight": cut ? 700 : 400 }));
      if (!tight) parts.push(text(width - textW / 2, top + rowH / 2 + font, `Δ ${percent(sample.change)}`, { "text-anchor": "middle", "font-size": small, fill: colours.muted }));
    });
    // The test-time network: every branch, unscaled.
    parts.push(svg("line", { x1: 0, x2: width, y1: testTop - 7, y2: testTop - 7, stroke: colours.line, "stroke-width": 1 }));
    if (tight) {
      parts.push(text(indexW + thumb / 2 - indexW / 2, testTop + rowH / 2 + font * 0.35, "test", { "text-anchor": "middle", "font-weight": 700 }));
    } else {
      parts.push(text(indexW + thumb / 2 - indexW / 2, testTop + rowH / 2 - 2, "test", { "text-anchor": "middle", "font-weight": 700 }));
      parts.push(text(indexW + thumb / 2 - indexW / 2, testTop + rowH / 2 + font, "time", { "text-anchor": "middle", "font-weight": 700 }));
    }
    this.#row(parts, { top: testTop, rowH, x0, x1, cell, gates: null, colours });
    if (pairW >= 0.6 * small * 13 && !tight) {
      parts.push(text(outX + pairW / 2, testTop + rowH / 2 - 2, "every branch,", { "text-anchor": "middle", "font-size": small, fill: colours.muted }));
      parts.push(text(outX + pairW / 2, testTop + rowH / 2 + small, "× 1", { "text-anchor": "middle", "font-size": small, fill: colours.muted }));
    } else {
      parts.push(text(outX + pairW / 2, testTop + rowH / 2 + small * 0.35, "× 1", { "text-anchor": "middle", "font-size": small, fill: colours.muted }));
    }
    parts.push(text(width - textW / 2, tight ? testTop + rowH / 2 + font * 0.35 : testTop + rowH / 2 - 2, `${L} / ${L}`, { "text-anchor": "middle" }));
    this.stack.replaceChildren(...parts);
    const depths = frame.samples.map((s) => s.depth).join(", ");
    titleSvg(this.stack, `iteration ${frame.iteration}: ${B} samples through ${L} residual blocks, ${Math.round(100 * frame.dropped_fraction)} % of the branches dropped; `
      + `depth of each sample: ${depths} of ${L}; below, the test-time network with every branch`);
  }

  // The patch of the picture a sample is: the picture, cropped by a nested viewport.
  #patch(box, x, y, size, colours) {
    const [top, left, height, width] = box;
    const inner = svg("svg", { x, y, width: size, height: size, viewBox: `${left} ${top} ${width} ${height}`, preserveAspectRatio: "none", class: "patch" }, [
      svg("image", { href: this.pictureUrl, x: 0, y: 0, width: 1, height: 1, preserveAspectRatio: "none" }),
    ]);
    return svg("g", {}, [inner, svg("rect", { x, y, width: size, height: size, fill: "none", stroke: colours.line })]);
  }

  #output(encoded, x, y, size, side, colours, label) {
    return svg("g", {}, [
      svg("image", { href: outputImage(encoded, side, this.images), x, y, width: size, height: size, preserveAspectRatio: "none", class: "output", "data-output": label }),
      svg("rect", { x, y, width: size, height: size, fill: "none", stroke: colours.line }),
    ]);
  }

  // One row: the shortcut, and per block its branch (kept, dropped, or at test time).
  // Each branch is a <g class="branch kept|dropped|test" data-sample data-block> (1-based).
  #row(parts, { top, rowH, x0, x1, cell, gates, colours, sample = 0 }) {
    const y0 = top + rowH * 0.74;
    const yb = top + rowH * 0.3;
    const span = Math.min(cell * 0.72, rowH * 1.5); // the arch: from the split to the join
    const boxW = Math.max(6, Math.min(span * 0.45, 30));
    const boxH = Math.max(8, Math.min(rowH * 0.3, 18));
    const stroke = Math.max(1.5, Math.min(3, cell / 12));
    parts.push(svg("line", { x1: x0 - 6, x2: x1 + 6, y1: y0, y2: y0, stroke: colours.ink, "stroke-width": stroke + 0.5 }));
    parts.push(svg("path", { d: `M${x1 + 2} ${y0 - 5}L${x1 + 9} ${y0}L${x1 + 2} ${y0 + 5}Z`, fill: colours.ink }));
    const L = Math.round((x1 - x0) / cell);
    for (let l = 0; l < L; l += 1) {
      const own = [];
      const cx = x0 + cell * (l + 0.5);
      const left = cx - span / 2;
      const right = cx + span / 2;
      const factor = gates ? gates[l] : 1;
      const dropped = factor === 0;
      const colour = dropped ? GREY : colours.kept;
      const dash = dropped ? "4 3" : "none";
      own.push(svg("path", {
        d: `M${left} ${y0}L${left} ${yb}L${cx - boxW / 2} ${yb}M${cx + boxW / 2} ${yb}L${right} ${yb}L${right} ${y0}`,
        fill: "none", stroke: colour, "stroke-width": stroke, "stroke-dasharray": dash, "stroke-linejoin": "round",
      }));
      own.push(svg("rect", {
        x: cx - boxW / 2, y: yb - boxH / 2, width: boxW, height: boxH, rx: 3,
        fill: dropped ? colours.panel : colours.kept, "fill-opacity": dropped ? 1 : 0.22, stroke: colour, "stroke-width": stroke * 0.8, "stroke-dasharray": dash,
      }));
      own.push(svg("circle", { cx: right, cy: y0, r: stroke + 1.5, fill: dropped ? colours.panel : colours.kept, stroke: dropped ? GREY : colours.kept, "stroke-width": 1 }));
      if (dropped) { // the cut: a cross on the branch's way in
        const d = Math.max(4, Math.min(7, cell * 0.16));
        const cy = (y0 + yb) / 2;
        own.push(svg("path", { d: `M${left - d} ${cy - d}L${left + d} ${cy + d}M${left + d} ${cy - d}L${left - d} ${cy + d}`, stroke: VERMILION, "stroke-width": Math.max(2.5, stroke + 0.5), "stroke-linecap": "round" }));
      }
      const state = gates ? (dropped ? "dropped" : "kept") : "test";
      parts.push(svg("g", { class: `branch ${state}`, "data-sample": sample, "data-block": l + 1 }, own));
    }
  }

  #legend(theory) {
    const colours = theme();
    const key = (glyph, words) => element("li", {}, [glyph, element("span", {}, rich(words))]);
    const glyph = (children, width = 34) => svg("svg", { width, height: 18, viewBox: `0 0 ${width} 18`, "aria-hidden": "true" }, children);
    this.legend.replaceChildren(
      key(glyph([svg("line", { x1: 2, x2: 32, y1: 9, y2: 9, stroke: colours.ink, "stroke-width": 3 })]), "shortcut: the identity, never dropped"),
      key(glyph([svg("path", { d: "M4 16L4 5L30 5L30 16", fill: "none", stroke: colours.kept, "stroke-width": 2.5 })]), "branch kept, its output × 1 / s_l"),
      key(glyph([
        svg("path", { d: "M4 16L4 5L30 5L30 16", fill: "none", stroke: GREY, "stroke-width": 2.5, "stroke-dasharray": "4 3" }),
        svg("path", { d: "M0 7L8 15M8 7L0 15", stroke: VERMILION, "stroke-width": 2.5 }),
      ]), "branch dropped: the block passes H on unchanged"),
      key(glyph([svg("rect", { x: 3, y: 3, width: 6, height: 12, fill: "#000" }), svg("rect", { x: 9, y: 3, width: 6, height: 12, fill: "#fff" }), svg("rect", { x: 2.5, y: 2.5, width: 13, height: 13, fill: "none", stroke: colours.muted })], 18),
        `output: the norm of H_L over its ${theory.channels} channels, black 0, white the test output's maximum (clipped); Δ: |train − test| / |test|`),
    );
  }

  // Bars of s_l per block (orange: expected), the share of the batch kept this iteration as
// diamonds (the kept branch's colour: measured), as the statistics charts colour them.
  #drawSurvival(frame, theory) {
    const colours = theme();
    const L = theory.blocks;
    const font = Math.max(12, Math.round(colours.base * 0.72));
    const width = 360;
    const height = 150;
    const left = 34;
    const bottom = height - font - 8;
    const top = 8;
    const right = width - 6;
    const cell = (right - left) / L;
    const y = (v) => bottom - (bottom - top) * v;
    const parts = [];
    for (const v of [0, 0.5, 1]) {
      parts.push(svg("line", { x1: left, x2: right, y1: y(v), y2: y(v), stroke: colours.line, "stroke-width": 1 }));
      parts.push(svg("text", { x: left - 5, y: y(v) + font * 0.35, "text-anchor": "end", "font-size": font, fill: colours.muted, text: String(v) }));
    }
    theory.survival.forEach((s, l) => {
      const x = left + cell * l + cell * 0.15;
      parts.push(svg("rect", { x, y: y(s), width: cell * 0.7, height: Math.max(0, bottom - y(s)), fill: ORANGE, "fill-opacity": 0.45, stroke: ORANGE, "stroke-width": 1.5 }));
      const kept = frame.kept_per_block[l];
      const cx = left + cell * (l + 0.5);
      const d = Math.min(7, cell * 0.3);
      parts.push(svg("path", { d: `M${cx} ${y(kept) - d}L${cx + d} ${y(kept)}L${cx} ${y(kept) + d}L${cx - d} ${y(kept)}Z`, fill: colours.kept, stroke: colours.ink, "stroke-width": 0.8 }));
      if (cell >= font * 1.4 || l === 0 || l === L - 1) {
        parts.push(svg("text", { x: cx, y: height - 4, "text-anchor": "middle", "font-size": font, fill: colours.muted, text: String(l + 1) }));
      }
    });
    this.survival.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.survival.replaceChildren(...parts);
    titleSvg(this.survival, `bars: survival probability of blocks 1 to ${L}; diamonds: the share kept this iteration, `
      + `${frame.kept_per_block.map((k) => fmt(k, 2)).join(", ")}; the survival probabilities: ${theory.survival.map((s) => fmt(s, 2)).join(", ")}`);
    const swatch = (colour, shape, extra = "") => element("span", { class: `swatch ${shape}`, style: `background:${colour};${extra}` });
    this.survivalKey.replaceChildren(
      element("li", {}, [swatch(`${ORANGE}73`, "bar", `border:1.5px solid ${ORANGE}`), element("span", {}, rich(`s_l, the survival probability of block l: ${ruleWords(theory)}`))]),
      element("li", {}, [swatch(colours.kept, "diamond"), element("span", { text: theory.mode === "batch" ? "kept this iteration (the whole batch: 0 or 1)" : `share of the ${theory.batch} samples whose branch l was kept this iteration` })]),
    );
    this.depth.replaceChildren(
      element("span", { class: "big" }, rich(`E[depth] = Σ s_l = ${fmt(theory.expected_depth, 2)}`)),
      ` of ${L} block${L === 1 ? "" : "s"} (sd ${fmt(theory.depth_sd, 2)}); this iteration ${fmt(frame.depth_mean, 2)}, the mean over the batch.`,
    );
  }

  #drawRule(frame, theory) {
    const ensemble = theory.ensemble;
    const factors = theory.train_factor.filter((f) => f !== null);
    const range = factors.length ? `${fmt(Math.min(...factors), 2)} to ${fmt(Math.max(...factors), 2)}` : "none survive";
    const row = (label, value) => element("tr", {}, [element("th", { scope: "row", text: label }), element("td", { text: value })]);
    this.rule.replaceChildren(
      element("h3", { text: "Test-time rule" }),
      element("p", {}, [
        element("strong", { text: "Training: " }),
        ...rich("H_l = H_{l−1} + (b_l / s_l) · f_l(H_{l−1}), b_l ~ Bernoulli(s_l). A kept branch is scaled by 1 / s_l "
          + `(here × ${range}), so E[(b_l / s_l) · f_l] = f_l.`),
      ]),
      element("p", {}, [
        element("strong", { text: "Test time: " }),
        ...rich("identity. Every branch, unscaled: H_l = H_{l−1} + f_l(H_{l−1})."),
      ]),
      element("table", { class: "outputs" }, [
        element("caption", { text: "how far from the test-time network (|Δ output| / |test output|, mean over the batch)" }),
        row(`this iteration's sub-network`, percent(frame.output_change)),
        row(`one sub-network, on average over ${ensemble.passes}`, percent(ensemble.single_mean)),
        row(`the mean of ${ensemble.passes} sub-networks`, percent(ensemble.change_mean)),
      ]),
      element("p", {}, rich("Even a pass that drops nothing differs from the test network: its branches are scaled by 1 / s_l.")),
      element("p", { class: "help" }, rich("Exact block by block; through the nonlinear stack the test network is close to the sub-networks' mean, not equal to it. "
        + "Huang et al.'s original form: no scaling while training, the branch × s_l at test time (the same expectation).")),
    );
  }

  announce(frame, theory) {
    const dropped = frame.gates.flat().filter((g) => g === 0).length;
    return `Iteration ${frame.iteration}: ${dropped} of ${theory.batch * theory.blocks} branches dropped (${share(frame.dropped_fraction)}, `
      + `expected ${share(theory.expected_dropped_fraction)}); mean depth ${fmt(frame.depth_mean, 2)} of ${theory.blocks} blocks, expected ${fmt(theory.expected_depth, 2)}.`;
  }

  numbers(frame, theory) {
    return [
      { term: "branches dropped", measured: fmt(frame.dropped_fraction), expected: fmt(theory.expected_dropped_fraction) },
      { term: "depth, mean over the batch", measured: fmt(frame.depth_mean, 2), expected: fmt(theory.expected_depth, 2) },
      { term: "depth of sample 1", measured: String(frame.depth_first), expected: fmt(theory.expected_depth, 2) },
      { term: "output vs test network", measured: percent(frame.output_change), expected: percent(theory.ensemble.single_mean) },
    ];
  }

  series(series) {
    const x = series.frames.map((frame) => frame.iteration);
    const expected = series.theory.expected_depth;
    return {
      title: "depth per iteration: blocks whose branch survived",
      yTitle: "blocks",
      x,
      lines: [
        { name: "measured, mean over the batch", y: series.frames.map((frame) => frame.depth_mean), role: "measured" },
        { name: "expected Σ s<sub>l</sub>", x: [x[0], x[x.length - 1]], y: [expected, expected], role: "expected" },
        { name: "sample 1", y: series.frames.map((frame) => frame.depth_first), role: "extra" },
      ],
      yRange: [0, series.theory.blocks + 0.3],
    };
  }

  bars(frame, theory) {
    const x = theory.survival.map((_, l) => l + 1);
    return {
      title: "branches kept per block l = 1 … L, this iteration",
      yTitle: "share of the batch",
      x,
      y: frame.kept_per_block,
      name: "kept this iteration",
      expected: { y: theory.survival, name: "survival s<sub>l</sub>" },
    };
  }

  derived() {
    return null;
  }
}
