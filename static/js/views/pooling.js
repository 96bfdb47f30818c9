// The max-pooling dropout view (Wu & Gu 2015): one feature map zoomed with its pooling grid;
// in each window the unit plain max pooling takes and the unit that wins after the Bernoulli
// mask; the test-time outputs beside them. Every number comes from the server.

import { fetchScene } from "../api.js";
import { context2d, DROPPED_UNIT, OKABE_ITO } from "../colours.js";
import { fmt } from "../stats.js";
import { element, linkViewStyles } from "../dom.js";
import { share as percent } from "./titles.js";

const CELL = 24; // canvas pixels per unit of the zoomed square
const SMALL_CELL = 12; // canvas pixels per window of the pooled grids
const DROPPED_SHADE = `rgba(${DROPPED_UNIT.join(", ")}, 0.72)`; // over the grey: the value stays readable
const ORDINALS = ["1st", "2nd", "3rd"];

function ordinal(rank) {
  return ORDINALS[rank - 1] ?? `${rank}th`;
}

function greyOf(value, top) {
  const level = Math.round(255 * Math.min(1, Math.max(0, value / top)));
  return `rgb(${level}, ${level}, ${level})`;
}

const GRIDS = [
  ["train", "training output", "max over the kept units, this iteration"],
  ["mc", "Monte Carlo mean", "of the training outputs so far"],
  ["weighted", "test: weighted pooling", "Σ pᵢ aᵢ, the exact expectation"],
  ["scaled", "test: scaled max", "(1 − p) · max, biased low"],
];

export default class PoolingView {
  static needsImage = true;

  constructor(root, extra, context) {
    linkViewStyles("pooling");
    this.root = root;
    this.context = context;
    this.scene = null;
    this.image = null;
    this.last = null;
    this.focus = null; // the window under the pointer (index), or null: the most varied one
    root.classList.add("pooling-view");
    this.#build();
  }

  destroy() {
    this.container.remove();
    this.root.classList.remove("pooling-view");
  }

  #build() {
    this.zoom = element("canvas", { class: "zoom", role: "img", tabindex: "0", "aria-label": "the zoomed feature map" });
    this.zoom.addEventListener("pointermove", (event) => this.#point(event));
    this.zoom.addEventListener("click", (event) => this.#point(event));
    this.zoom.addEventListener("keydown", (event) => this.#key(event));
    // What the arrow keys on the zoomed map pick, said once per move (a pointer shows it).
    this.windowSaid = element("p", { class: "visually-hidden", role: "status" });
    this.zoomCaption = element("figcaption", {}, [element("span", { class: "title", text: "zoomed map, before pooling" }), " ", element("span", { class: "detail" })]);
    this.thumb = element("img", { class: "where", alt: "where the square lies in the picture", fetchpriority: "low" });
    this.thumbBox = element("span", { class: "where-box" });
    const where = element("div", { class: "where-wrap" }, [this.thumb, this.thumbBox]);
    this.legend = element("p", { class: "pool-legend" });
    this.grids = {};
    const small = GRIDS.map(([id, title, detail]) => {
      const canvas = element("canvas", { class: "pooled", role: "img", "aria-label": `${title}: ${detail}`, "data-words": `${title}: ${detail}` });
      canvas.addEventListener("pointermove", (event) => this.#pointSmall(event, canvas));
      this.grids[id] = canvas;
      return element("figure", { class: `pooled-grid pooled-${id}` }, [
        element("figcaption", {}, [element("span", { class: "title", text: title }), " ", element("span", { class: "detail", text: detail })]),
        canvas,
      ]);
    });
    this.windowPanel = element("div", { class: "window-panel" });
    this.container = element("div", { class: "pooling" }, [
      element("figure", { class: "view zoom-view" }, [this.zoomCaption, this.zoom, this.legend, this.windowSaid]),
      element("div", { class: "pool-side" }, [
        this.windowPanel,
        element("div", { class: "pooled-grids", role: "group", "aria-label": "the pooled outputs, one cell per window" }, small),
        element("figure", { class: "where-figure" }, [element("figcaption", { text: "where the square lies in the picture" }), where]),
      ]),
    ]);
    this.root.prepend(this.container);
  }

  loaded(state) {
    return this.image === state.image && this.scene !== null;
  }

  async load(state) {
    if (this.loaded(state)) return;
    this.scene = await fetchScene("pooling", state.image);
    this.image = state.image;
    this.thumb.src = this.context.imageUrl(state.image);
    const size = this.scene.crop;
    this.zoom.width = size * CELL;
    this.zoom.height = size * CELL;
  }

  #square(theory) {
    return this.scene.maps[theory.map];
  }

  // The window under the pointer (zoomed square or a pooled grid).
  #point(event) {
    const theory = this.last?.header.theory;
    if (!theory) return;
    const box = this.zoom.getBoundingClientRect();
    const units = this.scene.crop;
    const column = Math.floor(((event.clientX - box.left) / box.width) * units / theory.kernel);
    const row = Math.floor(((event.clientY - box.top) / box.height) * units / theory.kernel);
    this.#focusWindow(row, column, theory);
  }

  #pointSmall(event, canvas) {
    const theory = this.last?.header.theory;
    if (!theory) return;
    const box = canvas.getBoundingClientRect();
    const column = Math.floor(((event.clientX - box.left) / box.width) * theory.columns);
    const row = Math.floor(((event.clientY - box.top) / box.height) * theory.rows);
    this.#focusWindow(row, column, theory);
  }

