// The embed page (/embed?<the lab page's query>): the same view without the page around it,
// for slides. Only the controls the lesson names, a small player, and no frame request while
// it is out of sight (tab hidden, scrolled away, its slide left).

import { Announcer, frameSentence } from "./announcer.js";
import { renderControls } from "./controls.js";
import { FrameCache } from "./frames.js";
import { LESSON_KEYS, readLesson } from "./lesson.js";
import { Panel, snapshotOf, viewModule } from "./panel.js";
import { openPlaying } from "./motion.js";
import { Player } from "./player.js";
import { SliderPrefetch } from "./prefetch.js";
import { DEFAULTS, frameKey, methodById, paramsOf, readState, toQuery, viewById } from "./state.js";
import { renderNumbers } from "./stats.js";
import { watchVisibility } from "./visibility.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const catalog = boot.catalog;
const $ = (selector) => document.querySelector(selector);

const state = readState(catalog, window.location.search);
const method = methodById(catalog, state.method);
// The embed's controls: the method's and the view's own, but for the grouped ones (the dense
// view's training run, which an embed does not show).
const names = paramsOf(catalog, method, state.view).filter((param) => !param.group).map((param) => param.name);
const lesson = readLesson(window.location.search, names);
const cache = new FrameCache();
const probe = {
  painted: 0, lastFrame: null, errors: [], firstFrameMs: null, visible: false, shows: 0, announced: [],
  prefetch: { enabled: new URLSearchParams(window.location.search).get("prefetch") !== "0" },
};
window.dropoutLab = probe;
const announcer = new Announcer($("#announcer"), (text) => probe.announced.push(text));
if (state.view) viewModule(state.view);

// ---------------------------------------------------------------- the look of the lesson

document.documentElement.dataset.theme = lesson.contrast ? "contrast" : "";
document.documentElement.classList.toggle("large", lesson.large);
for (const part of lesson.hide) document.documentElement.classList.add(`hide-${part}`);
if (lesson.panel) {
  document.documentElement.classList.add("panel-front");
  $("#views").hidden = true;
  $("#view-extra").hidden = false;
}
$("#method-name").textContent = method.name;
$("#method-formula").innerHTML = method.formula_mathml; // MathML rendered by the server
if (lesson.caption) {
  $("#embed-caption").textContent = lesson.caption;
  $("#embed-caption").hidden = false;
}
document.title = `${method.name} · Dropout Lab`;
const pageQuery = () => toQuery({ ...state, playing: state.playing });
$("#open-lab").href = `/${pageQuery()}`;

// The views fill what the head and the bar leave of the frame.
const fit = () => {
  const chrome = $("#embed-head").offsetHeight + $("#embed-bar").offsetHeight + 16;
  document.documentElement.style.setProperty("--embed-chrome", `${chrome}px`);
};
new ResizeObserver(fit).observe($("#embed-head"));
new ResizeObserver(fit).observe($("#embed-bar"));
fit();

// ---------------------------------------------------------------- the view

const sampleTitle = (id) => boot.images.find((image) => image.id === id)?.title ?? "your image";
const panel = new Panel({
  root: $("#views"),
  extra: $("#view-extra"),
  context: {
    imageUrl: (id) => `/api/images/${encodeURIComponent(id)}`,
    imageTitle: () => sampleTitle(state.image),
    method: () => method,
    viewParamLabel: (name, value) => {
      const param = viewById(catalog, state.view)?.params.find((p) => p.name === name);
      const k = param?.choices.indexOf(value) ?? -1;
      return k >= 0 ? (param.choice_labels[k] ?? value) : value;
    },
    embedded: true,
    // The lesson's panel=1: the view's panel (its training run, its study) in front of it.
    panels: lesson.panel,
    state: () => state,
    viewSpec: () => viewById(catalog, state.view),
    setParam: (name, value) => onParam(name, value),
    // What the view's panel finished (a training run's final figures), told to the parent.
    report: (kind, data) => tellParent({ type: kind, query: toQuery(state), ...data }),
  },
  cache,
  hooks: {
    painted: (frame, header, instance) => {
      probe.painted += 1;
      probe.lastFrame = { key: frameKey(state), iteration: frame.iteration, dropped: frame.dropped_fraction, view: state.view };
      $("#iteration-value").textContent = frame.iteration;
      player.showIteration(frame.iteration);
      $("#error").hidden = true;
      if (probe.firstFrameMs === null) {
        probe.firstFrameMs = -1;
        requestAnimationFrame(() => {
          probe.firstFrameMs = performance.now();
        });
      }
      if (!lesson.hide.has("stats")) renderNumbers($("#numbers"), instance.numbers(frame, header.theory).slice(0, 2));
      announcer.frame(frameSentence(instance, frame, header.theory), state.playing);
      tellParent({ type: "frame", query: toQuery(state), theory: header.theory, frame: scalarsOf(frame) });
    },
    error: (error) => {
      $("#error").textContent = error.message;
      $("#error").hidden = false;
      probe.errors.push(error.message);
    },
    missingImage: () => {
      state.image = DEFAULTS.image;
      refresh();
      return true;
    },
  },
});

