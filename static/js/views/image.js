// The image view: input, mask, training output and test-time output of a picture.
// The browser already holds the picture; it multiplies it by the mask the server sent.

import { ApiError } from "../api.js";
import { context2d, DROPPED, KEPT, noisePalette } from "../colours.js";
import { linkViewStyles } from "../dom.js";
import { fmt } from "../stats.js";
import { ReconstructionPanel } from "./reconstruction.js";
import { share as percent } from "./titles.js";

const CHANNEL_NAMES = ["red", "green", "blue"];

const MARKUP = `
  <figure class="view">
    <figcaption><span class="title">input</span> <span class="detail" id="input-detail"></span></figcaption>
    <canvas id="canvas-input" role="img" aria-label="the input image"></canvas>
  </figure>
  <figure class="view">
    <figcaption id="mask-caption"><span class="title">mask, iteration <span class="iteration-number">0</span></span> <span class="detail" id="mask-detail"></span></figcaption>
    <canvas id="canvas-mask" role="img" aria-label="the dropout mask"></canvas>
    <div id="channel-mask" class="channel-mask" role="group" hidden></div>
  </figure>
  <figure class="view">
    <figcaption id="train-caption"><span class="title">output, training</span> <span class="detail" id="train-detail"></span></figcaption>
    <canvas id="canvas-train" role="img" aria-label="the output at training time"></canvas>
  </figure>
  <figure class="view">
    <figcaption id="test-caption"><span class="title">output, test time</span> <span class="detail" id="test-detail"></span></figcaption>
    <canvas id="canvas-test" role="img" aria-label="the output at test time"></canvas>
  </figure>`;

function loadPicture(url) {
  return new Promise((resolve, reject) => {
    const picture = new Image();
    picture.onload = () => resolve(picture);
    picture.onerror = () => reject(new Error(`could not load ${url}`));
    picture.src = url;
  });
}

function unitWord(theory) {
  return theory.unit === "channel" ? "channel" : "pixel";
}

export default class ImageView {
  static needsImage = true;

  constructor(root, extra, context) {
    linkViewStyles("image");
    this.root = root;
    this.context = context;
    root.classList.add("image-view");
    root.insertAdjacentHTML("afterbegin", MARKUP);
    const $ = (selector) => root.querySelector(selector);
    this.canvases = { input: $("#canvas-input"), mask: $("#canvas-mask"), train: $("#canvas-train"), test: $("#canvas-test") };
    this.channelMask = $("#channel-mask");
    this.source = null; // ImageData of the picture
    this.image = null; // the id of the picture shown
    this.testKey = null; // what the test-time canvas shows
    this.reconstruction = new ReconstructionPanel(extra, context);
  }

  destroy() {
    for (const node of this.root.querySelectorAll(":scope > figure")) node.remove();
    this.root.classList.remove("image-view");
    this.reconstruction.destroy();
  }

  loaded(state) {
    return this.image === state.image;
  }

  async load(state) {
    this.reconstruction.show(state);
    if (this.loaded(state)) return;
    const url = this.context.imageUrl(state.image);
    let picture;
    try {
      picture = await loadPicture(url);
    } catch {
      throw new ApiError({ field: "image", message: `image ${state.image} could not be loaded` }, 404);
    }
    const { width, height } = picture;
    for (const canvas of Object.values(this.canvases)) {
      canvas.width = width;
      canvas.height = height;
    }
    const context = this.canvases.input.getContext("2d");
    context.drawImage(picture, 0, 0);
    this.source = context.getImageData(0, 0, width, height);
    this.image = state.image;
    this.testKey = null;
  }

  paint(frame, header) {
    if (!this.source) return;
    const { theory } = header;
    const { mask } = frame;
    if (mask.channels) {
      this.#renderChannels(mask.channels);
    } else {
      this.channelMask.hidden = true;
      this.canvases.mask.hidden = false;
      this.#paintMask(mask, theory);
    }
    this.#paintProduct(this.canvases.train, mask);
    // The test-time output has no mask: repaint it only when the picture or its factor change.
    const testKey = `${this.image}|${theory.test_factor}`;
    if (this.testKey !== testKey) {
      this.#paintProduct(this.canvases.test, { scalar: theory.test_factor });
      this.testKey = testKey;
    }
    this.#caption(frame, theory);
  }

