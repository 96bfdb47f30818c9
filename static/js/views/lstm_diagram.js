// The LSTM view's cell diagram (the places a mask can act on, the method's marked) and the
// table of each mode's equation, drawn into the view's elements.

import { element, svg } from "../dom.js";
import { titleSvg } from "./titles.js";
import { BLUE, PLACES, VERMILION, themeColours } from "./lstm_parts.js";

// The cell: c runs along the top, the gates along the bottom; the method's masks are filled
// circles at the place they multiply, the other places dashed.
export function drawDiagram(view, theory) {
  const colours = themeColours();
  const ink = colours.ink;
  const parts = [];
  const line = (d, extra = {}) => parts.push(svg("path", { d, fill: "none", stroke: ink, "stroke-width": 2, "marker-end": "url(#lstm-arrow)", ...extra }));
  const node = (x, y, text) => {
    parts.push(svg("circle", { cx: x, cy: y, r: 13, fill: colours.panel, stroke: ink, "stroke-width": 2 }));
    parts.push(svg("text", { x, y: y + 6, "text-anchor": "middle", class: "op", text }));
  };
  const box = (x, y, label, width = 76) => {
    parts.push(svg("rect", { x: x - width / 2, y, width, height: 32, rx: 6, fill: colours.panel, stroke: ink, "stroke-width": 2 }));
    parts.push(svg("text", { x, y: y + 22, "text-anchor": "middle", class: "gate", text: label }));
  };
  parts.push(svg("defs", {}, [svg("marker", { id: "lstm-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, [
    svg("path", { d: "M0 0L10 5L0 10z", fill: ink }),
  ])]));
  // The cell state: c_t = f ⊙ c_{t-1} + i ⊙ g.
  line("M44 52H145");
  line("M173 52H280");
  line("M308 52H626");
  parts.push(svg("text", { x: 4, y: 58, class: "state", text: "cₜ₋₁" }));
  parts.push(svg("text", { x: 632, y: 58, class: "state", text: "cₜ" }));
  node(160, 52, "×");
  node(295, 52, "+");
  // The inputs: h_{t-1} and x_t join, then feed the four gates.
  parts.push(svg("text", { x: 4, y: 250, class: "state", text: "hₜ₋₁" }));
  parts.push(svg("text", { x: 12, y: 286, class: "state", text: "xₜ" }));
  line("M50 244H110V280H50", { "marker-end": "none" });
  line("M110 262H500", { "marker-end": "none" });
  for (const x of [160, 250, 340, 500]) line(`M${x} 262V210`);
  box(160, 176, "f: σ");
  box(250, 176, "i: σ");
  box(340, 176, "g: tanh", 84);
  box(500, 176, "o: σ");
  line("M160 176V67");
  line("M250 176L286 121");
  line("M340 176L304 121");
  node(295, 110, "×");
  line("M295 97V67");
  // The output: h_t = o ⊙ tanh(c_t).
  line("M500 52V82", { "marker-end": "none" });
  box(500, 84, "tanh", 64);
  line("M500 116V135");
  line("M500 176V165");
  node(500, 150, "×");
  line("M513 150H626");
  parts.push(svg("text", { x: 632, y: 156, class: "state", text: "hₜ" }));
  // The places a mask can act on: the method's filled, the others dashed.
  const active = new Map(theory.masks.map((mask) => [mask.key, mask]));
  const drawn = new Set();
  for (const [key, place] of Object.entries(PLACES)) {
    const mask = active.get(key);
    const id = `${place.x},${place.y}`;
    if (!mask && (drawn.has(id) || key.startsWith("zoneout"))) continue;
    drawn.add(id);
    const held = mask?.meaning === "held";
    const colour = held ? BLUE : VERMILION;
    parts.push(svg("circle", {
      cx: place.x, cy: place.y, r: 12,
      fill: mask ? colour : colours.panel,
      stroke: mask ? colour : colours.muted,
      "stroke-width": 2, "stroke-dasharray": mask ? "none" : "3 3",
      class: mask ? "mask-place active" : "mask-place",
      "data-acts-on": place.letter,
    }));
    parts.push(svg("text", { x: place.x, y: place.y + 5, "text-anchor": "middle", class: mask ? "mark active" : "mark", text: mask ? (held ? "d" : "m") : place.letter }));
    if (mask) {
      const per = mask.per === "sequence" ? "once per sequence" : "every step";
      const what = held ? `keeps old ${place.letter}` : `mask on ${place.letter}`;
      const [x, y, anchor, twoLines] = place.label;
      const label = (text, dy) => svg("text", { x, y: y + dy, "text-anchor": anchor, class: "mask-label", style: `fill:${colour}`, text });
      if (twoLines) parts.push(label(what, 0), label(per, 17));
      else parts.push(label(`${what}: ${per}`, 0));
    }
  }
  view.diagram.replaceChildren(...parts);
  const names = theory.masks.map((mask) => `${mask.label} (${theory.parts[mask.acts_on]})`).join("; ");
  view.diagramCaption.replaceChildren(
    element("span", { class: "title", text: "The LSTM cell" }), " ",
    element("span", { class: "detail", text: `${view.methodName()}: ${names}. Filled circles: where its masks act; dashed: the other places a mask can go (x, h, g, c).` }),
  );
  const spoken = (words) => words.replace(/_t\b/g, "");
  const where = theory.masks.map((mask) => `${mask.meaning === "held" ? "keeps the old value of" : "masks"} ${spoken(theory.parts[mask.acts_on])}, `
    + `${mask.per === "sequence" ? "a mask drawn once per sequence" : "a new mask at every step"}`).join("; and ");
  titleSvg(view.diagram, `an LSTM cell: ${view.methodName()} ${where}`);
}

export function drawEquations(view, theory) {
  const when = (per) => (per === "sequence" ? "once per sequence" : per === "step" ? "at every step" : "–");
  view.equations.replaceChildren(
    element("thead", {}, [element("tr", {}, ["mode", "masks", "drawn", "equation"].map((text) => element("th", { scope: "col", text })))]),
    element("tbody", {}, theory.modes.map((row) => element("tr", {
      class: row.mode === theory.mode ? "current" : row.mode === "naive" ? "reference" : "",
    }, [
      element("th", { scope: "row", text: row.mode === theory.mode ? `▶ ${row.name}` : row.name }),
      element("td", { text: row.acts_on.length ? row.acts_on.join(", ") : "–" }),
      element("td", { text: when(row.per) }),
      element("td", { class: "equation", text: row.equation }),
    ]))),
  );
}
