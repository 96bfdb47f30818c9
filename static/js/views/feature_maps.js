// The feature-map view: eight maps of a fixed convolutional stage run on the picture, and the
// method's mask on them. The maps arrive once (GET /api/scene); each frame brings a mask.

import { fetchScene } from "../api.js";
import { context2d, DROPPED, DROPPED_UNIT, KEPT, noisePalette, OKABE_ITO } from "../colours.js";
import { element, linkViewStyles } from "../dom.js";
import { maskBars, maskDerived, maskNumbers, maskSentence, maskSeries } from "./image.js";

// Dropped units in the training output (DROPPED_UNIT): a dark blue, as dark as the zero they hold
// but with a hue of its own, so that they stand apart from activations the ReLU already set to zero.
const MODES = [
  ["train", "output, training"],
  ["mask", "mask"],
  ["test", "output, test time"],
];

// The kernel as the pattern it looks for: each colour channel at 0.5 + 0.5 w / max |w|.
// What a map shows in each mode, in words.
const MODE_WORDS = {
  train: "the output at training time",
  mask: "the mask",
  test: "the output at test time, no mask",
};

function paintKernel(canvas, kernel) {
  const size = kernel[0].length;
  canvas.width = size;
  canvas.height = size;
  const out = new ImageData(size, size);
  const reach = kernel.map((plane) => Math.max(1e-12, ...plane.flat().map(Math.abs)));
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const k = 4 * (y * size + x);
      for (let c = 0; c < 3; c += 1) out.data[k + c] = 255 * (0.5 + 0.5 * (kernel[c][y][x] / reach[c]));
      out.data[k + 3] = 255;
    }
  }
  context2d(canvas).putImageData(out, 0, 0);
}

function ruleText(theory, rule) {
  if (theory.test_factor !== 1) return `× ${theory.test_factor.toFixed(2)} (1 − p): the maps scaled, no mask`;
  return rule;
}

export default class FeatureMapView {
  static needsImage = true;

  constructor(root, extra, context) {
    linkViewStyles("feature_maps");
    this.root = root;
    this.context = context;
    this.scene = null;
    this.image = null;
    this.mode = "train";
    this.last = null; // { frame, theory }: repainted when the mode changes
    root.classList.add("feature-view");
    this.#build();
  }

  destroy() {
    this.container.remove();
    this.root.classList.remove("feature-view");
  }

  #build() {
    this.input = element("img", { class: "stage-input", alt: "the input picture", fetchpriority: "low" });
    const steps = [
      element("li", {}, [this.input]),
      element("li", { text: "8 fixed filters" }),
      element("li", { text: "ReLU" }),
      element("li", { text: "max-pool 2×2" }),
      element("li", { class: "here", text: "dropout" }),
      element("li", { text: "next layer" }),
    ];
    const pipeline = element("ol", { class: "pipeline", "aria-label": "where dropout acts in the network" }, steps);
    const modes = element("div", { class: "segmented", role: "radiogroup", "aria-label": "show" }, MODES.map(([id, label]) => {
      const button = element("button", { type: "button", role: "radio", "data-mode": id, text: label });
      button.addEventListener("click", () => this.#setMode(id));
      return button;
    }));
    this.modeButtons = modes;
    this.note = element("p", { class: "stage-note", text: "" });
    this.grid = element("div", { class: "map-grid", role: "list" });
    this.legend = element("p", { class: "map-legend" });
    this.container = element("div", { class: "feature-maps" }, [
      element("div", { class: "feature-head" }, [pipeline, modes]),
      this.grid,
      this.legend,
      this.note,
    ]);
    this.root.prepend(this.container);
    this.#markMode();
  }