  // The picture times the mask, as the training (or test-time) output; clipped to [0, 255].
  #paintProduct(canvas, mask) {
    const { data, width, height } = this.source;
    const out = new ImageData(width, height);
    const target = out.data; // Uint8ClampedArray: clips to [0, 255]
    if (mask.bits || mask.levels) {
      // A factor per pixel: bits[p] ? value : 0, or the factor of the pixel's level.
      const table = mask.bits ? Float32Array.of(0, mask.value) : mask.factors;
      const index = mask.bits ?? mask.levels;
      for (let p = 0, k = 0; p < index.length; p += 1, k += 4) {
        const f = table[index[p]];
        target[k] = data[k] * f;
        target[k + 1] = data[k + 1] * f;
        target[k + 2] = data[k + 2] * f;
        target[k + 3] = 255;
      }
    } else {
      const [r, g, b] = mask.channels ?? [mask.scalar, mask.scalar, mask.scalar];
      for (let k = 0; k < data.length; k += 4) {
        target[k] = data[k] * r;
        target[k + 1] = data[k + 1] * g;
        target[k + 2] = data[k + 2] * b;
        target[k + 3] = 255;
      }
    }
    context2d(canvas).putImageData(out, 0, 0);
  }

  // The mask itself: black and white for 0/1 masks, a diverging colour map around 1 for noise.
  #paintMask(mask, theory) {
    const { width, height } = this.source;
    const out = new ImageData(width, height);
    const target = out.data;
    const palette = mask.bits ? [DROPPED, KEPT] : noisePalette(mask.factors, theory.mask_variance);
    const index = mask.bits ?? mask.levels;
    for (let p = 0, k = 0; p < index.length; p += 1, k += 4) {
      const colour = palette[index[p]];
      target[k] = colour[0];
      target[k + 1] = colour[1];
      target[k + 2] = colour[2];
      target[k + 3] = 255;
    }
    context2d(this.canvases.mask).putImageData(out, 0, 0);
  }

  #renderChannels(values) {
    this.canvases.mask.hidden = true;
    this.channelMask.hidden = false;
    this.channelMask.replaceChildren(
      ...values.map((value, channel) => {
        const tile = document.createElement("div");
        tile.className = `channel-tile channel-${CHANNEL_NAMES[channel]}${value === 0 ? " dropped" : ""}`;
        tile.textContent = value === 0
          ? `${CHANNEL_NAMES[channel]}: dropped`
          : `${CHANNEL_NAMES[channel]}: × ${value.toFixed(2)}`;
        return tile;
      }),
    );
  }

  #caption(frame, theory) {
    const $ = (selector) => this.root.querySelector(selector);
    for (const node of this.root.querySelectorAll(".iteration-number")) node.textContent = frame.iteration;
    $("#input-detail").textContent = this.context.imageTitle();
    const value = frame.mask.value;
    const factor = frame.mask.channels ? Math.max(...frame.mask.channels) : value;
    let train = "input × mask";
    if (theory.mask_kind === "real") train = "input × noise (clipped at white)";
    else if (factor === 0) train = "everything dropped";
    else if (factor !== undefined && factor > 1) train = `kept × ${factor.toFixed(2)} (clipped at white)`;
    let legend = "white kept, black dropped";
    if (theory.mask_kind === "real") legend = "blue < 1 < orange";
    else if (theory.unit === "channel") legend = "a factor per colour channel";
    const details = {
      "#train-detail": train,
      "#test-detail": theory.test_factor === 1 ? "unchanged, no mask" : `× ${theory.test_factor.toFixed(2)} (1 − p), no mask`,
      "#mask-detail": legend,
    };
    const share = theory.mask_kind === "real"
      ? `every ${unitWord(theory)} times its own noise, mask variance ${fmt(frame.mask_variance)}; blue below 1, orange above`
      : `${(100 * frame.dropped_fraction).toFixed(1)} % of ${unitWord(theory)}s dropped; ${legend}`;
    this.canvases.mask.setAttribute("aria-label", `the mask of iteration ${frame.iteration}: ${share}`);
    this.canvases.train.setAttribute("aria-label", `the output at training time, iteration ${frame.iteration}: ${train}`);
    this.canvases.input.setAttribute("aria-label", `the input image: ${this.context.imageTitle()}`);
    this.canvases.test.setAttribute("aria-label", `the output at test time: ${details["#test-detail"]}`);
    this.channelMask.setAttribute("aria-label", `the mask of iteration ${frame.iteration}: ${share}`);
    for (const [selector, text] of Object.entries(details)) {
      $(selector).textContent = text;
      $(selector).closest("figcaption").title = $(selector).closest("figcaption").textContent;
    }
  }

  numbers(frame, theory) {
    return maskNumbers(frame, theory, unitWord(theory), "image brightness, output ÷ input");
  }

  announce(frame, theory) {
    return maskSentence(frame, theory, unitWord(theory));
  }

  series(series) {
    return maskSeries(series, unitWord(series.theory));
  }

  bars(frame, theory) {
    return maskBars(frame, theory);
  }

  derived(name, theory) {
    return maskDerived(name, theory);
  }
}

