// The uncertainty view's charts, shared by the view (uncertainty.js) and its training run
// (uncertainty_training.js): the colours, the Plotly layout of both themes and the band of
// ±2 predictive standard deviations around the mean.

// Okabe-Ito: distinguishable with every common colour blindness.
export const COLOURS = {
  mean: "#0072B2", // blue: the Monte Carlo mean and its band
  pass: "#56B4E9", // sky blue: one stochastic pass
  truth: "#009E73", // bluish green: the noiseless truth
  points: "#111111", // the training points
  deterministic: "#E69F00", // orange: model.eval()'s single answer
  wrong: "#D55E00", // vermilion: BatchNorm in training mode
  class0: "#E69F00",
  class1: "#0072B2",
};

// Fills are stronger on the projector's black background.
export const contrast = () => document.documentElement.dataset.theme === "contrast";

export const bandFill = () => `rgba(0, 114, 178, ${contrast() ? 0.45 : 0.2})`;

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
