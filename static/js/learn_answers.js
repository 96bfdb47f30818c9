// The lesson's answers (app/lesson/path.py, Answer): read from what a step's live view told
// the page (static/js/embed.js posts each frame's theory and numbers, and a panel's finished
// run), never from the page. Reading is all this does: a field by its path, then, for a
// choice, the key of the largest or smallest entry. The numbers are the server's.

import { share } from "./views/titles.js";

// The value at a dotted `path` of `object` (undefined when absent).
function at(object, path) {
  return path.split(".").reduce((value, key) => (value === null || value === undefined ? undefined : value[key]), object);
}

// The key (or index, as text) of the largest or smallest entry of an object or an array.
function extreme(value, pick) {
  const entries = Array.isArray(value) ? value.map((v, k) => [String(k), v]) : Object.entries(value ?? {});
  const numbers = entries.filter(([, v]) => typeof v === "number" && Number.isFinite(v));
  if (!numbers.length) return undefined;
  const better = pick === "highest" ? (a, b) => a > b : (a, b) => a < b;
  return numbers.reduce((best, entry) => (better(entry[1], best[1]) ? entry : best))[0];
}

// The answer for what the view reports (`reports`: { theory, frame, run }), or undefined while
// it has not reported it yet.
export function readAnswer(question, reports) {
  const source = question.dataset.source === "run" ? reports.run : reports[question.dataset.source];
  if (!source) return undefined;
  const value = at(source, question.dataset.path);
  if (value === undefined || value === null) return undefined;
  return question.dataset.pick === "value" ? value : extreme(value, question.dataset.pick);
}

// A number as the question writes it: a share, a factor or a plain number.
export function written(value, format) {
  if (format === "share") return share(value, 1);
  if (format === "factor") return `×${Number(value).toFixed(2)}`;
  return Number(value).toFixed(2);
}

// The student's guess as written, and whether it is right against `answer`.
export function judge(question, answer) {
  const kind = question.dataset.kind;
  if (kind === "choice") {
    const picked = question.querySelector("input[name=guess]:checked");
    const label = (value) => question.querySelector(`input[name=guess][value="${CSS.escape(String(value))}"]`)?.parentElement.textContent.trim() ?? String(value);
    return { right: picked !== null && picked.value === String(answer), shown: label(answer), guessed: picked ? label(picked.value) : null };
  }
  const guess = Number(question.querySelector("input[name=guess]").value);
  const tolerance = Number(question.dataset.tolerance);
  const format = question.dataset.format;
  return { right: Math.abs(guess - Number(answer)) <= tolerance + 1e-9, shown: written(answer, format), guessed: written(guess, format) };
}
