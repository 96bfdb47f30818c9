// The uncertainty view's charts, shared by the view (uncertainty.js) and its training run
// (uncertainty_training.js): the colours, the Plotly layout of both themes and the band of
// ±2 predictive standard deviations around the mean.

import { OKABE_ITO, OKABE_RGB } from "../colours.js";

// Okabe-Ito: distinguishable with every common colour blindness.
export const COLOURS = {
  mean: OKABE_ITO.blue, // blue: the Monte Carlo mean and its band
  pass: OKABE_ITO.sky, // sky blue: one stochastic pass
  truth: OKABE_ITO.green, // bluish green: the noiseless truth
  points: "#111111", // the training points
  deterministic: OKABE_ITO.orange, // orange: model.eval()'s single answer
  wrong: OKABE_ITO.vermilion, // vermilion: BatchNorm in training mode
  class0: OKABE_ITO.orange,
  class1: OKABE_ITO.blue,
};

export const CONFIG = { displayModeBar: false, responsive: true };

// Fills are stronger on the projector's black background.
export const contrast = () => document.documentElement.dataset.theme === "contrast";

export const bandFill = () => `rgba(${OKABE_RGB.blue.join(", ")}, ${contrast() ? 0.45 : 0.2})`;

export function themeColours() {
  const style = getComputedStyle(document.documentElement);
  return {
    ink: style.getPropertyValue("--ink").trim() || "#111",
    grid: style.getPropertyValue("--line").trim() || "#ddd",
    muted: style.getPropertyValue("--muted").trim() || "#555",
    size: Math.round((parseFloat(style.fontSize) || 17) * 0.78),
  };
}

export function baseLayout(extra = {}) {
  const { ink, grid, size } = themeColours();
  return {
    margin: { l: 48, r: 12, t: 8, b: 36 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { size, color: ink },
    xaxis: { gridcolor: grid, zeroline: false },
    yaxis: { gridcolor: grid, zeroline: false },
    showlegend: false,
    ...extra,
  };
}

// The mean as a line and ±2 sd as a filled band; `name` names the mean, `bandName` the band
// (no legend entry for the band when it is null).
export function bandTraces(grid, mean, std, { fill = bandFill(), colour = COLOURS.mean, name, bandName = null, dash = "solid", group = "band" }) {
  const upper = mean.map((m, k) => m + 2 * std[k]);
  const lower = mean.map((m, k) => m - 2 * std[k]);
  return [
    { x: grid, y: upper, type: "scatter", mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, legendgroup: group },
    {
      x: grid, y: lower, type: "scatter", mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: fill, hoverinfo: "skip",
      name: bandName ?? "", showlegend: bandName !== null, legendgroup: group,
    },
    { x: grid, y: mean, type: "scatter", mode: "lines", line: { color: colour, width: 3, dash }, name, legendgroup: group },
  ];
}
