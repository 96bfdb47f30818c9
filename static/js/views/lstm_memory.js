// The LSTM view's memory task, under the view: trained in the server per mode and streamed
// (GET /api/train?view=lstm).

import { element } from "../dom.js";
import { describeChart, loadPlotly } from "../plotly.js";
import { fmt } from "../stats.js";
import { StreamedTraining } from "./streamed_training.js";
import { MODE_COLOURS, MODE_DASH, percent, themeColours } from "./lstm_parts.js";

const MEMORY_KEYS = ["memory_p", "memory_k", "memory_symbols", "memory_steps"];

// ---------------------------------------------------------------- the memory task

// Under the view: a small LSTM trained in the server per mode on delayed recall, streamed;
// its test accuracy against the distance k, one line per mode on one chart.
export class MemoryPanel extends StreamedTraining {
  constructor(extra, context) {
    super(context, {
      probe: { state: "idle", events: 0, trained: [], runs: 0, final: null },
      probeName: "memory",
      formLabel: "memory task parameters",
      buttonText: "Train every mode",
    });
    this.chart = element("div", { class: "memory-chart", role: "img", "aria-label": "test accuracy against the distance k, per mode" });
    this.table = element("table", { class: "memory-table" });
    this.mount(extra, {
      className: "memory-training",
      titleId: "memory-title",
      title: "Memory, measured: recall the symbol seen k steps earlier",
      why: "A small LSTM (32 units) reads random symbols and must answer, at every step, the symbols it saw 1 to k steps earlier. "
        + "It is trained in the server once per mode, from the same initial weights on the same minibatches, with the same p; only where and when the mask acts differs. "
        + "Accuracy is measured at test time on 512 sequences it never saw. The further back, the longer the cell must hold the symbol: naive dropout, "
        + "which zeroes a new share of c at every step, loses it; the others keep it.",
      gridClass: "memory-grid",
      figures: [element("figure", { class: "view memory-figure" }, [this.chart, this.table])],
    });
  }

  show(state) {
    if (state) this.showSettings(state, "memory");
  }

  query(state = this.context.state()) {
    const query = new URLSearchParams();
    for (const name of MEMORY_KEYS) if (state.params[name] !== undefined) query.set(name, String(state.params[name]));
    query.set("seed", String(state.seed));
    return query;
  }

  async run() {
    const query = this.query();
    this.latest = {};
    this.done = {};
    await this.stream(query.toString(), this.trainUrl(query), {
      info: (data) => this.#info(data),
      progress: (data) => this.#progress(data),
      trained: (data) => this.#trained(data),
      done: (data) => this.#done(data),
    }, { events: 0, trained: [], final: null });
  }

  #info(info) {
    this.info = info;
    this.latest = {};
    this.done = {};
    this.status.textContent = `Training ${info.modes.length} LSTMs of ${info.hidden} units, ${info.steps} steps each on sequences of ${info.length} symbols…`;
    this.#table(null);
    this.#drawSoon();
  }

  #progress(event) {
    this.probe.events += 1;
    this.latest[event.mode] = event;
    const name = this.info.names[event.mode];
    const index = this.info.modes.indexOf(event.mode) + 1;
    this.status.textContent = `${name} (${index} of ${this.info.modes.length}): step ${event.step} of ${this.info.steps}, accuracy at k = ${this.info.distances.length}: ${percent(event.accuracy.at(-1), 0)}…`;
    this.#drawSoon();
  }

  #trained(event) {
    this.done[event.mode] = event.accuracy;
    this.probe.trained.push(event.mode);
  }

  #done(done) {
    this.probe.state = "done";
    this.probe.final = done;
    const longest = done.longest;
    const span = longest.length > 1 ? `k = ${longest[0]} to ${longest.at(-1)}` : `k = ${longest[0]}`;
    const naive = done.long_accuracy.naive;
    const others = ["rnndrop", "recurrent", "variational", "zoneout"].map((mode) => done.long_accuracy[mode]);
    this.status.textContent = `Done. Mean accuracy at the longest distances (${span}): naive dropout ${percent(naive, 0)}, `
      + `the per-sequence and memory-keeping modes ${percent(Math.min(...others), 0)} to ${percent(Math.max(...others), 0)}, no dropout ${percent(done.long_accuracy.none, 0)}.`;
    this.#table(done);
    this.#draw();
  }

  #table(done) {
    if (!done || !this.info) {
      this.table.replaceChildren();
      return;
    }
    const span = done.longest.length > 1 ? `k = ${done.longest[0]}–${done.longest.at(-1)}` : `k = ${done.longest[0]}`;
    this.table.replaceChildren(
      element("caption", { text: `test accuracy (chance ${percent(this.info.chance, 0)})` }),
      element("thead", {}, [element("tr", {}, [element("th", { scope: "col", text: "mode" }), element("th", { scope: "col", text: "k = 1" }), element("th", { scope: "col", text: span })])]),
      element("tbody", {}, this.info.modes.map((mode) => element("tr", {}, [
        element("th", { scope: "row" }, [element("span", { class: "swatch", style: `background:${MODE_COLOURS[mode]}` }), ` ${this.info.names[mode]}`]),
        element("td", { text: percent(done.accuracy[mode][0], 0) }),
        element("td", { text: percent(done.long_accuracy[mode], 0) }),
      ]))),
    );
  }

  #drawSoon() {
    if (this.drawing) return;
    this.drawing = true;
    requestAnimationFrame(() => {
      this.drawing = false;
      this.#draw();
    });
  }

  async #draw() {
    const Plotly = await loadPlotly();
    const info = this.info;
    if (!info || !this.section.isConnected) return;
    const { ink, line, muted } = themeColours();
    const k = info.distances;
    const traces = info.modes.filter((mode) => this.latest[mode]).map((mode) => {
      const finished = Boolean(this.done[mode]);
      const event = this.latest[mode];
      return {
        x: k, y: event.accuracy.slice(), type: "scatter", mode: "lines+markers",
        name: finished ? info.names[mode] : `${info.names[mode]} (step ${event.step})`,
        line: { color: MODE_COLOURS[mode], width: mode === "naive" ? 3.5 : 2.5, dash: MODE_DASH[mode] },
        marker: { size: 6 }, opacity: finished ? 1 : 0.55,
      };
    });
    traces.push({ x: [k[0], k.at(-1)], y: [info.chance, info.chance], type: "scatter", mode: "lines", name: "chance", line: { color: muted, width: 1.5, dash: "dot" } });
    const title = `test accuracy against the distance k (p = ${fmt(info.p, 2)} for every mode)`;
    Plotly.react(this.chart, traces, {
      title: { text: title, x: 0.01, xanchor: "left" },
      margin: { l: 58, r: 16, t: 44, b: 96 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: ink, size: 14 },
      xaxis: { title: { text: "distance k: the symbol seen k steps earlier" }, gridcolor: line, dtick: 1, range: [0.5, k.at(-1) + 0.5] },
      yaxis: { title: { text: "test accuracy" }, gridcolor: line, range: [0, 1.02], tickformat: ".0%" },
      legend: { orientation: "h", x: 0, y: -0.24, yanchor: "top" },
    }, { displayModeBar: false, responsive: true });
    const trained = Object.keys(this.done).length;
    describeChart(this.chart, title, traces, `A small LSTM trained once per mode: ${trained} of ${info.modes.length} modes trained. `
      + `Each line runs from k = ${k[0]} to k = ${k.at(-1)}, the accuracy of recalling the symbol seen k steps earlier; chance is ${percent(info.chance, 0)}`);
    this.probe.drawn = traces.length - 1;
  }
}
