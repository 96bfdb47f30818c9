// Dropout Lab's page: the shell that every view shares. It wires the URL state, the method
// and its controls, the frame cache, the player, the statistics and the sharing together, and
// hands the frames to the current view, one ES module in ./views/ named by the registry's
// view id. A view module's default export is a class:
//
//   new View(root, extra, context)  builds its DOM in #views (and #view-extra, below the stats)
//   static needsImage               whether it works on the picture (the image picker shows)
//   load(state) / loaded(state)     fetch what it draws once per image (picture, scene)
//   paint(frame, header)            draw one frame (header.theory: what theory predicts)
//   numbers(frame, theory)          rows for the statistics panel
//   series(series) / bars(frame, theory)   the two charts, as data (see stats.js)
//   derived(name, theory)           the value an "auto" parameter resolves to (or null)
//   destroy()
//
// Views hold no dropout math: masks and statistics arrive computed (see app/wire.py).

import { Announcer, frameSentence } from "./announcer.js";
import { fetchSeries } from "./api.js";
import { chartsDrawer } from "./charts_soon.js";
import { renderControls } from "./controls.js";
import { partnerOf } from "./compare.js";
import { EmbedDialog } from "./embed_dialog.js";
import { FrameCache } from "./frames.js";
import { ImagePicker } from "./images.js";
import { renderHead } from "./method_head.js";
import { wireMenu } from "./menu.js";
import { openPlaying } from "./motion.js";
import { errorLine, showLinkNotes } from "./page_notices.js";
import { awaitTraining, isTraining } from "./training_wait.js";
import { renderMethodSelect, renderPicker, renderViewTabs, viewBadge } from "./picker.js";
import { Panel, snapshotOf, viewModule } from "./panel.js";
import { Player } from "./player.js";
import { SliderPrefetch } from "./prefetch.js";
import { wireSharing } from "./sharing.js";
import {
  comparisonQuery, DEFAULTS, defaultParams, frameKey, ITERATIONS, linkCorrections, methodById, paramsOf, readState, toQuery, viewById, withView,
} from "./state.js";
import { Charts, renderNumbers } from "./stats.js";
import { urlWriter } from "./url_writer.js";

performance.mark("main-start");
const boot = JSON.parse(document.getElementById("boot").textContent);
const catalog = boot.catalog;
const $ = (selector) => document.querySelector(selector);

let state = readState(catalog, window.location.search);
const cache = new FrameCache();
const charts = new Charts($("#chart-series"), $("#chart-histogram"));
const drawChartsSoon = chartsDrawer(charts, () => panel.instance);

// What tests and benchmarks can read: latencies of slider input -> painted frame, in ms (and
// for each, whether the frame was in the cache at the input), the time from navigation to the
// first frame on screen, and the slider prefetch's counts and switch (`?prefetch=0` in the
// link, or `window.dropoutLab.prefetch.enabled = false`).
const probe = {
  latencies: [], cached: [], painted: 0, lastFrame: null, errors: [], firstFrameMs: null, announced: [],
  prefetch: { enabled: new URLSearchParams(window.location.search).get("prefetch") !== "0" },
};
window.dropoutLab = probe;

const currentMethod = () => methodById(catalog, state.method);
const announcer = new Announcer($("#announcer"), (text) => probe.announced.push(text));
const { showError, clearError } = errorLine(probe.errors);
const writeUrl = urlWriter(() => toQuery(state));

// ---------------------------------------------------------------- the current view

const context = {
  // A view changes a parameter it shows itself (its own grouped controls).
  setParam: (name, value, phase) => {
    onParam(name, value, phase);
    // A choice the view made for the user (show the trained network): the controls follow.
    if (phase === "change") renderControls($("#params"), controlGroups(), state, onParam, derivedValue);
  },
  state: () => state,
  viewSpec: () => viewById(catalog, state.view),
  panels: true, // the view's panels under it: its training run, its study
  imageUrl: (id) => `/api/images/${encodeURIComponent(id)}`,
  imageTitle: () => images.title,
  method: () => currentMethod(),
  // The words for a value of a view's own parameter (the pooling view's "map").
  viewParamLabel: (name, value) => {
    const param = viewById(catalog, state.view)?.params.find((p) => p.name === name);
    const k = param?.choices.indexOf(value) ?? -1;
    return k >= 0 ? (param.choice_labels[k] ?? value) : value;
  },
};
if (state.view) viewModule(state.view); // the opening view's module, while the page is built

let pendingInputAt = null; // performance.now() of the last slider input not yet painted
let pendingCached = false; // whether its frame was in the cache then

const panel = new Panel({
  root: $("#views"),
  extra: $("#view-extra"),
  context,
  cache,
  hooks: {
    painted: (frame, header, instance) => {
      paint(frame, header, instance);
      clearError();
    },
    mounted: (View) => {
      $(".source").hidden = !View.needsImage;
    },
    error: (error) => showError(error),
    // An image this server does not know (an upload made on another server) is replaced by
    // the cat, and the page says so.
    missingImage: (snapshot) => {
      showError(
        new Error(`image ${snapshot.image} is not on this server (uploads stay where they were made); showing the cat`),
        { sticky: true },
      );
      state.image = DEFAULTS.image;
      images.sync();
      writeUrl("replace");
      refresh();
      return true;
    },
  },
});