  #setMode(mode) {
    this.mode = mode;
    this.#markMode();
    if (this.last) this.paint(this.last.frame, this.last.header);
  }

  #markMode() {
    for (const button of this.modeButtons.children) button.setAttribute("aria-checked", String(button.dataset.mode === this.mode));
  }

  loaded(state) {
    return this.image === state.image && this.scene !== null;
  }

  async load(state) {
    if (this.loaded(state)) return;
    const scene = await fetchScene("feature_maps", state.image);
    this.scene = scene;
    this.image = state.image;
    this.input.src = this.context.imageUrl(state.image);
    this.note.textContent = `The picture (${scene.stage_width} × ${scene.stage_height}) goes through ${scene.channels} fixed, hand-made filters `
      + `(not learned), a ReLU and a 2 × 2 max pooling, the first stage of a CNN; the method drops units of the ${scene.width} × ${scene.height} maps `
      + "that come out, after the ReLU and before the next layer. Each map is scaled to its own maximum.";
    this.tiles = scene.filters.map((filter, index) => {
      const kernel = element("canvas", { class: "kernel", role: "img", "aria-label": `kernel of ${filter.label}: ${filter.detail}` });
      paintKernel(kernel, filter.kernel);
      kernel.title = filter.detail;
      const canvas = element("canvas", { class: "map", role: "img", "aria-label": `feature map ${index + 1}: ${filter.label}` });
      canvas.width = scene.width;
      canvas.height = scene.height;
      const status = element("span", { class: "map-status" });
      const caption = element("figcaption", {}, [kernel, element("span", { class: "map-label", text: filter.label })]);
      const wrap = element("div", { class: "map-canvas" }, [canvas, status]);
      const tile = element("figure", { class: "map-tile", role: "listitem", "data-map": filter.id }, [caption, wrap]);
      return { tile, canvas, status, wrap, filter };
    });
    this.grid.replaceChildren(...this.tiles.map((tile) => tile.tile));
  }

  // Map c's factor per unit as a table lookup: `index[u]` picks an entry of `table` (a 0/1
  // bit, a noise level, or the map's one factor), so the loops below do no branching.
  #factors(mask, c) {
    const units = this.scene.width * this.scene.height;
    if (mask.channels) return { table: Float32Array.of(mask.channels[c]), index: new Uint8Array(units) };
    const offset = mask.shape[0] === 1 ? 0 : c * units;
    const index = (mask.bits ?? mask.levels).subarray(offset, offset + units);
    return { table: mask.bits ? Float32Array.of(0, mask.value) : mask.factors, index };
  }

  // Map c painted: grey = activation x factor (clipped at white), or `colours[index[u]]` when
  // a colour table is given (the mask itself); dropped units (factor 0) in `dropped`, if any.
  #paintTile(tile, c, { table, index }, { colours = null, dropped = null } = {}) {
    const { width, height } = this.scene;
    const units = width * height;
    const bytes = this.scene.arrays.maps.bytes.subarray(c * units, (c + 1) * units);
    const out = new ImageData(width, height);
    const target = out.data; // Uint8ClampedArray: clips to [0, 255]
    for (let u = 0, k = 0; u < units; u += 1, k += 4) {
      const f = table[index[u]];
      if (colours) {
        const rgb = colours[index[u]];
        target[k] = rgb[0];
        target[k + 1] = rgb[1];
        target[k + 2] = rgb[2];
      } else if (f === 0 && dropped) {
        target[k] = dropped[0];
        target[k + 1] = dropped[1];
        target[k + 2] = dropped[2];
      } else {
        const value = bytes[u] * f;
        target[k] = value;
        target[k + 1] = value;
        target[k + 2] = value;
      }
      target[k + 3] = 255;
    }
    context2d(tile.canvas).putImageData(out, 0, 0);
  }

  paint(frame, header) {
    if (!this.scene) return;
    const { theory } = header;
    this.last = { frame, header };
    const { mask } = frame;
    const units = this.scene.width * this.scene.height;
    const testing = { table: Float32Array.of(theory.test_factor), index: new Uint8Array(units) };
    this.tiles.forEach((tile, c) => {
      const factors = this.#factors(mask, c);
      if (this.mode === "test") {
        this.#paintTile(tile, c, testing);
      } else if (this.mode === "mask") {
        const colours = mask.levels
          ? noisePalette(mask.factors, theory.mask_variance)
          : Array.from(factors.table, (f) => (f === 0 ? DROPPED : KEPT));
        this.#paintTile(tile, c, factors, { colours });
      } else {
        this.#paintTile(tile, c, factors, { dropped: mask.levels ? null : DROPPED_UNIT });
      }
      const whole = mask.channels ? mask.channels[c] : null;
      tile.tile.classList.toggle("dropped", whole === 0 && this.mode !== "test");
      const shown = this.mode === "test" ? null : whole; // no mask at test time
      tile.status.textContent = shown === 0 ? "dropped" : shown !== null ? `× ${shown.toFixed(2)}` : "";
      const state = shown === 0 ? ", dropped this iteration" : shown !== null ? `, × ${shown.toFixed(2)} this iteration` : "";
      const key = this.mode === "train" && !mask.levels && !mask.channels ? " (dark blue: the units dropped)" : "";
      tile.canvas.setAttribute("aria-label", `feature map ${c + 1}: ${tile.filter.label}; ${MODE_WORDS[this.mode]}${key}, iteration ${frame.iteration}${state}`);
      this.#markPeak(tile, c, frame);
    });
    this.#legend(frame, theory, header);
  }

  // Max-Drop, feature-wise: a ring around each map's maximum that this iteration dropped.
  #markPeak(tile, c, frame) {
    tile.wrap.querySelector(".peak")?.remove();
    const dropped = frame.maxima_dropped?.[c];
    if (!dropped || this.mode === "test") return;
    const [row, column] = this.scene.peaks[c];
    const ring = element("span", { class: "peak", title: "this map's maximum, dropped" });
    ring.style.left = `${(100 * (column + 0.5)) / this.scene.width}%`;
    ring.style.top = `${(100 * (row + 0.5)) / this.scene.height}%`;
    tile.wrap.append(ring);
  }

  #legend(frame, theory, header) {
    const method = this.context.method();
    let text;
    if (this.mode === "test") {
      text = `Test time: ${ruleText(theory, method.test_time)}`;
    } else if (this.mode === "mask") {
      text = frame.mask.levels ? "Mask: blue < 1 < orange (noise, no unit is ever off)." : "Mask: white kept, black dropped.";
    } else if (frame.mask.levels) {
      text = "Grey level: activation × noise (clipped at white). No unit is ever fully off.";
    } else {
      const factor = frame.mask.channels ? Math.max(...frame.mask.channels) : frame.mask.value;
      const scaled = factor > 1.005 ? `; kept units × ${factor.toFixed(2)} (clipped at white)` : "";
      text = `Grey level: activation; dark blue: dropped this iteration${scaled}.`;
    }
    if (frame.maxima_dropped && header.params.mode === "feature") text += " Orange ring: a map's maximum, dropped.";
    this.legend.textContent = text;
    this.legend.style.setProperty("--ring", OKABE_ITO.orange);
    const share = `${(100 * frame.dropped_fraction).toFixed(1)} % of ${theory.unit}s dropped`;
    this.grid.setAttribute("aria-label", `feature maps, iteration ${frame.iteration}: ${share}`);
  }

  numbers(frame, theory) {
    return maskNumbers(frame, theory, theory.unit, "activation total, output ÷ input");
  }

  announce(frame, theory) {
    return maskSentence(frame, theory, theory.unit);
  }

  series(series) {
    return maskSeries(series, series.theory.unit);
  }

  bars(frame, theory) {
    return maskBars(frame, theory);
  }

  derived(name, theory) {
    return maskDerived(name, theory);
  }
}
