// The uncertainty view's classification maps (Gal & Ghahramani 2016; Houlsby et al. 2011 for
// the mutual information): the averaged P(class 1), the predictive entropy and the mutual
// information as heatmaps, the estimate over the passes at one point, and the two mistakes.
// Every number arrives computed from the server; this only draws.

import { describeChart } from "../plotly.js";
import { fmt } from "../stats.js";
import { COLOURS, CONFIG, baseLayout, themeColours } from "./uncertainty_charts.js";

// P(class 1): orange (class 0) to white to blue (class 1), lightened so that the training
// points, in the full colours, stand out on it.
const PROBABILITY_SCALE = [[0, "#f1ca73"], [0.5, "#ffffff"], [1, "#73c0d5"]];

// The values of a `bytes` array (app/wire.py): channel c of unit k is bytes[k] / 255 * scale[c].
function channel(array, c) {
  const [, h, w] = array.shape;
  const units = h * w;
  const out = new Float64Array(units);
  for (let k = 0; k < units; k += 1) out[k] = (array.bytes[c * units + k] / 255) * array.scale[c];
  return out;
}

// Rows of a (G, G) map as nested arrays (row 0 is y_min, drawn at the bottom by Plotly).
function rows(values, size) {
  return Array.from({ length: size }, (_, i) => Array.from(values.subarray(i * size, (i + 1) * size)));
}

