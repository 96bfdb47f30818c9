// Lesson mode: what an embed shows, from its URL. A lecturer's "only p, large, no chrome" is
// ?…&controls=p&large=1&hide=title,formula,stats,link. Shared by the embed page, which reads
// it, and the embed dialog of the lab page, which writes it.

import { GRAMMAR } from "./state.js";

export const LESSON_KEYS = GRAMMAR.lesson; // the server's (app/grammar.py)
export const HIDEABLE = ["title", "formula", "stats", "player", "link"];
export const CAPTION_LIMIT = 200;
const EXTRA_CONTROLS = ["seed", "iteration", "speed"];

function list(raw) {
  return raw === null ? null : raw.split(",").map((item) => item.trim()).filter(Boolean);
}

// names: the parameters the state has (the method's and the view's).
export function readLesson(search, names) {
  const query = new URLSearchParams(search);
  const asked = list(query.get("controls"));
  const known = [...names, ...EXTRA_CONTROLS];
  return {
    // Absent: every parameter of the method and the view; present: those named, in that order.
    controls: asked === null ? [...names] : asked.filter((name) => known.includes(name)),
    hide: new Set((list(query.get("hide")) ?? []).filter((part) => HIDEABLE.includes(part))),
    caption: (query.get("caption") ?? "").slice(0, CAPTION_LIMIT),
    contrast: query.get("theme") === "contrast",
    large: query.get("large") === "1",
    panel: query.get("panel") === "1", // the view's panel (training run, study) in front
  };
}

// The lesson as query entries (only what differs from the defaults), for an embed's URL.
export function lessonQuery(lesson, names) {
  const query = new URLSearchParams();
  const all = lesson.controls.length === names.length && lesson.controls.every((name, k) => name === names[k]);
  if (!all) query.set("controls", lesson.controls.join(","));
  if (lesson.hide.size) query.set("hide", HIDEABLE.filter((part) => lesson.hide.has(part)).join(","));
  if (lesson.caption) query.set("caption", lesson.caption.slice(0, CAPTION_LIMIT));
  if (lesson.contrast) query.set("theme", "contrast");
  if (lesson.large) query.set("large", "1");
  if (lesson.panel) query.set("panel", "1");
  return query;
}

// "Only p, large, no chrome": the method's first parameter alone, everything else hidden.
export function onlyFirstParameter(names) {
  return {
    controls: names.slice(0, 1),
    hide: new Set(["title", "formula", "stats", "link"]),
    caption: "",
    contrast: false,
    large: true,
  };
}