// ---------------------------------------------------------------- statistics of a mask
// Shared by the views whose frames are a mask on a grid of units (image, feature maps).

// What an "auto" parameter resolves to, as the server reported it: Gaussian dropout's sigma
// is the standard deviation of the noise, the square root of the mask variance.
export function maskDerived(name, theory) {
  if (name !== "sigma" || theory?.mask_kind !== "real" || theory.mask_variance == null) return null;
  return Math.sqrt(theory.mask_variance);
}

export function maskNumbers(frame, theory, unit, ratioTerm) {
  const rows = [
    { term: `${unit}s dropped`, measured: fmt(frame.dropped_fraction), expected: fmt(theory.expected_dropped_fraction) },
    { term: "mask mean (factor per unit)", measured: fmt(frame.mask_mean), expected: fmt(theory.mask_mean) },
    { term: "mask variance", measured: fmt(frame.mask_variance), expected: fmt(theory.mask_variance) },
    { term: ratioTerm, measured: fmt(frame.output_mean_ratio) },
  ];
  if (frame.p_t !== null && frame.p_t !== undefined) rows.push({ term: "p this iteration", measured: fmt(frame.p_t) });
  return rows;
}

// The spoken sentence of a frame: the share dropped against its expectation (Gaussian masks
// drop nothing: their variance instead), and the p drawn this iteration if it varies.
export function maskSentence(frame, theory, unit) {
  const drawn = frame.p_t !== null && frame.p_t !== undefined ? `; p drawn this iteration ${fmt(frame.p_t, 2)}` : "";
  if (theory.mask_kind === "real") {
    return `Iteration ${frame.iteration}: mask variance ${fmt(frame.mask_variance)}, expected ${fmt(theory.mask_variance)}; `
      + `every ${unit} is multiplied by its own noise, none dropped${drawn}.`;
  }
  return `Iteration ${frame.iteration}: ${percent(frame.dropped_fraction)} of ${unit}s dropped, `
    + `expected ${percent(theory.expected_dropped_fraction)}${drawn}.`;
}

export function maskSeries(series, unit) {
  const x = series.frames.map((frame) => frame.iteration);
  // Gaussian masks drop nothing: follow their variance instead of the dropped fraction.
  const real = series.theory.mask_kind === "real";
  const measured = series.frames.map((frame) => (real ? frame.mask_variance : frame.dropped_fraction));
  const expected = real ? series.theory.mask_variance : series.theory.expected_dropped_fraction;
  const lines = [
    { name: "measured", y: measured, role: "measured" },
    { name: "expected", x: [x[0], x[x.length - 1]], y: [expected, expected], role: "expected" },
  ];
  if (series.frames.some((frame) => frame.p_t !== null && frame.p_t !== undefined)) {
    lines.push({ name: "p drawn this iteration", y: series.frames.map((frame) => frame.p_t), role: "extra" });
  }
  const top = Math.max(0.05, ...measured, expected) * 1.15;
  return {
    title: real ? "mask variance per iteration" : `${unit}s dropped per iteration`,
    yTitle: real ? "variance" : "fraction",
    x,
    lines,
    yRange: [0, real ? top : Math.min(1.02, top)],
  };
}

export function maskBars(frame, theory) {
  const edges = theory.histogram_edges;
  const centres = edges.slice(0, -1).map((edge, k) => (edge + edges[k + 1]) / 2);
  const width = edges[1] - edges[0];
  return {
    title: "mask values, this iteration",
    yTitle: "count",
    x: centres,
    y: frame.histogram,
    name: "this mask",
    expected: theory.expected_histogram ? { y: theory.expected_histogram, name: "expected count" } : null,
    // One bin of room on each side, so bars at the ends of the range are not cut in half.
    xRange: [edges[0] - width, edges[edges.length - 1] + width],
  };
}
