// Dropout Lab's page: wires the URL state, the controls, the frame cache, the player, the
// views and the charts together. See state.js for the state, api.js for the wire format.

import { fetchCode, fetchFrames, fetchSeries, uploadImage } from "./api.js";
import { renderControls } from "./controls.js";
import { ImageView } from "./image_view.js";
import { markPicked, renderMethodSelect, renderPicker, shortCitation, viewBadge } from "./picker.js";
import { defaultParams, frameKey, ITERATIONS, linkCorrections, methodById, readState, toQuery } from "./state.js";
import { Charts, renderNumbers } from "./stats.js";

const boot = JSON.parse(document.getElementById("boot").textContent);
const catalog = boot.catalog;
const $ = (selector) => document.querySelector(selector);

let state = readState(catalog, window.location.search);
const view = new ImageView(document);
const charts = new Charts($("#chart-series"), $("#chart-histogram"));

// What tests and benchmarks can read: latencies of slider input -> painted frame, in ms.
const probe = { latencies: [], painted: 0, lastFrame: null, errors: [] };
window.dropoutLab = probe;

// ---------------------------------------------------------------- frame cache

const CHUNK = 16;
const cache = new Map(); // key -> { theory, header, frames: Map(iteration -> frame) }
const chunkRequests = new Map(); // `${key}|${start}` -> promise

function entryFor(key) {
  let entry = cache.get(key);
  if (!entry) {
    entry = { header: null, frames: new Map() };
    cache.set(key, entry);
    while (cache.size > 24) cache.delete(cache.keys().next().value);
  }
  return entry;
}

function store(key, header, frames) {
  const entry = entryFor(key);
  entry.header = header;
  for (const frame of frames) entry.frames.set(frame.iteration, frame);
}

function cached(key, iteration) {
  const entry = cache.get(key);
  const frame = entry?.frames.get(iteration);
  return frame ? { frame, header: entry.header } : null;
}

function prefetch(snapshot, from) {
  const key = frameKey(snapshot);
  const start = Math.min(from, ITERATIONS - 1);
  const count = Math.min(CHUNK, ITERATIONS - start);
  const id = `${key}|${start}`;
  if (chunkRequests.has(id) || count <= 0) return;
  const request = fetchFrames(snapshot, start, count)
    .then(({ header, frames }) => store(key, header, frames))
    .catch(() => {})
    .finally(() => chunkRequests.delete(id));
  chunkRequests.set(id, request);
}

function prefetchAhead() {
  if (!currentMethod().image_view) return;
  const key = frameKey(state);
  for (let ahead = 1; ahead <= CHUNK / 2; ahead += 1) {
    const iteration = (state.iteration + ahead) % ITERATIONS;
    if (!cached(key, iteration)) {
      prefetch({ ...state, params: { ...state.params } }, iteration);
      return;
    }
  }
}

// ---------------------------------------------------------------- showing a frame

let pendingInputAt = null; // performance.now() of the last slider input not yet painted
let busy = false;
let again = false;

function imageUrl(id) {
  return `/api/images/${encodeURIComponent(id)}`;
}

function currentMethod() {
  return methodById(catalog, state.method);
}

async function refresh() {
  if (!currentMethod().image_view) return;
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  try {
    do {
      again = false;
      const snapshot = { ...state, params: { ...state.params } };
      const key = frameKey(snapshot);
      await loadImage(snapshot.image);
      if (state.image !== snapshot.image) {
        again = true; // the image was replaced (an unknown upload falls back to the cat)
        continue;
      }
      let hit = cached(key, snapshot.iteration);
      if (!hit) {
        const { header, frames } = await fetchFrames(snapshot, snapshot.iteration, 1);
        store(key, header, frames);
        hit = cached(key, snapshot.iteration);
      }
      if (frameKey(state) === key && state.iteration === snapshot.iteration && view.url === imageUrl(state.image)) {
        paint(hit.frame, hit.header);
        clearError();
      } else {
        again = true;
      }
    } while (again);
  } catch (error) {
    showError(error);
  } finally {
    busy = false;
  }
}

