// Side by side: two to four methods (or one method at several settings) on the same view,
// picture and seed, in lockstep on the same iteration, each with its own parameters; with
// "same dropped fraction", each method's main parameter is set (by the server, from each
// view's theory: GET /api/match) so that all drop the same expected fraction.

import { fetchJson } from "./api.js";
import { renderControls } from "./controls.js";
import { element, quietForm } from "./dom.js";
import { Panel } from "./panel.js";
import { defaultParams, frameKey, methodById, PANELS, panelState, paramsOf, viewById } from "./state.js";
import { fmt, renderNumbers } from "./stats.js";

export const MAX_PANELS = 4;

// The methods that can join a comparison on `view`.
export function methodsWithView(catalog, view) {
  return catalog.methods.filter((method) => method.built_views.includes(view));
}

// A second method for a comparison that starts from `method` on `view`: one of the
// structured ones, which is the lesson (pixels against blocks or holes).
export function partnerOf(catalog, method, view) {
  const choices = methodsWithView(catalog, view).map((m) => m.id).filter((id) => id !== method);
  return ["dropblock", "cutout", "standard", "spatial"].find((id) => choices.includes(id)) ?? choices[0] ?? method;
}

export class Comparison {
  // root: where the panels go (#views); comparison: the state (state.js readComparison);
  // hooks: changed(mode) the state changed ("push" or "replace"); painted(k, frame) a panel
  // painted; error(e); imageTitle(); editable: method selects, sliders and remove buttons.
  constructor({ root, catalog, cache, comparison, hooks, editable = true }) {
    Object.assign(this, { root, catalog, cache, comparison, hooks, editable });
    this.grid = element("div", { class: "compare-grid" });
    root.prepend(this.grid);
    root.classList.add("compare-view");
    this.slots = [];
    this.build();
  }

  destroy() {
    for (const slot of this.slots) slot.panel.destroy();
    this.grid.remove();
    this.root.classList.remove("compare-view");
  }

  // (Re)build a slot per panel: its header, controls, view and numbers.
  build() {
    for (const slot of this.slots) slot.panel.destroy();
    this.grid.replaceChildren();
    this.grid.dataset.panels = String(this.comparison.panels.length);
    this.slots = this.comparison.panels.map((panel, k) => this.#slot(k));
  }

  #slot(k) {
    const letter = PANELS[k];
    const header = element("header", { class: "compare-head" });
    const viewRoot = element("div", { class: "compare-body views" });
    const numbers = element("dl", { class: "numbers compare-numbers", "aria-label": `statistics of panel ${letter}` });
    const params = quietForm({ class: "params compare-params", "aria-label": `parameters of panel ${letter}` });
    const section = element("section", { class: "compare-panel", "data-panel": letter, "aria-label": `panel ${letter}` }, [header, viewRoot, numbers, params]);
    this.grid.append(section);
    const slot = { k, section, header, params, numbers };
    slot.panel = new Panel({
      root: viewRoot,
      extra: element("div"),
      context: {
        imageUrl: (id) => `/api/images/${encodeURIComponent(id)}`,
        imageTitle: () => this.hooks.imageTitle(),
        method: () => methodById(this.catalog, this.comparison.panels[slot.k].method),
        viewParamLabel: (name, value) => {
          const param = viewById(this.catalog, this.comparison.view)?.params.find((p) => p.name === name);
          const at = param?.choices.indexOf(value) ?? -1;
          return at >= 0 ? (param.choice_labels[at] ?? value) : value;
        },
        compact: true,
      },
      cache: this.cache,
      hooks: {
        painted: (frame, header, instance) => {
          renderNumbers(numbers, instance.numbers(frame, header.theory).slice(0, 2));
          this.hooks.painted(slot.k, frame, header, instance);
        },
        error: (error) => this.hooks.error(error),
        missingImage: () => false,
      },
    });
    this.#renderSlot(slot);
    return slot;
  }

