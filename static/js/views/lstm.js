// The LSTM view: where each recurrent dropout puts its mask and whether the mask changes over
// time (RNNDrop, Moon et al. 2015; recurrent dropout, Semeniuta et al. 2016; variational RNN
// dropout, Gal & Ghahramani 2016; zoneout, Krueger et al. 2016), against naive per-step dropout.
// An iteration is a new sequence and new masks; a time cursor moves through its steps. Drawn
// here: an LSTM cell with the places a mask can act on (x, h, g, c) and the method's marked,
// each mode's equation, the masks as time × unit heatmaps (the method's and the naive
// reference's), the cell state of a few units with the method, with naive dropout and without
// dropout. Below: the memory task, trained in the server per mode and streamed
// (GET /api/train?view=lstm): test accuracy against the distance k, one line per mode. Every
// number arrives computed from the server (dropouts/lab/views/lstm.py, dropouts/lab/memory.py); this
// module only draws.

import { OKABE_RGB } from "../colours.js";
import { element, svg, linkViewStyles } from "../dom.js";
import { fmt } from "../stats.js";
import { titleSvg } from "./titles.js";
import { BLUE, MARK, ORANGE, SKY, VERMILION, bitsOf, percent, themeColours } from "./lstm_parts.js";
import { drawDiagram, drawEquations } from "./lstm_diagram.js";
import { MemoryPanel } from "./lstm_memory.js";

const SWEEP_MS = 60; // per time step when the cursor sweeps through the sequence

export default class LSTMView {
  static needsImage = false;

