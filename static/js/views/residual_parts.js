// The residual view's colours and small helpers: the theme's colours, words with subscripts
// (as HTML and as SVG), an output as an image, the words for a rule and a mode.

import { OKABE_ITO } from "../colours.js";
import { element, svg } from "../dom.js";
import { fmt } from "../stats.js";

// Okabe-Ito: distinguishable with every common colour blindness.
export const BLUE = OKABE_ITO.blue; // a kept branch
export const SKY = OKABE_ITO.sky; // a kept branch on the projector's black
export const ORANGE = OKABE_ITO.orange; // the survival probability s_l (expected, as in the statistics charts)
export const VERMILION = OKABE_ITO.vermilion; // the cut of a dropped branch
export const GREY = "#9a9a9a"; // a dropped branch

export function theme() {
  const style = getComputedStyle(document.documentElement);
  return {
    ink: style.getPropertyValue("--ink").trim(),
    muted: style.getPropertyValue("--muted").trim(),
    line: style.getPropertyValue("--line").trim(),
    panel: style.getPropertyValue("--panel").trim(),
    base: parseFloat(style.fontSize) || 17,
    // A kept branch: blue, or sky blue on the projector's black (blue is too dark there).
    kept: document.documentElement.dataset.theme === "contrast" ? SKY : BLUE,
  };
}

// "H_{l−1}" and "s_l" with real subscripts: HTML nodes, or SVG tspans.
export const SUBSCRIPT = /([A-Za-z])_(\{[^}]*\}|[A-Za-z0-9])/g;

export function pieces(words) {
  const out = [];
  let at = 0;
  for (const match of words.matchAll(SUBSCRIPT)) {
    out.push({ text: words.slice(at, match.index) + match[1] });
    out.push({ text: match[2].replace(/^\{|\}$/g, ""), sub: true });
    at = match.index + match[0].length;
  }
  out.push({ text: words.slice(at) });
  return out.filter((piece) => piece.text);
}

export function rich(words) {
  return pieces(words).map((piece) => (piece.sub ? element("sub", { text: piece.text }) : piece.text));
}

export function svgRich(words) {
  return pieces(words).map((piece) => (piece.sub
    ? svg("tspan", { "baseline-shift": "sub", "font-size": "75%", text: piece.text })
    : svg("tspan", { text: piece.text })));
}

export const percent = (value) => `${(100 * value).toFixed(value < 0.1 ? 1 : 0)} %`;

// A sample's output: |H_L| per position, one byte each (base64), drawn in grey levels.
export function outputImage(encoded, side, cache) {
  if (cache.has(encoded)) return cache.get(encoded);
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const canvas = document.createElement("canvas");
  canvas.width = side;
  canvas.height = side;
  const picture = new ImageData(side, side);
  for (let k = 0; k < bytes.length; k += 1) {
    picture.data[4 * k] = bytes[k];
    picture.data[4 * k + 1] = bytes[k];
    picture.data[4 * k + 2] = bytes[k];
    picture.data[4 * k + 3] = 255;
  }
  canvas.getContext("2d").putImageData(picture, 0, 0);
  const url = canvas.toDataURL();
  if (cache.size > 400) cache.clear();
  cache.set(encoded, url);
  return url;
}

export function ruleWords(theory) {
  if (theory.rule === "constant") return `1 − p, every block alike (p = ${fmt(theory.p, 2)})`;
  return `1 − (l / L) · p, Huang et al.'s linear decay (p = ${fmt(theory.p, 2)}, the last block's drop rate)`;
}

export function modeWords(mode) {
  return mode === "batch" ? "batch mode: one gate per block for the whole batch" : "row mode: a gate per sample and block";
}