// A page that frames the embed (the lesson, a slide) hears what it shows: each frame's state,
// the theory for it and the frame's own numbers, and what a panel finished. Nothing private:
// the same numbers the embed shows.
function tellParent(message) {
  if (window.parent !== window) window.parent.postMessage({ source: "dropout-lab", ...message }, "*");
}

// A frame's numbers: its scalars and plain arrays, not its masks.
function scalarsOf(frame) {
  return Object.fromEntries(Object.entries(frame).filter(([, value]) => value === null || ["number", "string", "boolean"].includes(typeof value) || Array.isArray(value)));
}

// A still for a page that frames the embed and prints (the lesson's handout): the current
// frame painted once, in sight or not; nothing plays.
window.addEventListener("message", (event) => {
  if (event.source !== window.parent || event.data?.source !== "dropout-lab" || event.data.type !== "still") return;
  if (!state.view || probe.painted > 0) return;
  probe.shows += 1;
  panel.show(state);
});

function refresh() {
  if (!state.view || !probe.visible) return;
  probe.shows += 1;
  panel.show(state);
}

// ---------------------------------------------------------------- controls and player

function onParam(name, value) {
  if (name === "seed") state.seed = value;
  else state.params[name] = value;
  window.history.replaceState(null, "", toQuery(state) + lessonSuffix());
  $("#open-lab").href = `/${pageQuery()}`;
  refresh();
}

// The lesson's own keys stay in the address (an iframe never adds history entries).
function lessonSuffix() {
  const query = new URLSearchParams(window.location.search);
  const kept = new URLSearchParams();
  for (const key of LESSON_KEYS) if (query.has(key)) kept.set(key, query.get(key));
  return kept.size ? `&${kept}` : "";
}

const allParams = paramsOf(catalog, method, state.view);
const shown = lesson.controls.map((name) => allParams.find((param) => param.name === name)).filter(Boolean);
renderControls($("#params"), { methodParams: shown, viewParams: [], seedParam: catalog.seed }, state, onParam, () => null);
// The frames of a held slider's neighbouring values, fetched ahead while the embed is in sight.
new SliderPrefetch($("#params"), cache, {
  state: () => state,
  allowed: () => probe.visible && panel.instance !== null && panel.instance.constructor.prefetch !== false,
}, probe.prefetch).wire();
if (!lesson.controls.includes("seed")) $("#params [data-param=seed]")?.closest(".control").remove();
$("#scrub").hidden = !lesson.controls.includes("iteration");
for (const node of [$("#speed"), $(".embed-player .speed")]) node.hidden = !lesson.controls.includes("speed");

const player = new Player(document, {
  state: () => state,
  canPlay: () => state.view !== null,
  goTo: (iteration) => {
    state.iteration = iteration;
    refresh();
    if (probe.visible) cache.prefetchAhead(snapshotOf(state));
  },
  ready: (iteration) => cache.get(frameKey(state), iteration) !== null,
  fetch: (iteration) => {
    if (probe.visible) cache.prefetch(snapshotOf(state), iteration);
  },
  changed: () => window.history.replaceState(null, "", toQuery(state) + lessonSuffix()),
});
player.wire();

// ---------------------------------------------------------------- out of sight, at rest

// Out of sight (another tab, scrolled away, a slide not shown: reveal.js hides the others),
// the embed stops: no timer, no frame request. It starts so, and shows its first frame when it
// comes into sight; back in sight, it goes on as it was.
// With its panel in front, the hidden view shows its first frame only (its theory, for a page
// that frames it) and does not play.
let playingWhenHidden = lesson.panel ? false : openPlaying(state.playing);

function setVisible(visible) {
  if (visible === probe.visible) return;
  probe.visible = visible;
  if (!visible) {
    playingWhenHidden = state.playing;
    player.setPlaying(false, false);
    return;
  }
  refresh();
  if (playingWhenHidden) player.setPlaying(true, false);
}

// ---------------------------------------------------------------- start

player.setPlaying(false, false);
watchVisibility(setVisible);
probe.ready = true;