  constructor(root, extra, context) {
    linkViewStyles("lstm");
    this.root = root;
    this.context = context;
    this.t = null; // the time step under the cursor (null: the last one)
    this.sweep = null;
    root.classList.add("lstm-view");
    this.summary = element("p", { class: "lstm-summary" });
    this.diagram = titleSvg(svg("svg", { class: "lstm-cell", viewBox: "0 0 660 312" }), "an LSTM cell and where the masks act");
    this.diagramCaption = element("figcaption");
    this.equations = element("table", { class: "lstm-equations" });
    this.sequence = element("canvas", { class: "lstm-heat lstm-sequence", role: "img", "aria-label": "the input sequence" });
    this.heatmaps = element("div", { class: "lstm-heatmaps" });
    this.legend = element("p", { class: "lstm-legend" });
    this.slider = element("input", { type: "range", id: "lstm-time", min: 0, max: 49, step: 1, value: 49, "data-param": "time-step" });
    this.timeValue = element("output", { for: "lstm-time", class: "value" });
    this.sweepButton = element("button", { type: "button", class: "button", text: "Sweep through time" });
    this.slider.addEventListener("input", () => {
      this.#stopSweep();
      this.#setTime(Number(this.slider.value));
    });
    this.sweepButton.addEventListener("click", () => (this.sweep ? this.#stopSweep() : this.#startSweep()));
    this.trajectories = element("div", { class: "lstm-trajectories" });
    this.trajectoryLegend = element("p", { class: "lstm-legend" });
    this.note = element("p", { class: "lstm-note" });
    this.container = element("div", { class: "lstm" }, [
      this.summary,
      element("div", { class: "lstm-row" }, [
        element("figure", { class: "view lstm-cell-figure" }, [this.diagramCaption, this.diagram]),
        element("section", { class: "view lstm-equations-box" }, [
          element("h3", { text: "Where each mode masks, and when it draws the mask" }),
          this.equations,
          element("p", { class: "help", text: "▶ the method shown here; in orange, naive dropout: the reference drawn beside it, the pitfall that erases the memory." }),
        ]),
      ]),
      element("section", { class: "view lstm-masks" }, [
        element("h3", { text: "The masks over time (rows: units; columns: time steps)" }),
        element("figure", { class: "lstm-heatmap" }, [element("figcaption", { text: "the input sequence x: a row per symbol (one of 4), blue where it is shown" }), this.sequence]),
        this.heatmaps,
        this.legend,
        element("div", { class: "lstm-time" }, [
          element("label", { for: "lstm-time" }, ["time step t ", this.timeValue]),
          this.slider,
          this.sweepButton,
        ]),
      ]),
      element("section", { class: "view lstm-states" }, [
        element("h3", { text: "The cell state c of the first units over time" }),
        this.trajectories,
        this.trajectoryLegend,
      ]),
      this.note,
    ]);
    root.prepend(this.container);
    this.memory = context.panels ? new MemoryPanel(extra, context) : null;
  }

  destroy() {
    this.#stopSweep();
    this.container.remove();
    this.root.classList.remove("lstm-view");
    this.memory?.destroy();
  }

  loaded() {
    return true; // no picture: the sequence arrives with the frame
  }

  async load(state) {
    this.memory?.show(state);
  }

  paint(frame, header) {
    const { theory } = header;
    this.frame = frame;
    this.theory = theory;
    this.header = header;
    const last = theory.length - 1;
    this.slider.max = String(last);
    if (this.t === null || this.t > last) this.t = last;
    this.slider.value = String(this.t);
    this.#summary(frame, theory);
    drawDiagram(this, theory);
    drawEquations(this, theory);
    this.#drawMasks();
    this.#drawTrajectories();
    this.#note(frame, theory);
  }

  methodName() {
    return this.context.method()?.name ?? this.theory.mode;
  }

  #summary(frame, theory) {
    const measure = theory.measure;
    const constant = frame.constant ? "the same mask at every step" : "a new mask at every step";
    this.summary.replaceChildren(
      element("strong", { text: `${this.methodName()}, iteration ${frame.iteration}: ` }),
      `${percent(frame.dropped_fraction)} of the units ${measure} (expected ${percent(theory.expected_dropped_fraction)}), ${constant}. `
        + `A ${theory.length}-step sequence through an LSTM of ${theory.units} units; each iteration draws a new sequence and new masks.`,
    );
  }

  // The sequence, then every mask of the method, then the naive reference's, as heatmaps.
  #drawMasks() {
    const { frame, theory } = this;
    const figures = theory.masks.map((mask) => ({
      key: `mask_${mask.key}`, spec: mask, title: `${this.methodName()}: ${mask.label}`, measured: frame.masks[mask.key],
    }));
    figures.push({ key: "naive_mask", spec: theory.naive, title: "naive dropout (the reference): a new mask mₜ on c at every step", measured: frame.naive });
    if (!this.maskFigures || this.maskFigures.map((f) => f.key).join() !== figures.map((f) => f.key).join()) {
      this.maskFigures = figures.map((figure) => {
        const canvas = element("canvas", { class: "lstm-heat", role: "img", "data-mask": figure.key });
        const caption = element("figcaption");
        const node = element("figure", { class: "lstm-heatmap" }, [caption, canvas]);
        return { ...figure, canvas, caption, node };
      });
      this.heatmaps.replaceChildren(...this.maskFigures.map((f) => f.node));
    } else {
      this.maskFigures.forEach((f, k) => Object.assign(f, figures[k]));
    }
    for (const figure of this.maskFigures) {
      const stats = figure.measured;
      const word = figure.spec.meaning;
      const kept = figure.spec.kept_value !== 1 && figure.spec.meaning === "dropped" ? `, kept units × ${fmt(figure.spec.kept_value, 2)}` : "";
      figure.caption.replaceChildren(
        element("span", { class: "title", text: figure.title }), " ",
        element("span", { class: "detail", text: `${percent(stats.dropped_fraction)} ${word} (expected ${percent(figure.spec.probability)})${kept}; ${stats.constant ? "constant over time" : `changes over time: ${percent(stats.changed_fraction)} of the units change from one step to the next`}` }),
      );
      figure.canvas.setAttribute("aria-label", `${figure.title}: ${percent(stats.dropped_fraction)} ${word}, ${stats.constant ? "constant over time" : "changing over time"}`);
    }
    const held = theory.masks.some((mask) => mask.meaning === "held");
    this.legend.replaceChildren(...[
      [MARK.kept, "kept (the unit passes)"],
      [MARK.dropped, "dropped (multiplied by 0)"],
      ...(held ? [[MARK.held, "zoneout: the unit keeps its previous value"]] : []),
      [null, "orange outline: the time step t"],
    ].map(([colour, label]) => element("span", { class: "key" }, [
      colour ? element("span", { class: "swatch", style: `background:rgb(${colour.join(",")})` }) : element("span", { class: "swatch cursor" }),
      ` ${label}`,
    ])));
    this.#paintHeatmaps();
  }

