// The lesson page (/learn, app/routes/learn.py): each step's live view is the embed page in a
// frame, which plays only while it is in sight (static/js/visibility.js) and tells this page
// what it shows (static/js/embed.js). A question is answered from that report, for the
// settings on screen: move a slider and a revealed answer follows it. Progress stays in this
// browser; present mode shows one step per screen (learn_present.js).

import { judge, readAnswer, written } from "./learn_answers.js";
import { Presenter } from "./learn_present.js";
import { progressText, readProgress, recordAnswer, resetProgress } from "./learn_progress.js";

const steps = [...document.querySelectorAll("article.step")];
const total = steps.length;
const reports = new Map(steps.map((step) => [step.id, { theory: null, frame: null, run: null, query: null }]));
const revealed = new Set();
let progress = readProgress();
const probe = { reports: {}, revealed: [], answers: {}, stills: {} }; // for the tests
window.dropoutLab = { learn: probe };

const $ = (selector, root = document) => root.querySelector(selector);
const contrast = () => document.documentElement.dataset.theme === "contrast";

// ---------------------------------------------------------------- what each view reports

function stepOfFrame(source) {
  return steps.find((step) => $("iframe", step).contentWindow === source) ?? null;
}

window.addEventListener("message", (event) => {
  if (event.origin !== window.location.origin || event.data?.source !== "dropout-lab") return;
  const step = stepOfFrame(event.source);
  if (!step) return;
  const report = reports.get(step.id);
  if (event.data.type === "frame") Object.assign(report, { theory: event.data.theory, frame: event.data.frame });
  else if (event.data.type === "run") report.run = { final: event.data.final };
  else return;
  report.query = event.data.query;
  probe.reports[step.id] = { query: report.query, type: event.data.type };
  followState(step, report.query);
  if (revealed.has(step.id)) showAnswer(step);
});

// "Open in the lab" and the snippet carry the state on screen.
function followState(step, query) {
  const lab = new URLSearchParams(query);
  $(".open-lab", step).href = `/?${lab}`;
  $("textarea", step).value = snippet(step, query);
}

function embedAddress(step, query) {
  const address = new URL($("iframe", step).src, window.location.href);
  const lesson = new URLSearchParams(address.search);
  const state = new URLSearchParams(query ?? address.search);
  for (const key of JSON.parse($("#grammar").textContent).lesson) {
    if (lesson.has(key)) state.set(key, lesson.get(key));
  }
  return `${window.location.origin}/embed?${state}`;
}

function snippet(step, query) {
  const title = $("h3", step).textContent.replaceAll('"', "&quot;");
  return `<iframe src="${embedAddress(step, query)}" title="${title}" width="960" height="540" style="border:0" allowfullscreen></iframe>`;
}

// ---------------------------------------------------------------- questions

function guessOutput(step) {
  const range = $("input[type=range].guess", step);
  const output = $("output", step);
  const form = $("form.question", step);
  if (!range || !output) return;
  const show = () => {
    output.textContent = written(Number(range.value), form.dataset.format);
  };
  range.addEventListener("input", show);
  show();
}

function showAnswer(step) {
  const form = $("form.question", step);
  const answer = readAnswer(form, reports.get(step.id));
  const box = $(".answer", form);
  if (answer === undefined) {
    box.textContent = form.dataset.source === "run"
      ? "The answer comes from the run: it appears when the run beside this text has finished."
      : "The answer appears as soon as the view has drawn its first frame.";
    return null;
  }
  const verdict = judge(form, answer);
  const why = $("template.why", form).content.textContent.replaceAll("{answer}", verdict.shown);
  const said = verdict.guessed === null ? "You did not guess." : `You guessed ${verdict.guessed}: ${verdict.right ? "right" : "not quite"}.`;
  box.replaceChildren(
    Object.assign(document.createElement("p"), { className: "answer-value", textContent: `Answer: ${verdict.shown}. ${said}` }),
    Object.assign(document.createElement("p"), { className: "answer-why", textContent: why }),
  );
  form.dataset.right = String(verdict.right);
  probe.answers[step.id] = { answer, shown: verdict.shown, right: verdict.right };
  return verdict;
}

function reveal(step) {
  revealed.add(step.id);
  if (!probe.revealed.includes(step.id)) probe.revealed.push(step.id);
  const verdict = showAnswer(step);
  if (verdict) {
    progress = recordAnswer(step.id, verdict.right);
    showProgress();
  }
}