// While a slider is held, the frames of its neighbouring values are fetched ahead (prefetch.js);
// a view whose frames need a trained run says `static prefetch = false`.
const sliderPrefetch = new SliderPrefetch($("#params"), cache, {
  state: () => state,
  allowed: () => panel.instance !== null && panel.instance.constructor.prefetch !== false,
}, probe.prefetch);

function refresh() {
  if (!state.view) return Promise.resolve();
  if (probe.firstFrameMs === null) performance.mark("first-frame-asked");
  return panel.show(state);
}

let lastPainted = null; // { frame, header }: the "auto" values and the charts read it

function paint(frame, header, instance) {
  lastPainted = { frame, header };
  probe.painted += 1;
  probe.lastFrame = { key: frameKey(state), iteration: frame.iteration, dropped: frame.dropped_fraction, view: state.view };
  $("#iteration-value").textContent = frame.iteration;
  player.showIteration(frame.iteration);
  if (probe.firstFrameMs === null) firstFrameOnScreen();
  if (pendingInputAt !== null) {
    const started = pendingInputAt;
    const cached = pendingCached;
    pendingInputAt = null;
    requestAnimationFrame(() => setTimeout(() => {
      probe.latencies.push(performance.now() - started);
      probe.cached.push(cached);
      performance.measure("slider-to-paint", { start: started, end: performance.now() });
    }, 0));
  }
  // Statistics once the pictures are on screen (a task after the next frame), so that they
  // never delay them; the charts at most every 150 ms while frames pour in.
  requestAnimationFrame(() => setTimeout(() => {
    if (panel.instance !== instance) return;
    renderNumbers($("#numbers"), instance.numbers(frame, header.theory));
    announcer.frame(frameSentence(instance, frame, header.theory), state.playing);
    drawChartsSoon(instance, frame, header);
  }, 0));
}

// The first frame is on screen at the next animation frame; only then are the charts (and
// Plotly's 1.4 MB of script) loaded, and the statistics over all iterations asked for.
let firstFrameShown;
const firstFrame = new Promise((resolve) => {
  firstFrameShown = resolve;
});

function firstFrameOnScreen() {
  probe.firstFrameMs = -1;
  requestAnimationFrame(() => {
    probe.firstFrameMs = performance.now();
    performance.mark("first-frame");
    firstFrameShown();
    setTimeout(() => charts.enable(), 0);
  });
}

// ---------------------------------------------------------------- statistics over iterations

let seriesTimer = null;
let seriesKey = null;

function scheduleSeries() {
  clearTimeout(seriesTimer);
  seriesTimer = setTimeout(async () => {
    await firstFrame; // never compete with the first frame for the server
    if (!state.view) return;
    const snapshot = snapshotOf(state);
    const key = frameKey(snapshot);
    if (key === seriesKey) return;
    try {
      const series = await fetchSeries(snapshot, ITERATIONS);
      const instance = panel.instance;
      if (frameKey(state) !== key || !instance || panel.view.id !== snapshot.view) return;
      seriesKey = key;
      charts.drawSeries(instance.series(series), state.iteration);
    } catch (error) {
      if (!isTraining(error)) {
        showError(error);
        return;
      }
      // The setting trains on the server (the panel shows it): ask again once it is trained.
      awaitTraining(error.training.stream).then(scheduleSeries, () => {});
    }
  }, 150);
}

// ---------------------------------------------------------------- URL

window.addEventListener("popstate", () => {
  state = readState(catalog, window.location.search);
  showLinkCorrections(window.location.search);
  renderMethod();
  images.sync();
  player.setPlaying(state.playing, false);
  refresh();
  scheduleSeries();
});

// ---------------------------------------------------------------- method, view, controls

let dragging = false; // a slider drag is under way: its first input pushed a history entry

function onParam(name, value, phase) {
  if (phase === "change") clearError({ force: true });
  if (name === "seed") state.seed = value;
  else state.params[name] = value;
  if (phase === "input") {
    pendingInputAt = performance.now();
    pendingCached = cache.get(frameKey(state), state.iteration) !== null;
  }
  // Back returns to the value before a drag: the drag's first input pushes one entry, the
  // following inputs and the final change update it.
  if (phase === "input" && !dragging) {
    dragging = true;
    writeUrl("push");
  } else if (phase === "change" && dragging) {
    dragging = false;
    writeUrl("replace-now");
  } else {
    writeUrl(phase === "change" ? "push" : "replace");
  }
  refresh();
  scheduleSeries();
}

function derivedValue(name) {
  return panel.instance && lastPainted ? panel.instance.derived?.(name, lastPainted.header.theory) ?? null : null;
}