async function loadImage(id) {
  try {
    await view.setImage(imageUrl(id));
  } catch {
    if (id === "cat") throw new Error("the sample image could not be loaded");
    showError(
      new Error(`image ${id} is not on this server (uploads stay where they were made); showing the cat`),
      { sticky: true },
    );
    state.image = "cat";
    syncImageSelect();
    writeUrl("replace");
    await view.setImage(imageUrl("cat"));
  }
}

function unitWord(theory) {
  return theory.unit === "channel" ? "channel" : "pixel";
}

let lastPainted = null; // { frame, theory }: redrawn when the theme changes

function paint(frame, header) {
  const { theory } = header;
  lastPainted = { frame, theory };
  view.render(frame, theory);
  probe.painted += 1;
  probe.lastFrame = { key: frameKey(state), iteration: frame.iteration, dropped: frame.dropped_fraction };
  for (const node of document.querySelectorAll(".iteration-number")) node.textContent = frame.iteration;
  $("#iteration-value").textContent = frame.iteration;
  $("#scrub").value = frame.iteration;
  captionFor(frame, theory);
  $("#input-detail").textContent = $("#image-select").selectedOptions[0]?.textContent ?? "";
  if (pendingInputAt !== null) {
    const started = pendingInputAt;
    pendingInputAt = null;
    requestAnimationFrame(() => setTimeout(() => {
      probe.latencies.push(performance.now() - started);
      performance.measure("slider-to-paint", { start: started, end: performance.now() });
    }, 0));
  }
  // Statistics once the pictures are on screen (a task after the next frame), so that they
  // never delay them; the charts at most every 150 ms while frames pour in.
  requestAnimationFrame(() => setTimeout(() => {
    renderNumbers($("#numbers"), frame, theory, unitWord(theory));
    drawChartsSoon(frame, theory);
  }, 0));
}

let chartsDrawnAt = -Infinity;
let chartsTimer = null;

function drawChartsSoon(frame, theory) {
  clearTimeout(chartsTimer);
  const wait = chartsDrawnAt + 150 - performance.now();
  const draw = () => {
    chartsDrawnAt = performance.now();
    charts.drawHistogram(frame, theory);
    charts.markIteration(frame.iteration);
  };
  if (wait <= 0) draw();
  else chartsTimer = setTimeout(draw, wait);
}

function captionFor(frame, theory) {
  const value = frame.mask.value;
  const factor = frame.mask.channels ? Math.max(...frame.mask.channels) : value;
  let train = "input × mask";
  if (theory.mask_kind === "real") train = "input × noise (clipped at white)";
  else if (factor === 0) train = "everything dropped";
  else if (factor !== undefined && factor > 1) train = `kept × ${factor.toFixed(2)} (clipped at white)`;
  let legend = "white kept, black dropped";
  if (theory.mask_kind === "real") legend = "blue < 1 < orange";
  else if (theory.unit === "channel") legend = "a factor per colour channel";
  const details = {
    "#train-detail": train,
    "#test-detail": theory.test_factor === 1 ? "unchanged, no mask" : `× ${theory.test_factor.toFixed(2)} (1 − p), no mask`,
    "#mask-detail": legend,
  };
  const share = `${(100 * frame.dropped_fraction).toFixed(1)} % of ${unitWord(theory)}s dropped`;
  $("#canvas-mask").setAttribute("aria-label", `the mask of iteration ${frame.iteration}: ${share}; ${legend}`);
  $("#canvas-train").setAttribute("aria-label", `the output at training time, iteration ${frame.iteration}: ${train}`);
  for (const [selector, text] of Object.entries(details)) {
    $(selector).textContent = text;
    $(selector).closest("figcaption").title = $(selector).closest("figcaption").textContent;
  }
}

// ---------------------------------------------------------------- statistics over iterations

let seriesTimer = null;
let seriesKey = null;