export function drawClassification(Plotly, figures, frame, theory, { context, probe }) {
  const size = theory.grid;
  const [x0, x1, y0, y1] = theory.extent;
  const axis = (k) => Array.from({ length: size }, (_, i) => k[0] + ((k[1] - k[0]) * i) / (size - 1));
  const xs = axis([x0, x1]);
  const ys = axis([y0, y1]);
  const maps = frame.maps;
  const probability = rows(channel(maps, 0), size);
  const entropy = rows(channel(maps, 1), size);
  const information = rows(channel(maps, 2), size);
  const points = (classId) => {
    const picked = theory.train.x.filter((_, k) => theory.train.y[k] === classId);
    return {
      x: picked.map((p) => p[0]), y: picked.map((p) => p[1]), type: "scatter", mode: "markers", hoverinfo: "skip",
      marker: { color: classId === 0 ? COLOURS.class0 : COLOURS.class1, size: 7, line: { color: "#111", width: 1 } },
      name: `class ${classId}`,
    };
  };
  const mark = frame.running.point;
  const cross = mark ? [{ x: [mark[0]], y: [mark[1]], type: "scatter", mode: "markers", hoverinfo: "skip", marker: { symbol: "x-thin", size: 14, line: { color: "#111", width: 3 } }, name: "probe" }] : [];
  const heat = (z, colorscale, zmax, title) => ({
    x: xs, y: ys, z, type: "heatmap", colorscale, zmin: 0, zmax, zsmooth: "best", hoverinfo: "skip",
    colorbar: { thickness: 10, len: 0.9, title: { text: title, side: "top" }, outlinewidth: 0, xpad: 4 },
  });
  const contour = (z, colour, dash) => ({
    x: xs, y: ys, z, type: "contour", hoverinfo: "skip", showscale: false,
    contours: { start: 0.5, end: 0.5, size: 1, coloring: "none" }, line: { color: colour, width: 2.5, dash },
  });
  const square = baseLayout({
    xaxis: { range: [x0, x1], showgrid: false, zeroline: false, constrain: "domain" },
    yaxis: { range: [y0, y1], showgrid: false, zeroline: false, scaleanchor: "x", constrain: "domain" },
    margin: { l: 30, r: 6, t: 4, b: 24 },
  });
  const maxEntropy = theory.max_entropy;
  probe.band = { entropy_between: frame.entropy_between, mutual_information_between: frame.mutual_information_between };
  // In words: the map's range (a heatmap named for the description only) and the view's figures.
  const named = (z, name) => [{ z, type: "heatmap", name }];
  const regions = theory.regions;
  const passes = `Iteration ${frame.iteration}, T = ${theory.T} passes, over ${theory.n_train} training points of two classes`;
  Plotly.react(figures.entropy.chart, [heat(entropy, "Viridis", maxEntropy, "nats"), contour(probability, "#ffffff", "dot"), points(0), points(1), ...cross], square, CONFIG);
  describeChart(figures.entropy.chart, figures.entropy.label, named(entropy, "predictive entropy, in nats"),
    `${passes}: the predictive entropy is ${fmt(frame.entropy_between)} nats ${regions.between.label}, ${fmt(frame.entropy_data)} ${regions.data.label} `
    + `and ${fmt(frame.entropy_far)} ${regions.far.label} (at most ${fmt(maxEntropy)}); a dotted line marks the boundary P(class 1) = 0.5`);
  if (context.compact) return;
  Plotly.react(figures.probability.chart, [heat(probability, PROBABILITY_SCALE, 1, "P(class 1)"), contour(probability, "#111", "solid"), points(0), points(1)], square, CONFIG);
  describeChart(figures.probability.chart, figures.probability.label, named(probability, "P(class 1)"),
    `${passes}: the probability of class 1 averaged over the passes, orange towards class 0 and blue towards class 1, with the boundary P = 0.5 as a line`);
  Plotly.react(figures.information.chart, [heat(information, "Viridis", null, "nats"), contour(probability, "#ffffff", "dot"), points(0), points(1), ...cross], square, CONFIG);
  describeChart(figures.information.chart, figures.information.label, named(information, "mutual information, in nats"),
    `${passes}: the mutual information, where the passes disagree, is ${fmt(frame.mutual_information_between)} nats ${regions.between.label} `
    + `and ${fmt(frame.mutual_information_far)} ${regions.far.label}`);
  if (context.embedded) return;

  const running = frame.running;
  const t = running.entropy.map((_, k) => k + 1);
  const runningTraces = [
    { x: t, y: running.entropy, type: "scatter", mode: "lines", line: { color: COLOURS.mean, width: 2.5 }, name: "predictive entropy" },
    { x: t, y: running.mutual_information, type: "scatter", mode: "lines", line: { color: COLOURS.deterministic, width: 2.5 }, name: "mutual information" },
  ];
  describeChart(figures.running.chart, figures.running.label, runningTraces,
    `Iteration ${frame.iteration}: in nats, estimated from the first t of ${theory.T} passes at the point between the classes nearest the data's centre`);
  Plotly.react(figures.running.chart, runningTraces, baseLayout({
    xaxis: { title: { text: "passes t", standoff: 2 }, gridcolor: themeColours().grid, range: [1, Math.max(2, theory.T)] },
    yaxis: { title: { text: "nats" }, gridcolor: themeColours().grid, range: [0, maxEntropy * 1.05] },
    showlegend: true,
    legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
    margin: { l: 52, r: 10, t: 6, b: 70 },
  }), CONFIG);
  const wrong = rows(channel(frame.batch_norm_train, 0), size);
  Plotly.react(figures.batchNorm.chart, [heat(wrong, PROBABILITY_SCALE, 1, "P(class 1)"), contour(probability, "#111", "solid"), contour(wrong, COLOURS.wrong, "dot"), points(0), points(1)], square, CONFIG);
  describeChart(figures.batchNorm.chart, figures.batchNorm.label, named(wrong, "P(class 1) with BatchNorm in training mode"),
    `Iteration ${frame.iteration}: off by ${fmt(frame.batch_norm_train_error)} on average from the right P(class 1); its boundary dotted, the right one solid`);
  Plotly.react(figures.deterministic.chart, [heat(theory.deterministic, PROBABILITY_SCALE, 1, "P(class 1)"), contour(probability, "#111", "solid"), contour(theory.deterministic, COLOURS.deterministic, "dot"), points(0), points(1)], square, CONFIG);
  describeChart(figures.deterministic.chart, figures.deterministic.label, named(theory.deterministic, "model.eval()'s P(class 1)"),
    "A single network with dropout off: as confident far from the data as on it; its boundary dotted, the Monte Carlo one solid");
}
