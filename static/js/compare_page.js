// The lab page in side-by-side mode (the server loads this module instead of main.js when the
// URL names panels: ?a.method=…&b.method=…). The player, the picture, the seed and the
// iteration are shared; each panel has its method and parameters (compare.js).

import { Announcer, frameSentence } from "./announcer.js";
import { Comparison, MAX_PANELS, methodsWithView } from "./compare.js";
import { element } from "./dom.js";
import { EmbedDialog } from "./embed_dialog.js";
import { FrameCache } from "./frames.js";
import { ImagePicker } from "./images.js";
import { wireMenu } from "./menu.js";
import { openPlaying } from "./motion.js";
import { renderMethodSelect, renderPicker, shortCitation } from "./picker.js";
import { Player } from "./player.js";
import { wireSharing } from "./sharing.js";
import { comparisonQuery, frameKey, methodById, panelState, PANELS, readComparison, toQuery } from "./state.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const catalog = boot.catalog;
const $ = (selector) => document.querySelector(selector);

let comparison = readComparison(catalog, window.location.search);
const cache = new FrameCache();
const probe = { painted: 0, lastFrames: {}, errors: [], ready: false, firstFrameMs: null, announced: [] };
window.dropoutLab = probe;
// Each panel's sentence of its latest frame; the region says them together.
const announcer = new Announcer($("#announcer"), (text) => probe.announced.push(text));
const sentences = new Map();

// ---------------------------------------------------------------- URL

let urlTimer = null;
function writeUrl(mode) {
  if (mode === "push") {
    clearTimeout(urlTimer);
    urlTimer = null;
    window.history.pushState(null, "", comparisonQuery(comparison));
    return;
  }
  if (urlTimer !== null) return; // at most 4 writes a second, as the single page
  urlTimer = setTimeout(() => {
    urlTimer = null;
    window.history.replaceState(null, "", comparisonQuery(comparison));
  }, 250);
}

// A single method's page (leaving the comparison): a plain navigation, back returns here.
function single(method, params = {}) {
  const state = { method, view: comparison.view, image: comparison.image, seed: comparison.seed, iteration: comparison.iteration, playing: comparison.playing, speed: comparison.speed, params };
  window.location.assign(`/${toQuery(state)}`);
}

// ---------------------------------------------------------------- the head

function renderHead() {
  const methods = comparison.panels.map((panel) => methodById(catalog, panel.method));
  $("#method-name").textContent = "Side by side";
  $("#method-summary").textContent = `${methods.map((m) => m.name).join(" · ")}: the same picture, seed and iteration, each with its own parameters.`;
  $("#method-papers").replaceChildren(...methods.flatMap((method, k) => {
    const paper = method.papers[0];
    const link = Object.assign(document.createElement("a"), { href: paper.url, target: "_blank", rel: "noopener", textContent: `${PANELS[k].toUpperCase()}: ${shortCitation(paper)}` });
    return k === 0 ? [link] : [" · ", link];
  }));
  $(".formula-box").hidden = true;
  $(".stats").hidden = true;
  $("#notes").replaceChildren();
  document.title = `Side by side: ${methods.map((m) => m.name).join(", ")} · Dropout Lab`;
  // The views every panel's method has.
  const shared = methods[0].built_views.filter((view) => methods.every((m) => m.built_views.includes(view)));
  const tabs = $("#view-tabs");
  tabs.replaceChildren(...shared.map((view) => {
    const tab = element("button", { type: "button", role: "tab", "data-view": view, "aria-selected": String(view === comparison.view), text: catalog.views[view] });
    tab.addEventListener("click", () => {
      if (view === comparison.view) return;
      comparison = readComparison(catalog, comparisonQuery({ ...comparison, view }));
      writeUrl("push");
      rebuild();
    });
    return tab;
  }));
  tabs.hidden = shared.length < 2;
}

