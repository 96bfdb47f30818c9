// The dense view: a small network drawn as neurons and connections, its masks at this
// iteration, the test-time network beside it, a strip of the sub-networks of the last
// iterations, the test-time rule against the ensemble's mean, the method's own panel, and
// the training run below (training.js). Every number arrives computed from the server.

import { ABOVE, BELOW, OKABE_ITO, OKABE_RGB } from "../colours.js";
import { element, svg, linkViewStyles } from "../dom.js";
import { fmt } from "../stats.js";
import { share as percent, titleSvg } from "./titles.js";
import { TrainingPanel } from "./training.js";

const { blue: BLUE, orange: ORANGE, vermilion: VERMILION } = OKABE_ITO;
const GREY = "#9a9a9a";

const METHOD_NOTES = {
  standard: "Crossed out: dropped this iteration (output 0). The survivors are multiplied by the factor written beside them.",
  gaussian: "Every neuron is multiplied by its own noise N(1, σ²): the ring's colour, blue below 1, orange above. None is ever off.",
  alpha: "A SELU network: a dropped neuron is set to α′ (SELU's saturation), then every neuron goes through a·x + b, which keeps mean and variance.",
  dropconnect: "Connections, not neurons, are dropped: a fresh mask for every example, biases too. Dashed grey: dropped this iteration.",
  standout: "The shading is each neuron's probability to be KEPT, computed from its own input: π = σ(α·(Wx + b) + β) (the registry's form).",
};

// The colour of an activation: white at 0, blue for positive, orange for negative values.
function activationColour(value, top) {
  const t = Math.min(1, Math.abs(value) / (top || 1));
  const [r, g, b] = value >= 0 ? OKABE_RGB.blue : OKABE_RGB.orange;
  const mix = (c) => Math.round(255 + (c - 255) * t);
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
}

function noiseColour(value) {
  const t = Math.min(1, Math.abs(value - 1) / 1.5);
  const [r, g, b] = value < 1 ? BELOW : ABOVE;
  const mix = (c) => Math.round(255 + (c - 255) * t);
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
}

// Positions of the drawn neurons: layers left to right, neurons centred in each column;
// `right` leaves room after the last layer (for the output's labels).
function layout(shown, width, height, pad, right = pad) {
  return shown.map((count, layer) => {
    const x = pad + ((width - pad - right) * layer) / Math.max(1, shown.length - 1);
    return Array.from({ length: count }, (_, k) => ({ x, y: pad + ((height - 2 * pad) * (k + 0.5)) / count }));
  });
}

export default class DenseView {
  static needsImage = false;

  constructor(root, extra, context) {
    linkViewStyles("dense");
    this.root = root;
    this.context = context;
    root.classList.add("dense-view");
    this.trainDiagram = svg("svg", { class: "network", role: "img", "aria-label": "the network at this iteration" });
    this.testDiagram = svg("svg", { class: "network test-network", role: "img", "aria-label": "the network at test time" });
    this.trainCaption = element("figcaption");
    this.testCaption = element("figcaption");
    this.strip = element("div", { class: "strip", role: "list", "aria-label": "the sub-networks of the last iterations" });
    this.outputs = element("table", { class: "outputs" });
    this.methodPanel = element("div", { class: "method-panel" });
    this.note = element("p", { class: "dense-note" });
    this.container = element("div", { class: "dense" }, [
      element("div", { class: "dense-row" }, [
        element("figure", { class: "view network-figure" }, [this.trainCaption, this.trainDiagram]),
        element("figure", { class: "view network-figure test-figure" }, [this.testCaption, this.testDiagram]),
      ]),
      this.note,
      element("div", { class: "dense-row lower" }, [
        element("section", { class: "view ensemble" }, [
          element("h3", { text: "The ensemble dropout trains" }),
          element("p", { class: "help", text: "The sub-networks sampled in the last iterations (newest last), with what each outputs:" }),
          this.strip,
          this.outputs,
        ]),
        this.methodPanel,
      ]),
    ]);
    root.prepend(this.container);
    this.training = context.panels ? new TrainingPanel(extra, context) : null;
  }

  destroy() {
    this.container.remove();
    this.root.classList.remove("dense-view");
    this.training?.destroy();
  }

  loaded() {
    return true; // no input to load: the network arrives with the theory
  }

  async load(state) {
    this.training?.show(state);
  }