function scheduleSeries() {
  clearTimeout(seriesTimer);
  seriesTimer = setTimeout(async () => {
    if (!currentMethod().image_view) return;
    const snapshot = { ...state, params: { ...state.params } };
    const key = frameKey(snapshot);
    if (key === seriesKey) return;
    try {
      const series = await fetchSeries(snapshot, ITERATIONS);
      if (frameKey(state) !== key) return;
      seriesKey = key;
      charts.drawSeries(series, state.iteration, unitWord(series.theory));
    } catch (error) {
      showError(error);
    }
  }, 150);
}

// ---------------------------------------------------------------- URL

let urlTimer = null;

function writeUrl(mode) {
  if (mode === "push" || mode === "replace-now") {
    clearTimeout(urlTimer);
    urlTimer = null;
    if (mode === "push") window.history.pushState(null, "", toQuery(state));
    else window.history.replaceState(null, "", toQuery(state));
    return;
  }
  // Browsers throttle history updates: during drags and playback write at most 4 per second.
  // A throttle, not a debounce: a write already due is kept, and writes the state of its time,
  // so the address follows playback at any speed.
  if (urlTimer !== null) return;
  urlTimer = setTimeout(() => {
    urlTimer = null;
    window.history.replaceState(null, "", toQuery(state));
  }, 250);
}

window.addEventListener("popstate", () => {
  state = readState(catalog, window.location.search);
  showLinkCorrections(window.location.search);
  renderMethod();
  syncImageSelect();
  setPlaying(state.playing, false);
  refresh();
  scheduleSeries();
});

// ---------------------------------------------------------------- method, controls

let dragging = false; // a slider drag is under way: its first input pushed a history entry

function onParam(name, value, phase) {
  if (phase === "change") clearError({ force: true });
  if (name === "seed") state.seed = value;
  else state.params[name] = value;
  if (phase === "input") pendingInputAt = performance.now();
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

// What an "auto" parameter resolves to, as the server reported it: the only nullable parameter,
// Gaussian dropout's sigma, is the standard deviation of the noise, sqrt of the mask variance.
function derivedValue(name) {
  const theory = lastPainted?.theory;
  if (name !== "sigma" || theory?.mask_kind !== "real" || theory.mask_variance == null) return null;
  return Math.sqrt(theory.mask_variance);
}

function renderMethod() {
  const method = currentMethod();
  markPicked($("#picker"), method.id);
  $("#method-name").textContent = method.name;
  $("#method-summary").textContent = method.summary;
  const citation = (paper) => `${paper.authors} (${paper.year}). ${paper.title}. ${paper.venue}.`;
  const paperLink = (paper, text) => Object.assign(document.createElement("a"), {
    href: paper.url, target: "_blank", rel: "noopener", textContent: text, title: citation(paper),
  });
  // Short citations under the name; the full references close the page.
  $("#method-papers").replaceChildren(
    ...method.papers.flatMap((paper, k) => {
      const link = paperLink(paper, `${shortCitation(paper)}, “${paper.title}”`);
      return k === 0 ? [link] : [" · ", link];
    }),
  );
  $("#method-formula").innerHTML = method.formula_mathml; // MathML rendered by the server
  $("#method-test-time").textContent = `Test time: ${method.test_time}`;
  renderControls($("#params"), method, catalog.seed, state, onParam, derivedValue);
  const notes = $("#notes");
  const heading = (text) => Object.assign(document.createElement("h3"), { textContent: text });
  const references = document.createElement("ul");
  references.replaceChildren(...method.papers.map((paper) => {
    const item = document.createElement("li");
    item.append(paperLink(paper, citation(paper)));
    return item;
  }));
  notes.replaceChildren(
    ...(method.notes.length ? [heading("Notes")] : []),
    ...method.notes.map((note) => Object.assign(document.createElement("p"), { textContent: note })),
    heading(method.papers.length > 1 ? "Papers" : "Paper"),
    references,
  );
  const hasView = method.image_view;
  for (const selector of ["#views", ".player", ".stats", ".source"]) $(selector).hidden = !hasView;
  const notice = $("#no-view");
  notice.hidden = hasView;
  if (!hasView) {
    notice.textContent = `${method.name} is shown on the ${viewBadge(method, catalog)}. `
      + "Its formula, paper and parameters are here, and “Copy as code” works; the animated view comes with a later release.";
    setPlaying(false, false);
  }
  document.title = `${method.name} · Dropout Lab`;
}

function pickMethod(id) {
  if (id === state.method) return;
  clearError({ force: true });
  state.method = id;
  state.params = defaultParams(currentMethod());
  seriesKey = null;
  renderMethod();
  writeUrl("push");
  if (currentMethod().image_view) {
    refresh();
    scheduleSeries();
  }
}

// ---------------------------------------------------------------- images

function syncImageSelect() {
  const select = $("#image-select");
  if (![...select.options].some((option) => option.value === state.image)) {
    select.append(new Option(`your image (${state.image.slice(0, 7)}…)`, state.image));
  }
  select.value = state.image;
}

function renderImageSelect() {
  const select = $("#image-select");
  select.replaceChildren(...boot.images.map((image) => new Option(`${image.title} (${image.width} × ${image.height})`, image.id)));
  syncImageSelect();
  select.addEventListener("change", () => {
    clearError({ force: true });
    state.image = select.value;
    writeUrl("push");
    refresh();
    scheduleSeries();
  });
}

async function useFile(file) {
  if (!file) return;
  toast(`Uploading ${file.name}…`);
  try {
    const image = await uploadImage(file);
    const select = $("#image-select");
    if (![...select.options].some((option) => option.value === image.id)) {
      select.append(new Option(`your image: ${file.name} (${image.width} × ${image.height})`, image.id));
    }
    clearError({ force: true });
    state.image = image.id;
    select.value = image.id;
    writeUrl("push");
    toast(`Using ${file.name}`);
    await refresh();
    scheduleSeries();
  } catch (error) {
    showError(error);
  }
}

function wireUploads() {
  $("#upload").addEventListener("change", (event) => useFile(event.target.files[0]));
  // A picture dropped anywhere on the page is used; never let the browser navigate to it.
  const zone = $("#views");
  let depth = 0; // dragenter/dragleave fire for every child: count them
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    depth += 1;
    zone.classList.add("dragging");
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove("dragging");
  });
  document.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    useFile(event.dataTransfer.files[0]);
  });
}