  #focusWindow(row, column, theory) {
    if (row < 0 || column < 0 || row >= theory.rows || column >= theory.columns) return false;
    const index = row * theory.columns + column;
    if (index === this.focus) return false;
    this.focus = index;
    this.paint(this.last.frame, this.last.header);
    return true;
  }

  // The arrow keys on the zoomed map move the window whose odds are shown (they step the
  // iterations elsewhere on the page), and the window is said in words.
  #key(event) {
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const move = moves[event.key];
    const theory = this.last?.header.theory;
    if (!move || !theory || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    event.stopPropagation();
    const w = this.focus ?? this.#defaultWindow(theory);
    const row = Math.min(theory.rows - 1, Math.max(0, Math.floor(w / theory.columns) + move[0]));
    const column = Math.min(theory.columns - 1, Math.max(0, (w % theory.columns) + move[1]));
    if (this.#focusWindow(row, column, theory)) this.windowSaid.textContent = this.#windowWords(this.last.frame, theory);
  }

  // The window shown, in words: who wins it this iteration, and the pooled outputs.
  #windowWords(frame, theory) {
    const w = this.focus ?? this.#defaultWindow(theory);
    const winner = frame.winners[w];
    const rank = theory.order[w].indexOf(winner) + 1;
    const who = winner < 0
      ? "every unit dropped, output 0"
      : `the ${rank === 1 ? "" : `${ordinal(rank)} `}largest unit wins (chance ${fmt(theory.rank_probability[rank - 1], 2)})`;
    return `Window ${Math.floor(w / theory.columns) + 1}, ${(w % theory.columns) + 1}: ${who}; output ${fmt(frame.outputs[w])}, `
      + `Monte Carlo mean ${fmt(frame.mc_mean[w])}, weighted pooling ${fmt(theory.weighted[w])}, scaled max ${fmt(theory.scaled_max[w])}.`;
  }

  // By default, the window whose units differ the most: the first with the most distinct
  // positive values (a window of zeros says nothing about the ranks).
  #defaultWindow(theory) {
    const square = this.#square(theory).values;
    const k = theory.kernel;
    let best = 0;
    let most = -1;
    for (let w = 0; w < theory.rows * theory.columns; w += 1) {
      const row = Math.floor(w / theory.columns) * k;
      const column = (w % theory.columns) * k;
      const values = new Set();
      for (let dy = 0; dy < k; dy += 1) for (let dx = 0; dx < k; dx += 1) if (square[row + dy][column + dx] > 0) values.add(square[row + dy][column + dx]);
      if (values.size > most) {
        most = values.size;
        best = w;
      }
    }
    return best;
  }

  paint(frame, header) {
    if (!this.scene) return;
    const { theory } = header;
    // Another grid (pool size) or map: the window pointed at before means nothing here.
    const grid = `${theory.map}|${theory.kernel}`;
    if (grid !== this.grid) {
      this.grid = grid;
      this.focus = null;
    }
    this.last = { frame, header };
    const square = this.#square(theory);
    const top = Math.max(1e-12, ...theory.plain_max);
    this.#paintZoom(frame, theory, square, top);
    this.#paintGrid(this.grids.train, theory, frame.outputs, top);
    this.#paintGrid(this.grids.mc, theory, frame.mc_mean, top);
    this.#paintGrid(this.grids.weighted, theory, theory.weighted, top);
    this.#paintGrid(this.grids.scaled, theory, theory.scaled_max, top);
    this.#windowDetails(frame, theory, square);
    this.#where(square);
    const filter = this.context.viewParamLabel("map", theory.map);
    this.zoomCaption.querySelector(".detail").textContent = `${filter}; ${theory.kernel} × ${theory.kernel} windows, iteration ${frame.iteration}`;
    this.zoom.setAttribute("aria-label", `the zoomed map of ${filter}, iteration ${frame.iteration}: `
      + `${(100 * frame.dropped_fraction).toFixed(0)} % of the units dropped, `
      + `${(100 * frame.changed_fraction).toFixed(0)} % of the windows took another unit than plain max pooling. `
      + "The arrow keys pick the window whose odds are shown");
    for (const canvas of Object.values(this.grids)) {
      canvas.setAttribute("aria-label", `${canvas.dataset.words}; ${theory.rows} × ${theory.columns} windows, iteration ${frame.iteration}`);
    }
    this.legend.textContent = "Grey level: activation. Blue, struck through: dropped this iteration. "
      + "Orange square: the unit plain max pooling takes. Blue dot: the unit that wins after the mask "
      + "(✕: every unit dropped, output 0). Point at a window for its odds.";
  }

  #paintZoom(frame, theory, square, top) {
    const ctx = context2d(this.zoom);
    const size = this.scene.crop;
    const bits = frame.mask.bits;
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        ctx.fillStyle = greyOf(square.values[y][x], top);
        ctx.fillRect(x * CELL, y * CELL, CELL, CELL);
        if (bits[y * size + x]) continue;
        // Dropped: shaded blue and struck through, the grey of its value still showing.
        ctx.fillStyle = DROPPED_SHADE;
        ctx.fillRect(x * CELL, y * CELL, CELL, CELL);
        ctx.strokeStyle = "rgba(255, 255, 255, 0.45)";
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(x * CELL + 3, (y + 1) * CELL - 3);
        ctx.lineTo((x + 1) * CELL - 3, y * CELL + 3);
        ctx.stroke();
      }
    }
    const k = theory.kernel;
    const unitAt = (w, i) => {
      const row = Math.floor(w / theory.columns) * k + Math.floor(i / k);
      const column = (w % theory.columns) * k + (i % k);
      return [row, column];
    };
    // The pooling grid.
    ctx.strokeStyle = "rgba(255, 255, 255, 0.55)";
    ctx.lineWidth = 1;
    for (let line = 0; line <= size; line += k) {
      ctx.beginPath();
      ctx.moveTo(line * CELL + 0.5, 0);
      ctx.lineTo(line * CELL + 0.5, size * CELL);
      ctx.moveTo(0, line * CELL + 0.5);
      ctx.lineTo(size * CELL, line * CELL + 0.5);
      ctx.stroke();
    }
    for (let w = 0; w < theory.rows * theory.columns; w += 1) {
      const [plainRow, plainColumn] = unitAt(w, theory.order[w][0]);
      ctx.strokeStyle = OKABE_ITO.orange;
      ctx.lineWidth = 3;
      ctx.strokeRect(plainColumn * CELL + 2.5, plainRow * CELL + 2.5, CELL - 5, CELL - 5);
      const winner = frame.winners[w];
      if (winner >= 0) {
        const [row, column] = unitAt(w, winner);
        ctx.fillStyle = OKABE_ITO.sky;
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.arc((column + 0.5) * CELL, (row + 0.5) * CELL, CELL * 0.22, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      } else {
        const row = Math.floor(w / theory.columns) * k;
        const column = (w % theory.columns) * k;
        ctx.strokeStyle = OKABE_ITO.vermilion;
        ctx.lineWidth = 3;
        ctx.beginPath();
        ctx.moveTo(column * CELL + 6, row * CELL + 6);
        ctx.lineTo((column + k) * CELL - 6, (row + k) * CELL - 6);
        ctx.moveTo((column + k) * CELL - 6, row * CELL + 6);
        ctx.lineTo(column * CELL + 6, (row + k) * CELL - 6);
        ctx.stroke();
      }
    }
    // The window whose odds are shown.
    const focus = this.focus ?? this.#defaultWindow(theory);
    const row = Math.floor(focus / theory.columns) * k;
    const column = (focus % theory.columns) * k;
    ctx.strokeStyle = OKABE_ITO.yellow;
    ctx.lineWidth = 4;
    ctx.strokeRect(column * CELL + 2, row * CELL + 2, k * CELL - 4, k * CELL - 4);
  }

  #paintGrid(canvas, theory, values, top) {
    canvas.width = theory.columns * SMALL_CELL;
    canvas.height = theory.rows * SMALL_CELL;
    const ctx = context2d(canvas);
    values.forEach((value, w) => {
      ctx.fillStyle = greyOf(value, top);
      ctx.fillRect((w % theory.columns) * SMALL_CELL, Math.floor(w / theory.columns) * SMALL_CELL, SMALL_CELL, SMALL_CELL);
    });
    const focus = this.focus ?? this.#defaultWindow(theory);
    ctx.strokeStyle = OKABE_ITO.yellow;
    ctx.lineWidth = 2;
    ctx.strokeRect((focus % theory.columns) * SMALL_CELL + 1, Math.floor(focus / theory.columns) * SMALL_CELL + 1, SMALL_CELL - 2, SMALL_CELL - 2);
  }

  // The window under the pointer: its units by rank, Wu & Gu's odds, and this iteration.
  #windowDetails(frame, theory, square) {
    const w = this.focus ?? this.#defaultWindow(theory);
    const k = theory.kernel;
    const row0 = Math.floor(w / theory.columns) * k;
    const column0 = (w % theory.columns) * k;
    const rows = theory.order[w].map((unit, r) => {
      const value = square.values[row0 + Math.floor(unit / k)][column0 + (unit % k)];
      const won = frame.winners[w] === unit;
      return element("tr", won ? { class: "won" } : {}, [
        element("td", { text: ordinal(r + 1) }),
        element("td", { text: fmt(value, 3) }),
        element("td", { text: fmt(theory.rank_probability[r], 4) }),
        element("td", { text: won ? "wins now" : "" }),
      ]);
    });
    rows.push(element("tr", frame.winners[w] < 0 ? { class: "won" } : {}, [
      element("td", { text: "none kept" }),
      element("td", { text: "0" }),
      element("td", { text: fmt(theory.none_probability, 4) }),
      element("td", { text: frame.winners[w] < 0 ? "now: output 0" : "" }),
    ]));
    const table = element("table", { class: "odds" }, [
      element("caption", { text: `Window ${Math.floor(w / theory.columns) + 1}, ${(w % theory.columns) + 1}: who wins` }),
      element("colgroup", {}, []),
      element("thead", {}, [element("tr", {}, ["rank", "value", "P(wins)", ""].map((text) => element("th", { scope: "col", text })))]),
      element("tbody", {}, rows),
    ]);
    const rule = element("p", { class: "odds-rule", text: `The i-th largest unit wins when it is kept and every larger one dropped: (1 − p) pⁱ⁻¹ (Wu & Gu); p = ${theory.p}.` });
    const sums = element("p", { class: "odds-sums" });
    sums.textContent = `this iteration ${fmt(frame.outputs[w])} · Monte Carlo mean ${fmt(frame.mc_mean[w])} · `
      + `weighted pooling ${fmt(theory.weighted[w])} · scaled max ${fmt(theory.scaled_max[w])} · plain max ${fmt(theory.plain_max[w])}`;
    this.windowPanel.replaceChildren(table, rule, sums);
  }

  #where(square) {
    const { map_width: width, map_height: height, crop } = this.scene;
    const [row, column] = square.origin;
    Object.assign(this.thumbBox.style, {
      left: `${(100 * column) / width}%`,
      top: `${(100 * row) / height}%`,
      width: `${(100 * crop) / width}%`,
      height: `${(100 * crop) / height}%`,
    });
  }

  announce(frame, theory) {
    const windows = theory.rows * theory.columns;
    return `Iteration ${frame.iteration}: ${percent(frame.dropped_fraction)} of units dropped, expected ${percent(theory.expected_dropped_fraction)}; `
      + `${percent(frame.changed_fraction)} of the ${windows} windows not won by their maximum, expected ${percent(theory.expected_changed_fraction)}.`;
  }

  numbers(frame, theory) {
    return [
      { term: "units dropped", measured: fmt(frame.dropped_fraction), expected: fmt(theory.expected_dropped_fraction) },
      { term: "windows not won by their max", measured: fmt(frame.changed_fraction), expected: fmt(theory.expected_changed_fraction) },
      { term: "Monte Carlo mean − weighted pooling, RMS", measured: fmt(frame.mc_rms_error, 4), expected: fmt(frame.mc_rms_expected, 4) },
      { term: "scaled max − weighted pooling, RMS", measured: fmt(theory.scaled_max_rms_error, 4) },
    ];
  }

  series(series) {
    const x = series.frames.map((frame) => frame.iteration);
    const measured = series.frames.map((frame) => frame.mc_rms_error);
    const expected = series.frames.map((frame) => frame.mc_rms_expected);
    return {
      title: "Monte Carlo mean → weighted pooling (RMS error)",
      yTitle: "RMS error",
      x,
      lines: [
        { name: "measured", y: measured, role: "measured" },
        { name: "expected, σ/√(i+1)", y: expected, role: "expected" },
        { name: "scaled max", x: [x[0], x[x.length - 1]], y: [series.theory.scaled_max_rms_error, series.theory.scaled_max_rms_error], role: "extra" },
      ],
      yRange: [0, Math.max(1e-6, ...measured, ...expected, series.theory.scaled_max_rms_error) * 1.1],
    };
  }

  bars(frame, theory) {
    const n = theory.rank_probability.length;
    const x = [...Array.from({ length: n }, (_, r) => ordinal(r + 1)), "none"];
    return {
      title: "which rank won each window, this iteration",
      yTitle: "windows",
      x,
      y: frame.rank_counts,
      name: "this iteration",
      expected: { y: theory.expected_rank_counts, name: "expected (Wu & Gu)" },
    };
  }
}