  paint(frame, header) {
    const { theory } = header;
    const method = header.method;
    const net = theory.network;
    const pass = frame.pass;
    const drawn = this.#draw(this.trainDiagram, net, pass, method, { train: true, input: theory.input });
    this.#draw(this.testDiagram, net, theory.test, method, { train: false, input: theory.input });
    const hidden = net.sizes.slice(1, -1).reduce((a, b) => a + b, 0);
    const trained = net.source === "trained" ? " (the trained network; the first neurons of each layer)" : "";
    this.trainCaption.replaceChildren(
      element("span", { class: "title", text: `training, iteration ${frame.iteration}` }), " ",
      element("span", { class: "detail", text: `${(100 * frame.dropped_fraction).toFixed(0)} % of the ${theory.unit}s dropped${trained}` }),
    );
    this.testCaption.replaceChildren(
      element("span", { class: "title", text: "test time" }), " ",
      element("span", { class: "detail", text: this.context.method().test_time }),
    );
    this.note.textContent = `${METHOD_NOTES[method] ?? ""} Neurons: blue for a positive activation, orange for a negative one, deeper for larger. `
      + `Connections: blue positive weights, orange negative, thicker for larger. Input (${theory.input.map((v) => v.toFixed(2)).join(", ")}); ${hidden} hidden neurons.`;
    this.#drawStrip(frame.strip, net, method);
    this.#outputs(frame, header, hidden);
    this.#methodPanel(method, theory);
    const subset = isSubset(net);
    titleSvg(this.trainDiagram, `the network at iteration ${frame.iteration}: ${droppedWords(method, drawn, subset)}`
      + `${subset ? ` (${percent(frame.dropped_fraction, 0)} of all its hidden ${theory.unit}s)` : ""}; P(class 1) ${fmt(frame.output[1], 2)}`);
    titleSvg(this.testDiagram, `the network at test time: every ${theory.unit} kept, test-time rule ${ruleName(method, header.params)}; P(class 1) ${fmt(theory.test.output[1], 2)}`);
  }