function showProgress() {
  $("#progress").textContent = progressText(progress, total);
  for (const step of steps) {
    const entry = progress[step.id];
    document.querySelector(`[data-step-link="${step.id}"]`)?.classList.toggle("answered", entry !== undefined);
    const mark = $(".verdict", step);
    mark.textContent = entry === undefined ? "" : entry.right ? "answered: right" : "answered";
  }
}

// The handout (print): each step's answer for what its view shows, where it has reported.
window.addEventListener("beforeprint", () => {
  for (const step of steps) if (!revealed.has(step.id)) showAnswer(step);
});
window.addEventListener("afterprint", () => {
  for (const step of steps) if (!revealed.has(step.id)) $(".answer", step).replaceChildren();
});

for (const step of steps) {
  guessOutput(step);
  $("form.question", step).addEventListener("submit", (event) => {
    event.preventDefault();
    reveal(step);
  });
  followState(step, null);
  const toggle = $(".embed-step", step);
  toggle.addEventListener("click", () => {
    const box = $(".snippet", step);
    box.hidden = !box.hidden;
    toggle.setAttribute("aria-expanded", String(!box.hidden));
  });
  $(".copy-snippet", step).addEventListener("click", () => navigator.clipboard?.writeText($("textarea", step).value).catch(() => {}));
}

$("#reset-progress").addEventListener("click", () => {
  progress = resetProgress();
  revealed.clear();
  for (const step of steps) {
    $(".answer", step).replaceChildren();
    delete $("form.question", step).dataset.right;
  }
  showProgress();
});

// ---------------------------------------------------------------- the handout

// Every view loaded and painted once (a still), then the browser's print dialog: one step per
// page, with its answer. A view that has not painted within the wait prints as it is.
const STILL_WAIT_MS = 120_000; // a trained view may train first
const HANDOUT_AT_ONCE = 3;

function stillOf(step) {
  const frame = $("iframe", step);
  if (reports.get(step.id).theory) return Promise.resolve(true);
  return new Promise((resolve) => {
    const ask = () => frame.contentWindow?.postMessage({ source: "dropout-lab", type: "still" }, window.location.origin);
    const timer = setTimeout(() => resolve(false), STILL_WAIT_MS);
    const poll = setInterval(() => {
      if (!reports.get(step.id).theory) return ask();
      clearTimeout(timer);
      clearInterval(poll);
      resolve(true);
    }, 250);
    frame.loading = "eager";
    ask();
  });
}

async function prepareHandout() {
  const button = $("#print-handout");
  button.disabled = true;
  let ready = 0;
  // A few views at a time: twenty-two first frames at once would queue on a busy server.
  const waiting = [...steps];
  const worker = async () => {
    for (let step = waiting.shift(); step; step = waiting.shift()) {
      const began = performance.now();
      const painted = await stillOf(step);
      probe.stills[step.id] = { painted, ms: Math.round(performance.now() - began) };
      ready += Number(painted);
      $("#progress").textContent = `Preparing the handout: ${ready} of ${total} views ready…`;
    }
  };
  await Promise.all(Array.from({ length: HANDOUT_AT_ONCE }, worker));
  for (const step of steps) if (!revealed.has(step.id)) showAnswer(step);
  button.disabled = false;
  showProgress();
  return ready;
}
probe.prepareHandout = prepareHandout;
$("#print-handout").addEventListener("click", () => prepareHandout().then(() => window.print()));

// ---------------------------------------------------------------- projector theme

const themeBox = $("#contrast");
themeBox.checked = window.localStorage.getItem("theme") === "contrast";
function applyTheme() {
  document.documentElement.dataset.theme = themeBox.checked ? "contrast" : "";
  for (const frame of document.querySelectorAll("iframe.view-frame")) {
    const address = new URL(frame.src, window.location.href);
    if ((address.searchParams.get("theme") === "contrast") === contrast()) continue;
    if (contrast()) address.searchParams.set("theme", "contrast");
    else address.searchParams.delete("theme");
    frame.src = `${address.pathname}${address.search}`;
  }
}
themeBox.addEventListener("change", () => {
  window.localStorage.setItem("theme", themeBox.checked ? "contrast" : "");
  applyTheme();
});
applyTheme();

// ---------------------------------------------------------------- present mode, start

const presenter = new Presenter(steps, { reveal });
showProgress();
if (new URLSearchParams(window.location.search).get("present") === "1") presenter.set(true);
probe.ready = true;
