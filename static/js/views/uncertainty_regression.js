// The uncertainty view's regression charts (Gal & Ghahramani 2016, section 5.1): the passes,
// the predictive mean and its band of ±2 predictive sd, the estimate settling as passes are
// added, and the two mistakes (BatchNorm in training mode; model.eval()'s single answer).
// Every number arrives computed from the server; this only draws.

import { OKABE_RGB } from "../colours.js";
import { describeChart } from "../plotly.js";
import { fmt } from "../stats.js";
import { COLOURS, CONFIG, bandTraces, baseLayout, contrast, themeColours } from "./uncertainty_charts.js";

const wrongFill = () => `rgba(${OKABE_RGB.vermilion.join(", ")}, ${contrast() ? 0.35 : 0.16})`;
const gapFill = () => `rgba(120, 120, 120, ${contrast() ? 0.32 : 0.13})`;

// The passes as ONE trace: each curve, then a gap (null), so Plotly draws one path.
function passTrace(frame, theory) {
  const passes = frame.passes;
  const [, count, points] = passes.shape;
  const low = theory.y_range[0];
  const x = [];
  const y = [];
  for (let t = 0; t < count; t += 1) {
    for (let k = 0; k < points; k += 1) {
      x.push(theory.grid[k]);
      y.push(low + (passes.bytes[t * points + k] / 255) * passes.scale[0]);
    }
    x.push(null);
    y.push(null);
  }
  return {
    x, y, type: "scatter", mode: "lines", hoverinfo: "skip",
    line: { color: COLOURS.pass, width: 1 }, opacity: count > 30 ? 0.35 : 0.6,
    name: count < theory.T ? `passes (${count} of T = ${theory.T} drawn)` : `passes (T = ${theory.T})`,
  };
}


function pointsTrace(theory) {
  return {
    x: theory.train.x.map((row) => row[0]), y: theory.train.y.map((row) => row[0]), type: "scatter", mode: "markers",
    marker: { color: themeColours().ink, size: 6, line: { color: contrast() ? "#000000" : "#ffffff", width: 1 } }, name: `training points (${theory.n_train})`,
  };
}

function gapShape(theory) {
  return {
    type: "rect", xref: "x", yref: "paper", x0: theory.gap[0], x1: theory.gap[1], y0: 0, y1: 1,
    fillcolor: gapFill(), line: { width: 0 }, layer: "below",
  };
}

// A legend entry for the shaded gap (shapes have none).
function gapLegend() {
  return { x: [null], y: [null], type: "scatter", mode: "markers", marker: { symbol: "square", size: 14, color: gapFill(), line: { color: "#888", width: 1 } }, name: "no training points" };
}