// The shared controls: the seed, "same dropped fraction", adding a method, leaving.
function renderShared() {
  const seed = element("input", { type: "number", min: 0, max: catalog.seed.max, value: comparison.seed, "data-param": "seed", id: "compare-seed" });
  seed.addEventListener("change", () => {
    comparison.seed = Math.min(catalog.seed.max, Math.max(0, Math.round(Number(seed.value) || 0)));
    writeUrl("push");
    board.show();
  });
  const matchOn = element("input", { type: "checkbox", id: "same-fraction", checked: comparison.match !== null });
  const target = element("input", { type: "range", min: 0.05, max: 0.6, step: 0.01, value: comparison.match ?? 0.25, id: "same-fraction-value", "aria-label": "the fraction every method drops" });
  const shown = element("output", { for: "same-fraction-value", class: "value", text: `${Math.round(100 * Number(target.value))} %` });
  target.disabled = !matchOn.checked;
  const rematch = () => {
    comparison.match = matchOn.checked ? Number(target.value) : null;
    target.disabled = !matchOn.checked;
    shown.textContent = `${Math.round(100 * Number(target.value))} %`;
    writeUrl("push");
    board.match().catch((error) => showError(error));
  };
  matchOn.addEventListener("change", rematch);
  target.addEventListener("change", rematch);
  target.addEventListener("input", () => {
    shown.textContent = `${Math.round(100 * Number(target.value))} %`;
  });
  const add = element("button", { type: "button", class: "button", text: "Add a method", disabled: comparison.panels.length >= MAX_PANELS || methodsWithView(catalog, comparison.view).length < 2 });
  add.addEventListener("click", () => {
    board.add();
    renderHead();
    renderShared();
  });
  const back = element("button", { type: "button", class: "button", text: "One method" });
  back.addEventListener("click", () => single(comparison.panels[0].method, comparison.panels[0].params));
  $("#params").onsubmit = (event) => event.preventDefault();
  $("#params").replaceChildren(
    element("div", { class: "control" }, [
      element("label", { class: "check" }, [matchOn, " same dropped fraction ", shown]),
      target,
      element("p", { class: "help", text: "Sets each method's main parameter so that all drop this fraction on average (each view's theory on this picture)." }),
    ]),
    element("div", { class: "control" }, [element("label", { for: "compare-seed", text: "seed (shared)" }), seed]),
    element("div", { class: "row" }, [add, back]),
  );
}

// ---------------------------------------------------------------- the panels

function showError(error) {
  $("#error").textContent = error.message;
  $("#error").hidden = false;
  probe.errors.push(error.message);
}

let board = null;
function rebuild() {
  board?.destroy();
  board = new Comparison({
    root: $("#views"),
    catalog,
    cache,
    comparison,
    hooks: {
      changed: (mode) => {
        writeUrl(mode);
        renderHead();
      },
      painted: (k, frame, header, instance) => {
        probe.painted += 1;
        const name = methodById(catalog, comparison.panels[k].method).name;
        sentences.set(k, `${PANELS[k].toUpperCase()}, ${name}: ${frameSentence(instance, frame, header.theory)}`);
        const spoken = [...sentences.entries()].filter(([panel]) => panel < comparison.panels.length);
        announcer.frame(spoken.sort(([a], [b]) => a - b).map(([, text]) => text).join(" "), comparison.playing);
        probe.lastFrames[PANELS[k]] = { iteration: frame.iteration, dropped: frame.dropped_fraction, key: frameKey(panelState(comparison, k)) };
        $("#iteration-value").textContent = frame.iteration;
        player.showIteration(frame.iteration);
        if (probe.firstFrameMs === null) requestAnimationFrame(() => {
          probe.firstFrameMs = performance.now();
        });
      },
      error: showError,
      imageTitle: () => images.title,
    },
  });
  renderHead();
  renderShared();
  if (comparison.match !== null) board.match().catch(showError);
  else board.show();
}

// ---------------------------------------------------------------- shared parts of the page

const images = new ImagePicker(boot.images, {
  state: () => comparison,
  use: async (id) => {
    comparison.image = id;
    writeUrl("push");
    if (comparison.match !== null) await board.match();
    else board.show();
  },
  error: showError,
});

const player = new Player(document, {
  state: () => comparison,
  canPlay: () => true,
  goTo: (iteration) => {
    comparison.iteration = iteration;
    writeUrl("replace");
    board.show();
    board.prefetch((iteration + 1) % 100);
  },
  ready: (iteration) => board.ready(iteration),
  fetch: (iteration) => board.prefetch(iteration),
  changed: () => writeUrl("replace"),
});

wireSharing({
  link: () => {
    window.history.replaceState(null, "", comparisonQuery(comparison));
    return window.location.href;
  },
  code: () => comparison.panels.map((panel, k) => ({
    state: panelState(comparison, k),
    names: methodById(catalog, panel.method).params.map((param) => param.name),
    heading: `${PANELS[k].toUpperCase()}: ${methodById(catalog, panel.method).name}`,
  })),
  themeChanged: () => board.show(),
  error: showError,
});

const embedDialog = new EmbedDialog({
  state: () => comparison,
  query: (shown) => comparisonQuery({ ...comparison, playing: shown.playing }),
  params: () => [],
  title: () => "Side by side",
  exportQuery: () => comparisonQuery(comparison).slice(1),
});
$("#open-embed").addEventListener("click", () => embedDialog.open("embed"));
$("#compare").hidden = true; // already side by side: "Add a method" is in the panel
$("#open-export").addEventListener("click", () => embedDialog.open("export"));

window.addEventListener("popstate", () => {
  comparison = readComparison(catalog, window.location.search);
  images.sync();
  rebuild();
});

// Picking a method in the list leaves the comparison for that method's page.
wireMenu($("#menu-toggle"), $("#top-actions"));
renderPicker($("#picker"), catalog, (id) => single(id));
renderMethodSelect($("#method-select"), catalog, (id) => single(id));
$("#method-select").value = "";
images.wire();
player.wire();
player.setPlaying(openPlaying(comparison.playing), false);
window.history.replaceState(null, "", comparisonQuery(comparison));
rebuild();
probe.ready = true;
