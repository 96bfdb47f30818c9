// The LSTM view's colours and small helpers: the modes' colours and dashes, the theme's
// colours, a mask's bits, where each mask sits on the cell diagram. Shared by the view
// (lstm.js), its cell diagram and its memory task.

import { OKABE_ITO, OKABE_RGB } from "../colours.js";

export const { blue: BLUE, orange: ORANGE, vermilion: VERMILION, green: GREEN, purple: PURPLE, sky: SKY } = OKABE_ITO;
export const MARK = { dropped: [40, 40, 40], held: OKABE_RGB.blue, kept: [236, 236, 230] };
export const MODE_COLOURS = { none: "#555555", naive: VERMILION, rnndrop: ORANGE, recurrent: GREEN, variational: BLUE, zoneout: PURPLE };
export const MODE_DASH = { none: "dash", naive: "solid", rnndrop: "dot", recurrent: "solid", variational: "dashdot", zoneout: "longdash" };

export const percent = (fraction, digits = 1) => (fraction === null || fraction === undefined ? "–" : `${(100 * fraction).toFixed(digits)} %`);

export function themeColours() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return { ink: read("--ink"), muted: read("--muted"), panel: read("--panel"), line: read("--line") };
}

// A mask as the frame carries it: bits of shape [1, rows, T] (a row per unit, a column per step).
export function bitsOf(array) {
  const [, rows, steps] = array.shape;
  return { rows, steps, at: (r, t) => array.bits[r * steps + t] };
}

// Where a mask of each trace key sits on the cell diagram (viewBox 0 0 660 312).
export const PLACES = {
  input: { x: 76, y: 280, letter: "x", label: [4, 306, "start"] },
  hidden: { x: 76, y: 244, letter: "h", label: [4, 228, "start"] },
  update: { x: 322, y: 148, letter: "g", label: [338, 154, "start"] },
  cell: { x: 380, y: 52, letter: "c", label: [380, 28, "middle"] },
  zoneout_c: { x: 380, y: 52, letter: "c", label: [380, 28, "middle"] },
  zoneout_h: { x: 575, y: 150, letter: "h", label: [598, 182, "middle", true] },
};