// ---------------------------------------------------------------- player

let timer = null;

function setPlaying(on, write = true) {
  state.playing = on && currentMethod().image_view;
  const button = $("#play");
  button.textContent = state.playing ? "Pause" : "Play";
  button.setAttribute("aria-pressed", String(state.playing));
  clearTimeout(timer);
  if (state.playing) schedule();
  if (write) writeUrl("replace");
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(tick, 1000 / state.speed);
}

function tick() {
  if (!state.playing) return;
  if (document.hidden) {
    schedule();
    return;
  }
  const next = (state.iteration + 1) % ITERATIONS;
  if (!cached(frameKey(state), next)) {
    prefetch({ ...state, params: { ...state.params } }, next);
    schedule(); // wait for the chunk rather than stutter
    return;
  }
  goTo(next);
  schedule();
}

function goTo(iteration) {
  state.iteration = (iteration + ITERATIONS) % ITERATIONS;
  writeUrl("replace");
  refresh();
  prefetchAhead();
}

function wirePlayer() {
  $("#play").addEventListener("click", () => setPlaying(!state.playing));
  $("#step-back").addEventListener("click", () => goTo(state.iteration - 1));
  $("#step-forward").addEventListener("click", () => goTo(state.iteration + 1));
  $("#scrub").addEventListener("input", (event) => goTo(Number(event.target.value)));
  const speed = $("#speed");
  speed.value = String(state.speed);
  speed.addEventListener("change", () => {
    state.speed = Number(speed.value);
    writeUrl("replace");
    if (state.playing) schedule();
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    // Keys stay with fields that use them: text and number fields, checkboxes, selects, dialogs,
    // and the arrows of a focused slider. Space plays/pauses everywhere else, also over a focused
    // button (which Enter still activates), so it works right after a click.
    const typing = target.closest?.("select, textarea, dialog[open], input:not([type=range])");
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    const onSlider = target.matches?.("input[type=range]");
    if (event.key === " ") {
      event.preventDefault();
      setPlaying(!state.playing);
      return;
    }
    if (onSlider && target.id !== "scrub") return; // arrows move the focused parameter
    if (event.key === "ArrowRight") {
      event.preventDefault();
      goTo(state.iteration + 1);
    } else if (event.key === "ArrowLeft") {
      event.preventDefault();
      goTo(state.iteration - 1);
    }
  });
}