  #renderSlot(slot) {
    const panel = this.comparison.panels[slot.k];
    const method = methodById(this.catalog, panel.method);
    const title = element("span", { class: "compare-letter", text: PANELS[slot.k].toUpperCase() });
    if (!this.editable) {
      slot.header.replaceChildren(title, element("span", { class: "compare-name", text: `${method.name}: ${this.#setting(panel)}` }));
      return;
    }
    const select = element("select", { "aria-label": `method of panel ${PANELS[slot.k]}` }, methodsWithView(this.catalog, this.comparison.view)
      .map((m) => element("option", { value: m.id, text: m.name, selected: m.id === panel.method })));
    select.addEventListener("change", () => this.setMethod(slot.k, select.value));
    const remove = element("button", {
      type: "button", class: "button small", text: "✕", title: "remove this panel", "aria-label": `remove panel ${PANELS[slot.k]}`,
      disabled: this.comparison.panels.length <= 2,
    });
    remove.addEventListener("click", () => this.remove(slot.k));
    slot.header.replaceChildren(title, select, remove);
    const all = paramsOf(this.catalog, method, this.comparison.view);
    renderControls(slot.params, { methodParams: all, viewParams: [], seedParam: this.catalog.seed }, panel, (name, value, phase) => {
      panel.params[name] = value;
      // Moving the matched parameter by hand leaves "same dropped fraction".
      if (this.comparison.match !== null && name === this.matched?.[slot.k]) this.comparison.match = null;
      this.hooks.changed(phase === "change" ? "push" : "replace");
      if (phase === "change" && this.comparison.match !== null) this.match();
      else this.show();
    }, () => null);
    slot.params.querySelector("[data-param=seed]")?.closest(".control").remove(); // shared
  }

  #setting(panel) {
    return Object.entries(panel.params).map(([name, value]) => `${name} = ${typeof value === "number" ? Number(value.toFixed(3)) : value}`).join(", ");
  }

  // Every panel shows the comparison's current iteration.
  show() {
    this.comparison.panels.forEach((_, k) => this.slots[k]?.panel.show(panelState(this.comparison, k)));
  }

  ready(iteration) {
    return this.comparison.panels.every((_, k) => this.cache.get(frameKey(panelState(this.comparison, k)), iteration) !== null);
  }

  prefetch(iteration) {
    this.comparison.panels.forEach((_, k) => this.cache.prefetch(panelState(this.comparison, k), iteration));
  }

  setMethod(k, methodId) {
    const method = methodById(this.catalog, methodId);
    this.comparison.panels[k] = { method: methodId, params: defaultParams(this.catalog, method, this.comparison.view) };
    this.#renderSlot(this.slots[k]);
    this.hooks.changed("push");
    if (this.comparison.match !== null) this.match();
    else this.show();
  }

  add() {
    const panels = this.comparison.panels;
    if (panels.length >= MAX_PANELS) return;
    const used = panels.map((panel) => panel.method);
    const free = methodsWithView(this.catalog, this.comparison.view).map((m) => m.id).filter((id) => !used.includes(id));
    // The structured methods first: they are what a comparison with pixel dropout is about.
    const preferred = ["cutout", "dropblock", "spatial", "standard", "stochastic"].find((id) => free.includes(id));
    const next = methodById(this.catalog, preferred ?? free[0] ?? used[0]);
    panels.push({ method: next.id, params: defaultParams(this.catalog, next, this.comparison.view) });
    this.build();
    this.hooks.changed("push");
    if (this.comparison.match !== null) this.match();
    else this.show();
  }

  remove(k) {
    if (this.comparison.panels.length <= 2) return;
    this.comparison.panels.splice(k, 1);
    this.build();
    this.hooks.changed("push");
    this.show();
  }

  // Same dropped fraction: ask the server for each panel's setting at comparison.match.
  async match() {
    const fraction = this.comparison.match;
    if (fraction === null) return this.show();
    const asked = JSON.stringify(this.comparison.panels);
    const answers = await Promise.all(this.comparison.panels.map((panel) => {
      const params = Object.fromEntries(Object.entries(panel.params).map(([name, value]) => [name, value === null ? "" : String(value)]));
      const { view, image, seed } = this.comparison;
      return fetchJson("/api/match", { ...params, view, method: panel.method, image, seed: String(seed), fraction: String(fraction) });
    }));
    if (JSON.stringify(this.comparison.panels) !== asked || this.comparison.match !== fraction) return undefined; // changed meanwhile
    this.matched = answers.map((answer) => answer.parameter);
    answers.forEach((answer, k) => {
      this.comparison.panels[k].params = answer.params;
      this.#renderSlot(this.slots[k]);
      const note = answer.reached ? "" : `cannot drop ${fmt(fraction, 2)}: at most ${fmt(answer.expected)}`;
      this.slots[k].section.dataset.unreached = note ? "true" : "false";
      this.slots[k].header.title = note;
      if (note) this.slots[k].header.append(element("span", { class: "compare-unreached", text: note }));
    });
    this.hooks.changed("replace");
    this.show();
    return answers;
  }
}
