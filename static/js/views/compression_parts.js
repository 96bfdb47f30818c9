// The compression view's colours and small helpers: the theme's colours, the weights of a
// layer as the frame carries them, a legend, the words for a setting. Shared by the view
// (compression.js), its network diagram and its training run.

import { OKABE_ITO, OKABE_RGB } from "../colours.js";
import { element } from "../dom.js";
import { fmt } from "../stats.js";

export const { blue: BLUE, orange: ORANGE, vermilion: VERMILION, sky: SKY } = OKABE_ITO;
export const GREY = "#8c8c8c";
export const POSITIVE = OKABE_RGB.blue; // a weight > 0
export const NEGATIVE = OKABE_RGB.orange; // a weight < 0
export const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

export const percent = (fraction, digits = 1) => (fraction === null || fraction === undefined ? "–" : `${(100 * fraction).toFixed(digits)} %`);
export const times = (factor) => (factor === null || factor === undefined ? "∞" : `× ${factor >= 10 ? factor.toFixed(0) : factor.toFixed(1)}`);
export const thousands = (n) => n.toLocaleString("en-US").replaceAll(",", " ");

export function themeColours() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return { ink: read("--ink"), muted: read("--muted"), panel: read("--panel"), line: read("--line") };
}

export function rgb(colour) {
  const probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = colour;
  const hex = probe.fillStyle; // "#rrggbb" for an opaque colour
  return hex.startsWith("#") ? [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)) : [255, 255, 255];
}

// The weights of layer `l` as the frame carries them: a level per weight and the value of each
// level (app/wire.py), and the kept bits.
export function layerArrays(frame, l) {
  const weights = frame[`weights_${l}`];
  const kept = frame[`kept_${l}`];
  const [, rows, columns] = weights.shape;
  return {
    rows, columns, kept: kept.bits,
    value: (index) => weights.factors[weights.levels[index]],
  };
}

export function legend(items) {
  return element("p", { class: "compression-legend" }, items.map(([colour, label, kind = "box"]) => element("span", { class: "key" }, [
    element("span", { class: `swatch ${kind}`, style: kind === "ring" ? `border-color:${colour}` : `background:${colour}` }), ` ${label}`,
  ])));
}

export function variantName(theory) {
  return theory.variant === "sbp" ? "structured BP" : "sparse VD";
}

// What is pruned, in words: "log α ≥ 3" or "SNR ≤ 1".
export function ruleText(theory) {
  return theory.variant === "sbp" ? `SNR ≤ ${fmt(theory.snr, 2)}` : `log α ≥ ${fmt(theory.threshold, 1)}`;
}

export function datasetName(theory) {
  return theory.dataset === "digits" ? "handwritten digits (8 × 8)" : `${theory.dataset} (2-D)`;
}