// ---------------------------------------------------------------- sharing, code, theme

function toast(message) {
  const node = $("#toast");
  node.textContent = message;
  node.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => node.classList.remove("show"), 2500);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = Object.assign(document.createElement("textarea"), { value: text });
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

function wireSharing() {
  $("#copy-link").addEventListener("click", async () => {
    window.history.replaceState(null, "", toQuery(state));
    toast((await copyText(window.location.href)) ? "Link copied: it reproduces this exact view" : window.location.href);
  });
  $("#copy-code").addEventListener("click", async () => {
    try {
      const { snippets } = await fetchCode(state);
      const list = $("#code-list");
      list.replaceChildren(...snippets.map((snippet) => {
        const block = document.createElement("section");
        block.className = "snippet";
        const title = document.createElement("h3");
        title.textContent = snippet.label;
        const pre = document.createElement("pre");
        pre.textContent = snippet.code;
        const copy = document.createElement("button");
        copy.type = "button";
        copy.className = "button small";
        copy.textContent = `Copy ${snippet.label}`;
        copy.addEventListener("click", async () => toast((await copyText(snippet.code)) ? "Copied" : "Select and copy the code"));
        block.append(title, pre, copy);
        if (snippet.note) block.append(Object.assign(document.createElement("p"), { className: "help", textContent: snippet.note }));
        return block;
      }));
      $("#code-dialog").showModal();
    } catch (error) {
      showError(error);
    }
  });
  const contrast = $("#contrast");
  contrast.checked = window.localStorage.getItem("theme") === "contrast";
  const applyTheme = () => {
    document.documentElement.dataset.theme = contrast.checked ? "contrast" : "";
    window.localStorage.setItem("theme", contrast.checked ? "contrast" : "");
    seriesKey = null;
    scheduleSeries();
    if (lastPainted) charts.drawHistogram(lastPainted.frame, lastPainted.theory);
  };
  contrast.addEventListener("change", applyTheme);
  if (contrast.checked) document.documentElement.dataset.theme = "contrast";
}

// A sticky error explains a change the page made for the user (an unknown upload replaced by
// the cat): the next painted frame keeps it; the user's next choice of image or method clears it.
function showError(error, { sticky = false } = {}) {
  const node = $("#error");
  node.textContent = error.message;
  node.hidden = false;
  node.dataset.sticky = String(sticky);
  probe.errors.push(error.message);
}

function clearError({ force = false } = {}) {
  const node = $("#error");
  if (force || node.dataset.sticky !== "true") node.hidden = true;
  if (force) $("#link-notice").hidden = true;
}

// A link that asked for something out of range is shown corrected, and the page says so.
function showLinkCorrections(search) {
  const notes = linkCorrections(catalog, search, state);
  const node = $("#link-notice");
  node.textContent = notes.length ? `This link was adjusted: ${notes.join("; ")}.` : "";
  node.hidden = notes.length === 0;
}

// ---------------------------------------------------------------- start

renderPicker($("#picker"), catalog, pickMethod);
renderMethodSelect($("#method-select"), catalog, pickMethod);
renderImageSelect();
renderMethod();
wireUploads();
wirePlayer();
wireSharing();
setPlaying(state.playing, false);
showLinkCorrections(window.location.search);
window.history.replaceState(null, "", toQuery(state));
refresh().then(() => {
  probe.ready = true;
  prefetchAhead();
});
scheduleSeries();
