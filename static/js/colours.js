// Colours shared by the views: colour-blind safe (Okabe-Ito, and a blue-orange diverging map).

export const KEPT = [245, 245, 245];
export const DROPPED = [17, 17, 17];
// Blue - white - orange: a diverging map that stays readable with red-green colour blindness.
export const BELOW = [33, 102, 172];
export const ABOVE = [230, 97, 1];
export const OKABE_ITO = {
  blue: "#0072B2",
  orange: "#E69F00",
  vermilion: "#D55E00",
  green: "#009E73",
  sky: "#56B4E9",
  yellow: "#F0E442",
  purple: "#CC79A7",
};

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
