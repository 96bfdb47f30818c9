// Colours shared by the views: colour-blind safe (Okabe-Ito, and a blue-orange diverging map).
// Declared once, in static/css/colours.css (which the server's renderers parse too): read here
// from the page's custom properties. The marks are the same in both themes.

const declared = getComputedStyle(document.documentElement);
const hex = (name) => declared.getPropertyValue(`--${name}`).trim();
const rgb = (name) => [1, 3, 5].map((at) => parseInt(hex(name).slice(at, at + 2), 16));

export const KEPT = rgb("kept");
export const DROPPED = rgb("dropped");
// Blue - white - orange: a diverging map that stays readable with red-green colour blindness.
export const BELOW = rgb("below");
export const ABOVE = rgb("above");
export const OKABE_ITO = Object.fromEntries(
  ["blue", "orange", "vermilion", "green", "sky", "yellow", "purple"].map((name) => [name, hex(`okabe-${name}`)]),
);
// The same as [r, g, b] (to mix, or for rgba()).
export const OKABE_RGB = Object.fromEntries(Object.keys(OKABE_ITO).map((name) => [name, rgb(`okabe-${name}`)]));
// Feature maps: a dropped activation; pooling: the shade over a dropped unit.
export const DROPPED_UNIT = rgb("dropped-unit");

export function mix(from, to, t) {
  return from.map((value, k) => value + (to[k] - value) * t);
}

// One colour per noise level: white at 1, full blue / orange at 1 -+ 2 sigma (most of the
// noise visible, not washed out).
export function noisePalette(factors, variance) {
  const reach = 2 * Math.sqrt(variance || 0.0625);
  return Array.from(factors, (value) => (value < 1
    ? mix([255, 255, 255], BELOW, Math.min(1, (1 - value) / reach))
    : mix([255, 255, 255], ABOVE, Math.min(1, (value - 1) / reach))));
}

// A 2-D canvas context for frequent writes.
export function context2d(canvas) {
  return canvas.getContext("2d", { willReadFrequently: false });
}