export function drawRegression(Plotly, figures, frame, theory, { context, probe, deterministicGap }) {
  const { grid } = theory;
  const band = frame.band;
  const layout = (extra) => baseLayout({
    xaxis: { range: [grid[0], grid[grid.length - 1]], gridcolor: themeColours().grid, zeroline: false },
    yaxis: { range: theory.y_range, gridcolor: themeColours().grid, zeroline: false },
    shapes: [gapShape(theory)],
    ...extra,
  });
  const truth = { x: grid, y: theory.truth, type: "scatter", mode: "lines", line: { color: COLOURS.truth, width: 2, dash: "dash" }, name: "truth sin(2x)" };
  const main = [
    passTrace(frame, theory),
    ...bandTraces(grid, band.mean, band.std, { name: "predictive mean", bandName: "mean ± 2 sd" }),
    truth,
    pointsTrace(theory),
    gapLegend(),
  ];
  const compact = context.compact || context.embedded;
  Plotly.react(figures.main.chart, main, layout({
    showlegend: true,
    legend: { orientation: "h", x: 0, y: -0.08, yanchor: "top", tracegroupgap: 0, itemwidth: 30 },
    margin: { l: 40, r: 8, t: 6, b: 24 },
  }), CONFIG);
  probe.band = { mean: band.mean.slice(), std: band.std.slice() };
  const probes = theory.probes;
  const atProbes = probes.x.map((x, k) => `${probes.labels[k]}: mean ${fmt(frame.probe_mean[k], 2)}, band ± ${fmt(2 * frame.probe_std[k], 2)}`).join("; ");
  describeChart(figures.main.chart, figures.main.label, [],
    `Iteration ${frame.iteration}, T = ${theory.T} passes (p = ${fmt(theory.p, 2)}): the passes as faint curves, the predictive mean, and a band of ± 2 predictive sd. `
    + `${atProbes}. No training point between x = ${theory.gap[0]} and ${theory.gap[1]}; dashed: the truth sin(2x)`);
  if (compact) return;

  // The estimate over the first t passes at the two probes, against its limit.
  const running = frame.running;
  const t = running.std[0].map((_, k) => k + 1);
  const expected = theory.probes.running.map((x) => {
    const k = theory.probes.x.indexOf(x);
    return Math.sqrt(theory.tau_inverse + theory.probes.reference_model_variance[k]);
  });
  const runningTraces = [
    { x: t, y: running.std[0], type: "scatter", mode: "lines", line: { color: COLOURS.mean, width: 2.5 }, name: `sd at x = ${theory.probes.running[0]} (the gap)` },
    { x: [1, theory.T], y: [expected[0], expected[0]], type: "scatter", mode: "lines", line: { color: COLOURS.mean, width: 1.5, dash: "dash" }, name: `its limit (${theory.reference_passes} passes)` },
    { x: t, y: running.std[1], type: "scatter", mode: "lines", line: { color: COLOURS.deterministic, width: 2.5 }, name: `sd at x = ${theory.probes.running[1]} (in the data)` },
    { x: [1, theory.T], y: [expected[1], expected[1]], type: "scatter", mode: "lines", line: { color: COLOURS.deterministic, width: 1.5, dash: "dash" }, name: "its limit" },
  ];
  describeChart(figures.running.chart, figures.running.label, runningTraces,
    `Iteration ${frame.iteration}: the predictive sd estimated from the first t of ${theory.T} passes, at two points, against its limit`);
  Plotly.react(figures.running.chart, runningTraces, baseLayout({
    xaxis: { title: { text: "passes t", standoff: 2 }, gridcolor: themeColours().grid, range: [1, Math.max(2, theory.T)] },
    yaxis: { title: { text: "predictive sd" }, gridcolor: themeColours().grid, rangemode: "tozero" },
    showlegend: true,
    legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
    margin: { l: 52, r: 10, t: 6, b: 70 },
  }), CONFIG);

  const wrong = frame.batch_norm_train;
  const mistake = (name, y) => ({ x: grid, y, type: "scatter", name });
  describeChart(figures.batchNorm.chart, figures.batchNorm.label, [
    mistake("right mean", band.mean), mistake("mean with BatchNorm in training mode", wrong.mean),
  ], `Iteration ${frame.iteration}, the same masks: with BatchNorm in training mode the mean is off by ${fmt(frame.batch_norm_train_error)} on average, `
    + "and its band (vermilion) differs from the right one (blue)");
  Plotly.react(figures.batchNorm.chart, [
    ...bandTraces(grid, band.mean, band.std, { name: "right: BatchNorm on its running statistics", bandName: "± 2 sd" }),
    ...bandTraces(grid, wrong.mean, wrong.std, { name: "model.train(): BatchNorm on the batch", bandName: "± 2 sd", fill: wrongFill(), colour: COLOURS.wrong, dash: "dot", group: "wrong" }),
    pointsTrace(theory),
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: -0.18, yanchor: "top" }, margin: { l: 44, r: 10, t: 6, b: 84 } }), CONFIG);
  Plotly.react(figures.deterministic.chart, [
    ...bandTraces(grid, band.mean, band.std, { name: `Monte Carlo mean (T = ${theory.T})`, bandName: "± 2 sd" }),
    { x: grid, y: theory.deterministic, type: "scatter", mode: "lines", line: { color: COLOURS.deterministic, width: 3 }, name: "model.eval(): the single answer" },
    pointsTrace(theory),
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: -0.18, yanchor: "top" }, margin: { l: 44, r: 10, t: 6, b: 84 } }), CONFIG);
  describeChart(figures.deterministic.chart, figures.deterministic.label, [
    mistake(`Monte Carlo mean (T = ${theory.T})`, band.mean), mistake("model.eval()'s single answer", theory.deterministic),
  ], `model.eval() switches dropout off: one curve and no band, at most ${fmt(deterministicGap)} from the Monte Carlo mean`);
}
