// The embed page of a comparison (/embed?a.method=…&b.method=…): the panels side by side,
// one player, no frame request while out of sight. The lesson mode applies as on a single
// embed (controls: seed, iteration, speed; hide: title, player, stats, link; caption, theme).

import { Announcer, frameSentence } from "./announcer.js";
import { Comparison } from "./compare.js";
import { FrameCache } from "./frames.js";
import { readLesson } from "./lesson.js";
import { openPlaying } from "./motion.js";
import { Player } from "./player.js";
import { comparisonQuery, methodById, readComparison } from "./state.js";
import { watchVisibility } from "./visibility.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const catalog = boot.catalog;
const $ = (selector) => document.querySelector(selector);

const comparison = readComparison(catalog, window.location.search);
const lesson = readLesson(window.location.search, []);
const probe = { painted: 0, lastFrames: {}, errors: [], firstFrameMs: null, visible: false, announced: [] };
window.dropoutLab = probe;
const announcer = new Announcer($("#announcer"), (text) => probe.announced.push(text));
const sentences = new Map();

document.documentElement.dataset.theme = lesson.contrast ? "contrast" : "";
document.documentElement.classList.toggle("large", lesson.large);
for (const part of lesson.hide) document.documentElement.classList.add(`hide-${part}`);
document.documentElement.classList.add("hide-formula");
const names = comparison.panels.map((panel) => methodById(catalog, panel.method).name);
const PANELS_NAMES = names.map((name, k) => `${String.fromCharCode(65 + k)}, ${name}`);
$("#method-name").textContent = `Side by side: ${names.join(" · ")}`;
if (lesson.caption) {
  $("#embed-caption").textContent = lesson.caption;
  $("#embed-caption").hidden = false;
}
$("#open-lab").href = `/${comparisonQuery(comparison)}`;
const fit = () => {
  const chrome = $("#embed-head").offsetHeight + $("#embed-bar").offsetHeight + 16;
  document.documentElement.style.setProperty("--embed-chrome", `${chrome}px`);
};
new ResizeObserver(fit).observe($("#embed-head"));
new ResizeObserver(fit).observe($("#embed-bar"));
$("#params").hidden = true;
$("#numbers").hidden = true;
$("#scrub").hidden = !lesson.controls.includes("iteration");
for (const node of [$("#speed"), $(".embed-player .speed")]) node.hidden = !lesson.controls.includes("speed");

const sampleTitle = (id) => boot.images.find((image) => image.id === id)?.title ?? "your image";
const board = new Comparison({
  root: $("#views"),
  catalog,
  cache: new FrameCache(),
  comparison,
  editable: false,
  hooks: {
    changed: () => {},
    painted: (k, frame, header, instance) => {
      probe.painted += 1;
      sentences.set(k, `${PANELS_NAMES[k]}: ${frameSentence(instance, frame, header.theory)}`);
      announcer.frame([...sentences.keys()].sort().map((panel) => sentences.get(panel)).join(" "), comparison.playing);
      probe.lastFrames[k] = { iteration: frame.iteration, dropped: frame.dropped_fraction };
      $("#iteration-value").textContent = frame.iteration;
      player.showIteration(frame.iteration);
      if (probe.firstFrameMs === null) requestAnimationFrame(() => {
        probe.firstFrameMs = performance.now();
      });
    },
    error: (error) => {
      $("#error").textContent = error.message;
      $("#error").hidden = false;
      probe.errors.push(error.message);
    },
    imageTitle: () => sampleTitle(comparison.image),
  },
});

const player = new Player(document, {
  state: () => comparison,
  canPlay: () => true,
  goTo: (iteration) => {
    comparison.iteration = iteration;
    if (!probe.visible) return;
    board.show();
    board.prefetch((iteration + 1) % 100);
  },
  ready: (iteration) => board.ready(iteration),
  fetch: (iteration) => {
    if (probe.visible) board.prefetch(iteration);
  },
  changed: () => {},
});
player.wire();

// Out of sight from the start until it is shown (visibility.js), and whenever it leaves.
let playingWhenHidden = openPlaying(comparison.playing);
let matched = false;
watchVisibility((visible) => {
  probe.visible = visible;
  if (!visible) {
    playingWhenHidden = comparison.playing;
    player.setPlaying(false, false);
    return;
  }
  if (comparison.match !== null && !matched) {
    matched = true;
    board.match();
  } else {
    board.show();
  }
  if (playingWhenHidden) player.setPlaying(true, false);
});

player.setPlaying(false, false);
probe.ready = true;