  // One network: connections, then neurons with their values and marks.
  #draw(node, net, pass, method, { train, input, mini = false }) {
    const width = mini ? 120 : 520;
    const height = mini ? 80 : 300;
    const pad = mini ? 10 : 34;
    const radius = mini ? 4.5 : 15;
    node.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const spots = layout(net.shown, width, height, pad, mini ? pad : 112);
    const parts = [];
    const counts = { neurons: 0, dropped: 0, connections: 0, cut: 0 }; // hidden neurons, connections drawn
    const maxWeight = Math.max(1e-9, ...net.layers.flatMap((layer) => layer.weights.flat().map(Math.abs)));
    net.layers.forEach((layer, l) => {
      const masks = pass.connections?.[l + 1];
      const fromMask = pass.layers[l].mask;
      layer.weights.forEach((row, j) => row.forEach((w, i) => {
        const a = spots[l][i];
        const b = spots[l + 1][j];
        const droppedConnection = masks && masks.weights[j][i] === 0;
        const fromDropped = method !== "dropconnect" && method !== "gaussian" && fromMask && fromMask[i] === 0;
        const off = train && (droppedConnection || fromDropped);
        counts.connections += 1;
        if (train && droppedConnection) counts.cut += 1;
        parts.push(svg("line", {
          x1: a.x, y1: a.y, x2: b.x, y2: b.y,
          stroke: off ? GREY : w >= 0 ? BLUE : ORANGE,
          "stroke-width": mini ? 0.8 : 0.6 + 3 * Math.abs(w) / maxWeight,
          "stroke-opacity": off ? 0.35 : 0.75,
          "stroke-dasharray": droppedConnection && train ? "4 3" : "none",
        }));
      }));
    });
    pass.layers.forEach((layer, l) => {
      const values = layer.values ?? [];
      const top = Math.max(1e-9, ...values.map(Math.abs));
      spots[l].forEach((spot, k) => {
        const value = values[k] ?? 0;
        const mask = layer.mask?.[k];
        const dropped = train && method !== "gaussian" && mask === 0;
        if (l > 0 && l < pass.layers.length - 1) {
          counts.neurons += 1;
          if (dropped) counts.dropped += 1;
        }
        let fill = activationColour(value, top);
        if (method === "standout" && layer.keep) fill = `rgba(${OKABE_RGB.blue.join(", ")}, ${0.12 + 0.88 * layer.keep[k]})`;
        if (dropped && method !== "alpha") fill = "#d9d9d9";
        parts.push(svg("circle", {
          cx: spot.x, cy: spot.y, r: radius, fill,
          stroke: method === "gaussian" && mask !== undefined && mask !== null && train ? noiseColour(mask) : "#333",
          "stroke-width": method === "gaussian" && mask !== undefined && mask !== null && train ? (mini ? 2 : 5) : 1,
        }));
        if (dropped) {
          const d = radius * 0.75;
          parts.push(svg("path", { d: `M${spot.x - d} ${spot.y - d}L${spot.x + d} ${spot.y + d}M${spot.x + d} ${spot.y - d}L${spot.x - d} ${spot.y + d}`, stroke: VERMILION, "stroke-width": mini ? 1.5 : 3 }));
        }
        if (mini) return;
        parts.push(svg("text", { x: spot.x, y: spot.y + 4, "text-anchor": "middle", class: "value", text: l === 0 ? input[k].toFixed(2) : value.toFixed(2) }));
        const label = this.#factorLabel(method, layer, k, train, dropped);
        if (label) parts.push(svg("text", { x: spot.x + radius + 3, y: spot.y - radius + 2, class: "factor", text: label }));
      });
    });
    if (!mini) {
      const last = spots[spots.length - 1];
      pass.output.forEach((probability, k) => parts.push(svg("text", {
        x: last[k].x + radius + 5, y: last[k].y + 4, class: "probability", text: `class ${k}: ${probability.toFixed(2)}`,
      })));
    }
    node.replaceChildren(...parts);
    return counts;
  }

  #factorLabel(method, layer, k, train, dropped) {
    const mask = layer.mask?.[k];
    if (mask === undefined || mask === null) return "";
    if (method === "standout") return train ? (dropped ? "" : `π ${layer.keep[k].toFixed(2)}`) : `× π ${mask.toFixed(2)}`;
    if (method === "gaussian") return train ? `× ${mask.toFixed(2)}` : "";
    if (method === "alpha") return train && dropped ? "α′" : "";
    if (dropped || Math.abs(mask - 1) < 1e-9) return "";
    return `× ${mask.toFixed(2)}`;
  }

  #drawStrip(strip, net, method) {
    this.strip.replaceChildren(...strip.map((entry) => {
      const pass = {
        layers: entry.layers.map((mask, l) => ({ mask, values: new Array(net.shown[l]).fill(0.6) })),
        connections: entry.connections,
        output: entry.output,
      };
      const node = svg("svg", { class: "mini", role: "img" });
      const drawn = this.#draw(node, net, pass, method, { train: true, input: [], mini: true });
      titleSvg(node, `the sub-network of iteration ${entry.iteration}: ${droppedWords(method, drawn, isSubset(net))}; P(class 1) ${fmt(entry.output[1], 2)}`);
      return element("figure", { class: "strip-item", role: "listitem" }, [
        node,
        element("figcaption", { text: `#${entry.iteration}: ${fmt(entry.output[1], 2)}` }),
      ]);
    }));
  }

  #outputs(frame, header, hidden) {
    const { theory } = header;
    const ensemble = theory.ensemble;
    const rule = theory.test.output[1];
    const rows = [
      ["this sub-network (iteration " + frame.iteration + ")", frame.output[1]],
      [`test-time rule: ${ruleName(header.method, header.params)}`, rule],
      [`mean of ${ensemble.samples} sampled sub-networks`, ensemble.mean[1]],
    ];
    if (ensemble.exact) rows.push([`exact mean over all 2^${hidden} sub-networks`, ensemble.exact[1]]);
    const reference = ensemble.exact ? ensemble.exact[1] : ensemble.mean[1];
    this.outputs.replaceChildren(
      element("caption", { text: "P(class 1) for this input" }),
      ...rows.map(([label, value]) => element("tr", {}, [element("th", { scope: "row", text: label }), element("td", { text: fmt(value) })])),
      element("tr", { class: "gap" }, [
        element("th", { scope: "row", text: "test-time rule − ensemble mean" }),
        element("td", { text: `${rule - reference >= 0 ? "+" : ""}${fmt(rule - reference)}` }),
      ]),
    );
  }

  #methodPanel(method, theory) {
    if (method === "dropconnect" && theory.dropconnect_unit) {
      const unit = theory.dropconnect_unit;
      this.methodPanel.replaceChildren(
        element("section", { class: "view" }, [
          element("h3", { text: `Test time, one unit of hidden layer ${unit.layer} (Wan et al. 2013)` }),
          element("p", { class: "help", text: `Its ${unit.inputs} incoming connections (the bias among them) are masked again and again, for its input at test time; the sum u is then matched by a Gaussian of the same mean and variance.` }),
          histogram(unit.edges, [
            { counts: unit.sampled, colour: BLUE, label: `pre-activation u over ${unit.sampled.reduce((a, b) => a + b, 0)} masks` },
            { counts: unit.gaussian, colour: ORANGE, label: "moment-matched Gaussian", line: true },
          ], {
            words: `histogram of one unit's pre-activation u over ${unit.sampled.reduce((a, b) => a + b, 0)} masks, mean ${fmt(unit.sample_mean)} and variance ${fmt(unit.sample_variance)}, `
              + `against the moment-matched Gaussian, mean ${fmt(unit.moment_mean)} and variance ${fmt(unit.moment_variance)}`,
          }),
          element("table", { class: "outputs" }, [
            ...[
              ["mean of u: sampled / Gaussian", `${fmt(unit.sample_mean)} / ${fmt(unit.moment_mean)}`],
              ["variance of u: sampled / Gaussian", `${fmt(unit.sample_variance)} / ${fmt(unit.moment_variance)}`],
              ["mean rule a(E[u])", fmt(unit.mean_rule)],
              [`Gaussian rule: mean of a(u), ${unit.samples} samples`, fmt(unit.gaussian_rule)],
              ["what the masks give: mean of a(u)", fmt(unit.sampled_output)],
            ].map(([label, value]) => element("tr", {}, [element("th", { scope: "row", text: label }), element("td", { text: value })])),
          ]),
        ]),
      );
    } else if (method === "alpha" && theory.histograms) {
      const h = theory.histograms;
      const part = (title, data, colour) => element("figure", { class: "alpha-hist" }, [
        element("figcaption", { text: `${title}: mean ${fmt(data.mean)}, variance ${fmt(data.variance)}` }),
        histogram(h.edges, [{ counts: data.counts, colour, label: title }], {
          small: true, words: `histogram of the activations ${title}: mean ${fmt(data.mean)}, variance ${fmt(data.variance)}`,
        }),
      ]);
      this.methodPanel.replaceChildren(element("section", { class: "view" }, [
        element("h3", { text: `A SELU layer's activations (${h.units}), at p = ${fmt(theory.expected_dropped_fraction, 2)}` }),
        part("before dropout", h.before, GREY),
        part("after AlphaDropout", h.alpha, BLUE),
        part("after plain (inverted) dropout", h.plain, VERMILION),
        element("p", { class: "help", text: `Dropped units become ${fmt(h.dropped_value)}; AlphaDropout keeps mean 0 and variance 1, plain dropout inflates the variance and piles units on 0.` }),
      ]));
    } else if (method === "standout") {
      this.methodPanel.replaceChildren(element("section", { class: "view" }, [
        element("h3", { text: "Standout: who is kept" }),
        element("p", { text: "Darker blue: a higher probability to be KEPT. The probability is computed from the neuron's own pre-activation, so it changes with the input and the weights, not between iterations." }),
        element("p", { class: "help", text: "At test time each neuron is multiplied by its keep probability π (Ba & Frey): the expectation of the training output." }),
      ]));
    } else {
      this.methodPanel.replaceChildren();
    }
  }

  numbers(frame, theory) {
    const unit = theory.unit === "connection" ? "connections" : "neurons";
    return [
      { term: `hidden ${unit} dropped`, measured: fmt(frame.dropped_fraction), expected: fmt(theory.expected_dropped_fraction) },
      { term: "P(class 1), this sub-network", measured: fmt(frame.output[1]) },
      { term: "P(class 1), test-time rule", measured: fmt(theory.test.output[1]) },
      { term: `P(class 1), mean of ${theory.ensemble.samples} sub-networks`, measured: fmt(theory.ensemble.mean[1]) },
    ];
  }

  series(series) {
    const x = series.frames.map((frame) => frame.iteration);
    const expected = series.theory.expected_dropped_fraction;
    return {
      title: "dropped per iteration, and the output",
      yTitle: "fraction / probability",
      x,
      lines: [
        { name: "dropped, measured", y: series.frames.map((frame) => frame.dropped_fraction), role: "measured" },
        { name: "expected", x: [x[0], x[x.length - 1]], y: [expected, expected], role: "expected" },
        { name: "P(class 1), this sub-network", y: series.frames.map((frame) => frame.output[1]), role: "extra" },
      ],
      yRange: [0, 1.02],
    };
  }

  bars(frame, theory) {
    const labels = ["this sub-network", "test-time rule", "sampled ensemble"];
    const values = [frame.output[1], theory.test.output[1], theory.ensemble.mean[1]];
    if (theory.ensemble.exact) {
      labels.push("exact ensemble");
      values.push(theory.ensemble.exact[1]);
    }
    return { title: "P(class 1) for this input", yTitle: "probability", x: labels, y: values, name: "P(class 1)", expected: null };
  }

  derived() {
    return null;
  }

  announce(frame, theory) {
    const unit = theory.unit === "connection" ? "connections" : "neurons";
    const dropped = theory.mask_kind === "real"
      ? `every hidden neuron multiplied by its own noise, none dropped`
      : `${percent(frame.dropped_fraction)} of hidden ${unit} dropped, expected ${percent(theory.expected_dropped_fraction)}`;
    return `Iteration ${frame.iteration}: ${dropped}; P(class 1) ${fmt(frame.output[1], 2)} for this sub-network, ${fmt(theory.test.output[1], 2)} with the test-time rule.`;
  }
}

