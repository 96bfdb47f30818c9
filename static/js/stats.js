// Live statistics: the numbers of the current frame against the theory, a series over all
// iterations, and a bar chart of this frame. Every number is computed by the server; each view
// says which ones to show (rows, lines, bars), and this module draws them.

import { OKABE_ITO } from "./colours.js";
import { describeChart, loadPlotly } from "./plotly.js";

// Okabe-Ito: distinguishable with every common colour blindness.
const { blue: BLUE, orange: ORANGE, vermilion: VERMILION, green: GREEN } = OKABE_ITO;
const CONFIG = { displayModeBar: false, responsive: true, staticPlot: false };

export function fmt(value, digits = 3) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

// rows: [{ term, measured, expected }] with measured and expected already formatted (or
// expected undefined: nothing to compare with).
export function renderNumbers(list, rows) {
  list.replaceChildren(...rows.flatMap(({ term, measured, expected }) => {
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
  }));
}

function themeColours() {
  const style = getComputedStyle(document.documentElement);
  return {
    ink: style.getPropertyValue("--ink").trim() || "#111",
    grid: style.getPropertyValue("--line").trim() || "#ddd",
    size: Math.round((parseFloat(style.fontSize) || 17) * 0.8),
  };
}

// The x axis is named in the title (no axis title), so the legend sits right under the ticks.
function layout(title, yTitle, extra = {}) {
  // Colours and sizes follow the page's theme (projector mode: white on black, larger type).
  const { ink, grid, size } = themeColours();
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

const LINE_STYLES = {
  measured: { mode: "lines+markers", line: { color: BLUE }, marker: { size: 4 } },
  expected: { mode: "lines", line: { color: ORANGE, dash: "dash", width: 3 } },
  extra: { mode: "lines", line: { color: GREEN, width: 2, dash: "dot" } },
};

export class Charts {
  constructor(seriesNode, barsNode) {
    this.seriesNode = seriesNode;
    this.barsNode = barsNode;
    this.seriesDrawn = false;
    this.pending = { series: null, bars: null, iteration: null };
    this.plotly = null;
  }

  // Load Plotly (once the first frame is painted) and draw what is waiting.
  async enable() {
    try {
      this.plotly = await loadPlotly();
    } catch {
      return; // the numbers still show; the charts stay empty
    }
    const { series, bars, iteration } = this.pending;
    if (series) this.drawSeries(series, iteration);
    if (bars) this.drawBars(bars);
  }

  // spec: { title, yTitle, x, lines: [{ name, y, role }], yRange }; role: measured,
  // expected (a constant is given as two points) or extra.
  drawSeries(spec, iteration) {
    this.pending.series = spec;
    this.pending.iteration = iteration;
    if (!this.plotly) return;
    const { grid } = themeColours();
    const traces = spec.lines.map((line) => ({
      x: line.x ?? spec.x, y: line.y, type: "scatter", name: line.name, ...LINE_STYLES[line.role],
    }));
    this.plotly.react(
      this.seriesNode,
      traces,
      layout(spec.title, spec.yTitle, {
        yaxis: { title: { text: spec.yTitle }, range: spec.yRange, gridcolor: grid, zeroline: false },
        shapes: [this.#marker(iteration)],
      }),
      CONFIG,
    );
    describeChart(this.seriesNode, spec.title, traces, `Over ${spec.x.length} iterations; the current one is ${iteration}`);
    this.seriesDrawn = true;
  }

  markIteration(iteration) {
    this.pending.iteration = iteration;
    if (!this.plotly || !this.seriesDrawn) return;
    this.plotly.relayout(this.seriesNode, { shapes: [this.#marker(iteration)] });
  }

  #marker(iteration) {
    return { type: "line", x0: iteration, x1: iteration, yref: "paper", y0: 0, y1: 1, line: { color: VERMILION, width: 2 } };
  }

  // spec: { title, yTitle, x, y, name, expected: { y, name } | null, xRange }
  drawBars(spec) {
    this.pending.bars = spec;
    if (!this.plotly) return;
    const traces = [{ x: spec.x, y: spec.y, type: "bar", name: spec.name, marker: { color: BLUE } }];
    if (spec.expected) {
      traces.push({ x: spec.x, y: spec.expected.y, type: "scatter", mode: "markers", name: spec.expected.name, marker: { color: ORANGE, size: 8, symbol: "diamond" } });
    }
    const base = layout(spec.title, spec.yTitle, { bargap: 0.05 });
    if (spec.xRange) base.xaxis.range = spec.xRange;
    this.plotly.react(this.barsNode, traces, base, CONFIG);
    describeChart(this.barsNode, spec.title, traces);
  }

  // The theme changed: draw everything again in its colours.
  redraw() {
    const { series, bars, iteration } = this.pending;
    if (series) this.drawSeries(series, iteration);
    if (bars) this.drawBars(bars);
  }
}
