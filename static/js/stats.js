// Live statistics: the numbers of the current frame against the theory, the dropped fraction
// over all iterations, and the histogram of mask values. Everything is computed by the server.

const BLUE = "#0072B2"; // Okabe-Ito: distinguishable with every common colour blindness
const ORANGE = "#E69F00";
const VERMILION = "#D55E00";
const GREEN = "#009E73";
const CONFIG = { displayModeBar: false, responsive: true, staticPlot: false };

function fmt(value, digits = 3) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function row(term, measured, expected) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = measured;
  if (expected !== undefined) {
    const theory = document.createElement("span");
    theory.className = "theory";
    theory.textContent = ` expected ${expected}`;
    dd.append(theory);
  }
  return [dt, dd];
}

export function renderNumbers(list, frame, theory, unitWord) {
  const rows = [
    ...row(`${unitWord}s dropped`, fmt(frame.dropped_fraction), fmt(theory.expected_dropped_fraction)),
    ...row("mask mean (factor per unit)", fmt(frame.mask_mean), fmt(theory.mask_mean)),
    ...row("mask variance", fmt(frame.mask_variance), fmt(theory.mask_variance)),
    ...row("image brightness, output ÷ input", fmt(frame.output_mean_ratio)),
  ];
  if (frame.p_t !== null && frame.p_t !== undefined) rows.push(...row("p this iteration", fmt(frame.p_t)));
  list.replaceChildren(...rows);
}

// The x axis is named in the title (no axis title), so the legend sits right under the ticks.
function layout(title, yTitle, extra = {}) {
  // Colours and sizes follow the page's theme (projector mode: white on black, larger type).
  const style = getComputedStyle(document.documentElement);
  const ink = style.getPropertyValue("--ink").trim() || "#111";
  const grid = style.getPropertyValue("--line").trim() || "#ddd";
  const base = parseFloat(style.fontSize) || 17;
  const size = Math.round(base * 0.8);
  return {
    title: { text: title, font: { size: size + 2 }, x: 0.01, xanchor: "left", y: 0.97 },
    margin: { l: 56, r: 16, t: 40, b: 64 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { size, color: ink },
    xaxis: { zeroline: false, gridcolor: grid },
    yaxis: { title: { text: yTitle }, zeroline: false, gridcolor: grid },
    showlegend: true,
    legend: { orientation: "h", x: 0, y: -0.12, yanchor: "top" },
    ...extra,
  };
}

export class Charts {
  constructor(seriesNode, histogramNode) {
    this.seriesNode = seriesNode;
    this.histogramNode = histogramNode;
    this.seriesDrawn = false;
  }

  get available() {
    return typeof window.Plotly !== "undefined";
  }

  drawSeries(series, iteration, unitWord) {
    if (!this.available) return;
    const x = series.frames.map((frame) => frame.iteration);
    // Gaussian masks drop nothing: follow their variance instead of the dropped fraction.
    const real = series.theory.mask_kind === "real";
    const measured = series.frames.map((frame) => (real ? frame.mask_variance : frame.dropped_fraction));
    const expected = real ? series.theory.mask_variance : series.theory.expected_dropped_fraction;
    const title = real ? "mask variance per iteration" : `${unitWord}s dropped per iteration`;
    const yTitle = real ? "variance" : "fraction";
    const traces = [
      { x, y: measured, type: "scatter", mode: "lines+markers", name: "measured", line: { color: BLUE }, marker: { size: 4 } },
      { x: [x[0], x[x.length - 1]], y: [expected, expected], type: "scatter", mode: "lines", name: "expected", line: { color: ORANGE, dash: "dash", width: 3 } },
    ];
    if (series.frames.some((frame) => frame.p_t !== null && frame.p_t !== undefined)) {
      traces.push({ x, y: series.frames.map((frame) => frame.p_t), type: "scatter", mode: "lines", name: "p drawn this iteration", line: { color: GREEN, width: 2, dash: "dot" } });
    }
    const top = Math.max(0.05, ...measured, expected) * 1.15;
    window.Plotly.react(
      this.seriesNode,
      traces,
      layout(title, yTitle, {
        yaxis: { title: { text: yTitle }, range: [0, real ? top : Math.min(1.02, top)], gridcolor: getComputedStyle(document.documentElement).getPropertyValue("--line").trim() },
        shapes: [this.#marker(iteration)],
      }),
      CONFIG,
    );
    this.seriesDrawn = true;
  }

  markIteration(iteration) {
    if (!this.available || !this.seriesDrawn) return;
    window.Plotly.relayout(this.seriesNode, { shapes: [this.#marker(iteration)] });
  }

  #marker(iteration) {
    return { type: "line", x0: iteration, x1: iteration, yref: "paper", y0: 0, y1: 1, line: { color: VERMILION, width: 2 } };
  }

  drawHistogram(frame, theory) {
    if (!this.available) return;
    const edges = theory.histogram_edges;
    const centres = edges.slice(0, -1).map((edge, k) => (edge + edges[k + 1]) / 2);
    const width = edges[1] - edges[0];
    const traces = [{ x: centres, y: frame.histogram, type: "bar", name: "this mask", marker: { color: BLUE } }];
    if (theory.expected_histogram) {
      traces.push({ x: centres, y: theory.expected_histogram, type: "scatter", mode: "markers", name: "expected count", marker: { color: ORANGE, size: 8, symbol: "diamond" } });
    }
    const base = layout("mask values, this iteration", "count", { bargap: 0.05 });
    // One bin of room on each side, so bars at the ends of the range are not cut in half.
    base.xaxis.range = [edges[0] - width, edges[edges.length - 1] + width];
    window.Plotly.react(this.histogramNode, traces, base, CONFIG);
  }
}