// Whether the diagram draws only some of the network's neurons (the trained network).
function isSubset(net) {
  return net.shown.some((count, l) => count !== net.sizes[l]);
}

// What a drawn network drops, in words, from what #draw counted: "3 of 10 hidden neurons
// dropped" (connections for DropConnect; Gaussian noise drops none); `subset`: the diagram
// draws only some of the neurons.
function droppedWords(method, drawn, subset) {
  if (method === "gaussian") return `every one of the ${drawn.neurons} hidden neurons${subset ? " drawn" : ""} multiplied by its own noise`;
  const [count, total, what] = method === "dropconnect" ? [drawn.cut, drawn.connections, "connections"] : [drawn.dropped, drawn.neurons, "hidden neurons"];
  const how = method === "alpha" ? " (set to α′)" : "";
  return subset ? `of the ${total} ${what} drawn, ${count} dropped${how}` : `${count} of ${total} ${what} dropped${how}`;
}

// The method's test-time rule, in a few words.
function ruleName(method, params) {
  if (method === "standard") return params.scaling === "inverted" ? "identity (inverted scaling)" : "× (1 − p), the paper's";
  if (method === "dropconnect") return params.inference === "gaussian" ? "Gaussian moment matching" : "mean rule a(E[u])";
  if (method === "standout") return "× π, the keep probability";
  return "identity";
}