// The controls beside the player: the method's, the view's own (but for the grouped ones,
// which the view shows itself: the dense view's "training"), and the seed.
function controlGroups() {
  return {
    methodParams: currentMethod().params,
    viewParams: (viewById(catalog, state.view)?.params ?? []).filter((param) => !param.group),
    seedParam: catalog.seed,
  };
}

function renderMethod() {
  const method = currentMethod();
  renderHead(method);
  renderControls($("#params"), controlGroups(), state, onParam, derivedValue);
  renderViewTabs($("#view-tabs"), method, catalog, state.view, pickView);
  $("#compare").hidden = state.view === null;
  const hasView = state.view !== null;
  for (const selector of ["#views", ".player", ".stats"]) $(selector).hidden = !hasView;
  const notice = $("#no-view");
  notice.hidden = hasView;
  if (!hasView) {
    panel.destroy();
    $(".source").hidden = true;
    notice.textContent = `${method.name} is shown on the ${viewBadge(method, catalog)}. `
      + "Its formula, paper and parameters are here, and “Copy as code” works; the animated view comes with a later release.";
    player.setPlaying(false, false);
  }
}

function pickMethod(id) {
  if (id === state.method) return;
  clearError({ force: true });
  const method = methodById(catalog, id);
  // Stay in the current view if the new method has it (exploring feature maps, say).
  const viewId = method.built_views.includes(state.view) ? state.view : (method.built_views[0] ?? null);
  state = { ...state, method: id, view: viewId, params: defaultParams(catalog, method, viewId) };
  seriesKey = null;
  renderMethod();
  writeUrl("push");
  refresh();
  scheduleSeries();
}

// Another view of the same method: its parameters, the seed and the iteration stay.
function pickView(id) {
  if (id === state.view) return;
  clearError({ force: true });
  state = withView(catalog, state, id);
  seriesKey = null;
  renderMethod();
  writeUrl("push");
  refresh();
  scheduleSeries();
}

// ---------------------------------------------------------------- images, player, sharing

const images = new ImagePicker(boot.images, {
  state: () => state,
  use: async (id) => {
    clearError({ force: true });
    state.image = id;
    writeUrl("push");
    await refresh();
    scheduleSeries();
  },
  error: (error) => showError(error),
});

const player = new Player(document, {
  state: () => state,
  canPlay: () => state.view !== null,
  goTo: (iteration) => {
    state.iteration = iteration;
    writeUrl("replace");
    refresh();
    cache.prefetchAhead(snapshotOf(state));
    sliderPrefetch.plan();
  },
  ready: (iteration) => cache.get(frameKey(state), iteration) !== null,
  fetch: (iteration) => cache.prefetch(snapshotOf(state), iteration),
  changed: () => writeUrl("replace"),
});

wireSharing({
  link: () => {
    window.history.replaceState(null, "", toQuery(state));
    return window.location.href;
  },
  code: () => ({ state, names: currentMethod().params.map((param) => param.name) }),
  themeChanged: () => {
    seriesKey = null;
    scheduleSeries();
    charts.redraw();
    if (lastPainted && panel.instance) panel.instance.paint(lastPainted.frame, lastPainted.header);
  },
  error: (error) => showError(error),
});

const embedDialog = new EmbedDialog({
  state: () => state,
  query: (shown) => toQuery(shown),
  params: () => paramsOf(catalog, currentMethod(), state.view).filter((param) => !param.group),
  title: () => currentMethod().name,
  exportQuery: () => toQuery(state).slice(1),
});
$("#open-embed").addEventListener("click", () => embedDialog.open("embed"));

// Side by side: this method as panel A and a structured one as panel B, on this view.
$("#compare").addEventListener("click", () => {
  const partner = partnerOf(catalog, state.method, state.view);
  const comparison = {
    view: state.view, image: state.image, seed: state.seed, iteration: state.iteration, playing: state.playing,
    speed: state.speed, match: null,
    panels: [{ method: state.method, params: { ...state.params } }, { method: partner, params: defaultParams(catalog, methodById(catalog, partner), state.view) }],
  };
  window.location.assign(`/${comparisonQuery(comparison)}`);
});
$("#open-export").addEventListener("click", () => embedDialog.open("export"));

// A link that asked for something out of range is shown corrected, and the page says so.
function showLinkCorrections(search) {
  showLinkNotes(linkCorrections(catalog, search, state));
}

// ---------------------------------------------------------------- start

performance.mark("shell-ready");
wireMenu($("#menu-toggle"), $("#top-actions"));
renderPicker($("#picker"), catalog, pickMethod);
renderMethodSelect($("#method-select"), catalog, pickMethod);
images.wire();
renderMethod();
player.wire();
sliderPrefetch.wire();
player.setPlaying(openPlaying(state.playing), false);
showLinkCorrections(window.location.search);
window.history.replaceState(null, "", toQuery(state));
performance.mark("page-built");
refresh().then(() => {
  probe.ready = true;
  if (state.view) cache.prefetchAhead(snapshotOf(state));
});
scheduleSeries();