  #paintHeatmaps() {
    const { frame, theory } = this;
    const t = this.t;
    this.timeValue.textContent = `${t + 1} of ${theory.length}`;
    this.sequence.setAttribute("aria-label", `the input sequence x of iteration ${frame.iteration}: ${frame.symbols} symbols over ${theory.length} steps, `
      + `a row per symbol (one of ${theory.inputs}); step ${t + 1} outlined`);
    this.#heat(this.sequence, bitsOf(frame.x), "sequence", t);
    for (const figure of this.maskFigures) this.#heat(figure.canvas, bitsOf(frame[figure.key]), figure.spec.meaning, t);
  }

  // One heatmap: a cell per (unit, step), the column of step t outlined.
  #heat(canvas, mask, meaning, t) {
    const cell = Math.max(4, Math.min(14, Math.floor(900 / mask.steps)));
    const rowHeight = meaning === "sequence" ? 10 : Math.max(4, Math.min(9, Math.floor(260 / mask.rows)));
    const width = mask.steps * cell;
    const height = mask.rows * rowHeight;
    if (canvas.width !== width + 4 || canvas.height !== height + 4) {
      canvas.width = width + 4;
      canvas.height = height + 4;
    }
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = themeColours().panel;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const on = meaning === "dropped" ? MARK.kept : meaning === "held" ? MARK.held : OKABE_RGB.blue;
    const off = meaning === "dropped" ? MARK.dropped : MARK.kept;
    for (let r = 0; r < mask.rows; r += 1) {
      for (let s = 0; s < mask.steps; s += 1) {
        const colour = mask.at(r, s) ? on : off;
        ctx.fillStyle = `rgb(${colour[0]},${colour[1]},${colour[2]})`;
        ctx.fillRect(2 + s * cell, 2 + r * rowHeight, cell - (cell > 5 ? 1 : 0), rowHeight - (rowHeight > 5 ? 1 : 0));
      }
    }
    ctx.strokeStyle = ORANGE;
    ctx.lineWidth = 3;
    ctx.strokeRect(2 + t * cell - 0.5, 1, cell + 0.5, height + 2);
  }

  // Small multiples: per unit, c over time without dropout, with the method, with naive dropout.
  #drawTrajectories() {
    const { frame, theory } = this;
    const cells = frame.cells;
    const colours = themeColours();
    const symbols = bitsOf(frame.x);
    const steps = theory.length;
    const W = 300;
    const H = 150;
    const pad = { l: 34, r: 8, t: 20, b: 22 };
    const all = [cells.none, cells.method, cells.naive].flat(2);
    const top = Math.max(0.05, ...all.map(Math.abs)) * 1.08;
    const x = (s) => pad.l + ((W - pad.l - pad.r) * s) / Math.max(1, steps - 1);
    const y = (v) => pad.t + ((H - pad.t - pad.b) * (top - v)) / (2 * top);
    const path = (values) => values.map((v, s) => `${s ? "L" : "M"}${x(s).toFixed(1)} ${y(v).toFixed(1)}`).join("");
    this.trajectories.replaceChildren(...cells.units.map((unit, k) => {
      const parts = [
        svg("line", { x1: pad.l, x2: W - pad.r, y1: y(0), y2: y(0), stroke: colours.line }),
        svg("text", { x: pad.l - 4, y: y(top * 0.9) + 4, "text-anchor": "end", class: "tick", text: fmt(top * 0.9, 1) }),
        svg("text", { x: pad.l - 4, y: y(0) + 4, "text-anchor": "end", class: "tick", text: "0" }),
        svg("text", { x: pad.l - 4, y: y(-top * 0.9) + 4, "text-anchor": "end", class: "tick", text: fmt(-top * 0.9, 1) }),
        svg("text", { x: pad.l, y: 14, class: "unit", text: `unit ${unit + 1}` }),
        svg("text", { x: W - pad.r, y: H - 6, "text-anchor": "end", class: "tick", text: `step ${steps}` }),
        svg("text", { x: pad.l, y: H - 6, class: "tick", text: "step 1" }),
      ];
      for (let s = 0; s < steps; s += 1) {
        let shown = false;
        for (let r = 0; r < symbols.rows; r += 1) shown ||= Boolean(symbols.at(r, s));
        if (shown) parts.push(svg("line", { x1: x(s), x2: x(s), y1: H - pad.b, y2: H - pad.b + 6, stroke: SKY, "stroke-width": 3 }));
      }
      parts.push(
        svg("path", { d: path(cells.none[k]), fill: "none", stroke: colours.muted, "stroke-width": 2, "stroke-dasharray": "5 4" }),
        svg("path", { d: path(cells.naive[k]), fill: "none", stroke: VERMILION, "stroke-width": 2 }),
        svg("path", { d: path(cells.method[k]), fill: "none", stroke: BLUE, "stroke-width": 2.5 }),
        svg("line", { class: "cursor", x1: x(this.t), x2: x(this.t), y1: pad.t - 4, y2: H - pad.b, stroke: ORANGE, "stroke-width": 2 }),
      );
      return titleSvg(svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "lstm-trajectory" }, parts), this.#trajectoryWords(k));
    }));
    this.trajectoryLegend.replaceChildren(...[
      [BLUE, `with ${this.methodName()}`, "line"],
      [VERMILION, "with naive dropout (same p, a new mask on c every step)", "line"],
      [colours.muted, "without dropout", "dashed"],
      [SKY, "a symbol arrives", "tick"],
      [ORANGE, "time step t", "line"],
    ].map(([colour, label, kind]) => element("span", { class: "key" }, [
      element("span", { class: `swatch ${kind}`, style: kind === "dashed" ? `border-top-color:${colour}` : `background:${colour}` }), ` ${label}`,
    ])));
  }

  // A unit's cell state in words, at the time step under the cursor.
  #trajectoryWords(k) {
    const { frame, theory } = this;
    const cells = frame.cells;
    const t = this.t ?? theory.length - 1;
    return `the cell state c of unit ${cells.units[k] + 1} over ${theory.length} steps; at step ${t + 1}: ${fmt(cells.method[k][t], 2)} with ${this.methodName()}, `
      + `${fmt(cells.naive[k][t], 2)} with naive dropout, ${fmt(cells.none[k][t], 2)} without dropout`;
  }

  #note(frame, theory) {
    const naive = frame.naive_deviation;
    const own = frame.deviation;
    this.note.textContent = `How far the cell state strays from its path without dropout (RMS over the units and steps): ${fmt(own)} with ${this.methodName()}, `
      + `${fmt(naive)} with naive dropout. Naive dropout zeroes a different share of c at every step, so whatever a symbol wrote is soon erased; `
      + `${theory.mode === "rnndrop" ? "RNNDrop drops the same units for the whole sequence, and the kept ones hold their memory" : theory.mode === "recurrent" ? "recurrent dropout masks only the update g, never c itself: the memory is kept" : theory.mode === "variational" ? "variational dropout masks the inputs of the gates with the same masks at every step and never touches c" : "zoneout never zeroes: a unit keeps its previous value, so the memory is carried on"}. `
      + `The toy LSTM's forget gate is about ${fmt(theory.toy.forget_gate, 2)}: without dropout the cell holds what it was given for tens of steps.`;
  }

  #setTime(t) {
    this.t = t;
    this.slider.value = String(t);
    this.#paintHeatmaps();
    [...this.trajectories.children].forEach((node, k) => titleSvg(node, this.#trajectoryWords(k)));
    for (const cursor of this.trajectories.querySelectorAll("line.cursor")) {
      const svgNode = cursor.ownerSVGElement;
      const W = 300;
      const x = 34 + ((W - 42) * t) / Math.max(1, this.theory.length - 1);
      cursor.setAttribute("x1", x);
      cursor.setAttribute("x2", x);
      svgNode.dataset.time = String(t);
    }
  }

  #startSweep() {
    if (!this.theory) return;
    this.sweepButton.textContent = "Stop the sweep";
    let t = 0;
    this.#setTime(t);
    this.sweep = setInterval(() => {
      t += 1;
      if (t >= this.theory.length) {
        this.#stopSweep();
        return;
      }
      this.#setTime(t);
    }, SWEEP_MS);
  }

  #stopSweep() {
    if (!this.sweep) return;
    clearInterval(this.sweep);
    this.sweep = null;
    this.sweepButton.textContent = "Sweep through time";
  }

  announce(frame, theory) {
    const t = this.t ?? theory.length - 1;
    const measure = theory.measure;
    return `Iteration ${frame.iteration}: ${percent(frame.dropped_fraction)} of the units ${measure}, expected ${percent(theory.expected_dropped_fraction)}; `
      + `${percent(frame.step_fractions[t])} at step ${t + 1}; ${frame.constant ? "the same mask at every step" : `a new mask at every step, ${percent(frame.changed_fraction)} of the units change from one step to the next`}.`;
  }

  numbers(frame, theory) {
    const measure = theory.measure;
    const t = this.t ?? theory.length - 1;
    const rows = [
      { term: `fraction ${measure}, all masks`, measured: percent(frame.dropped_fraction), expected: percent(theory.expected_dropped_fraction) },
      { term: `fraction ${measure} at step ${t + 1}`, measured: percent(frame.step_fractions[t]), expected: percent(theory.expected_dropped_fraction) },
      { term: "units whose mask changes from a step to the next", measured: percent(frame.changed_fraction), expected: percent(theory.expected_changed_fraction) },
      { term: "mask constant over time", measured: frame.constant ? "yes" : "no", expected: theory.expected_changed_fraction === 0 ? "yes" : "no" },
    ];
    if (theory.masks.length > 1) {
      for (const mask of theory.masks) {
        const measured = frame.masks[mask.key];
        rows.push({ term: `${mask.label}: ${mask.meaning}`, measured: percent(measured.dropped_fraction), expected: percent(mask.probability) });
      }
    }
    rows.push(
      { term: "naive reference: dropped, mask constant?", measured: `${percent(frame.naive.dropped_fraction)}, ${frame.naive.constant ? "yes" : "no"}`, expected: `${percent(theory.naive.probability)}, no` },
      { term: "cell state off its path (RMS): method / naive", measured: `${fmt(frame.deviation)} / ${fmt(frame.naive_deviation)}` },
      { term: "symbols in this sequence", measured: String(frame.symbols) },
    );
    return rows;
  }

  series(series) {
    const x = series.frames.map((frame) => frame.iteration);
    const expected = series.theory?.expected_dropped_fraction ?? series.frames[0]?.dropped_fraction ?? 0;
    return {
      title: "fraction dropped per iteration (a new sequence each)",
      yTitle: "fraction",
      x,
      lines: [
        { name: `${series.theory?.measure ?? "dropped"}, measured`, y: series.frames.map((frame) => frame.dropped_fraction), role: "measured" },
        { name: "expected", x: [x[0], x[x.length - 1]], y: [expected, expected], role: "expected" },
        { name: "changed between steps", y: series.frames.map((frame) => frame.changed_fraction), role: "extra" },
      ],
      yRange: [0, 1.02],
    };
  }

  bars(frame, theory) {
    const steps = frame.step_fractions.map((_, s) => s + 1);
    return {
      title: `fraction ${theory.measure} per time step, iteration ${frame.iteration}`,
      yTitle: "fraction",
      x: steps,
      y: frame.step_fractions,
      name: `${theory.measure} at this step`,
      expected: { y: steps.map(() => theory.expected_dropped_fraction), name: "expected" },
      xRange: [0.5, steps.length + 0.5],
    };
  }

  derived() {
    return null;
  }
}