// A histogram as SVG bars (and lines), for the method panels: no Plotly needed.
function histogram(edges, series, { small = false, words = null } = {}) {
  const width = 300;
  const height = small ? 70 : 150;
  const pad = 4;
  const bins = edges.length - 1;
  const top = Math.max(1e-9, ...series.flatMap((s) => s.counts));
  const x = (k) => pad + ((width - 2 * pad) * k) / bins;
  const y = (count) => height - pad - ((height - 2 * pad) * count) / top;
  const parts = [];
  for (const s of series) {
    if (s.line) {
      const points = s.counts.map((count, k) => `${(x(k) + x(k + 1)) / 2},${y(count)}`).join(" ");
      parts.push(svg("polyline", { points, fill: "none", stroke: s.colour, "stroke-width": 2.5 }));
    } else {
      s.counts.forEach((count, k) => parts.push(svg("rect", {
        x: x(k) + 0.5, y: y(count), width: Math.max(0.5, x(k + 1) - x(k) - 1), height: height - pad - y(count), fill: s.colour, "fill-opacity": 0.8,
      })));
    }
  }
  const chart = titleSvg(svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "histogram" }, parts), words ?? `histogram: ${series.map((s) => s.label).join("; ")}`);
  const legend = element("p", { class: "legend" }, series.map((s) => element("span", { class: "key" }, [
    element("span", { class: "swatch", style: `background:${s.colour}` }), ` ${s.label}`,
  ])));
  return element("div", { class: "histogram-box" }, [chart, small ? "" : legend]);
}
