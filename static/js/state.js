// The URL is the single source of state (as in TensorFlow Playground's state.ts):
// every control reads from a state object parsed from the query string, and every change
// writes the query string back. A copied link therefore reproduces exactly what was shown.
// The link's own keys, their defaults and ranges are the server's (app/grammar.py), inlined in
// the page as the registry is; the parameters are the registry's (the catalog).

export const GRAMMAR = JSON.parse(document.getElementById("grammar").textContent);
export const DEFAULTS = GRAMMAR.defaults;
export const ITERATIONS = GRAMMAR.iterations;
export const SPEEDS = GRAMMAR.speeds;
const GLOBAL_KEYS = new Set(GRAMMAR.keys);

export function methodById(catalog, id) {
  return catalog.methods.find((method) => method.id === id);
}

export function viewById(catalog, id) {
  return catalog.view_specs.find((view) => view.id === id);
}

function parseParam(param, raw) {
  if (raw === null || raw === undefined) return param.default;
  if (param.kind === "choice") return param.choices.includes(raw) ? raw : param.default;
  if (param.kind === "bool") return raw === "true" || raw === "1";
  if (raw === "" && param.nullable) return null;
  const number = Number(raw);
  if (raw === "" || !Number.isFinite(number)) return param.default;
  const clamped = Math.min(param.max, Math.max(param.min, number));
  return param.kind === "int" ? Math.round(clamped) : clamped;
}

// The view a method opens in: the one asked for if the method has it, else its first one;
// null when none of its views is built yet.
export function chooseView(method, asked) {
  const views = method.built_views;
  return views.includes(asked) ? asked : (views[0] ?? null);
}

// Every parameter that decides the frames: the method's, then the view's own.
export function paramsOf(catalog, method, viewId) {
  return [...method.params, ...(viewById(catalog, viewId)?.params ?? [])];
}

export function defaultParams(catalog, method, viewId) {
  return Object.fromEntries(paramsOf(catalog, method, viewId).map((param) => [param.name, param.default]));
}

export function readState(catalog, search) {
  const query = new URLSearchParams(search);
  const method = methodById(catalog, query.get("method")) ?? methodById(catalog, DEFAULTS.method);
  const view = chooseView(method, query.get("view"));
  const params = Object.fromEntries(
    paramsOf(catalog, method, view).map((param) => [param.name, parseParam(param, query.get(param.name))]),
  );
  const seed = parseParam(catalog.seed, query.get("seed"));
  const iteration = parseParam(
    { kind: "int", default: DEFAULTS.i, min: 0, max: ITERATIONS - 1 },
    query.get("i"),
  );
  const speed = SPEEDS.includes(Number(query.get("speed"))) ? Number(query.get("speed")) : DEFAULTS.speed;
  return {
    method: method.id,
    view,
    image: query.get("image") || DEFAULTS.image,
    seed,
    iteration,
    playing: query.get("play") === null ? DEFAULTS.play : query.get("play") !== "0",
    speed,
    params,
  };
}

// The state with another view: the method's parameters, the seed and the iteration stay;
// the view's own parameters are the new view's (kept where the two share one).
export function withView(catalog, state, viewId) {
  const method = methodById(catalog, state.method);
  const params = {};
  for (const param of paramsOf(catalog, method, viewId)) {
    params[param.name] = param.name in state.params ? state.params[param.name] : param.default;
  }
  return { ...state, view: viewId, params };
}

function formatValue(value) {
  if (value === null) return "";
  if (typeof value === "number" && !Number.isInteger(value)) return String(Number(value.toFixed(6)));
  return String(value);
}

export function paramQuery(state) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(state.params)) query.set(name, formatValue(value));
  return query;
}

export function toQuery(state) {
  const query = new URLSearchParams({ method: state.method });
  if (state.view) query.set("view", state.view);
  query.set("image", state.image);
  query.set("seed", String(state.seed));
  for (const [name, value] of paramQuery(state)) {
    if (!GLOBAL_KEYS.has(name)) query.set(name, value);
  }
  query.set("i", String(state.iteration));
  query.set("play", state.playing ? "1" : "0");
  query.set("speed", String(state.speed));
  return `?${query}`;
}

// What decides the frames: two states with the same key show the same frames.
export function frameKey(state) {
  return `${state.method}|${state.image}|${state.seed}|${paramQuery(state)}|${state.view}`;
}

// What a link asked for that could not be shown as asked (out of range, unknown, malformed),
// in words, so that the page can say what it shows instead of correcting silently.
export function linkCorrections(catalog, search, state) {
  const query = new URLSearchParams(search);
  const notes = [];
  const asked = query.get("method");
  if (asked !== null && asked !== state.method) notes.push(`there is no method “${asked}”; showing ${state.method}`);
  const askedView = query.get("view");
  if (askedView !== null && askedView !== state.view) {
    const shown = state.view ? `showing the ${catalog.views[state.view]}` : "it has no view yet";
    notes.push(`${state.method} has no view “${askedView}”; ${shown}`);
  }
  const method = methodById(catalog, state.method);
  const checks = [
    ...paramsOf(catalog, method, state.view).map((param) => [param, param.name, state.params[param.name]]),
    [catalog.seed, "seed", state.seed],
    [{ kind: "int", min: 0, max: ITERATIONS - 1 }, "i", state.iteration],
  ];
  for (const [param, name, shown] of checks) {
    const raw = query.get(name);
    if (raw === null) continue;
    const same = param.kind === "choice" || param.kind === "bool"
      ? String(shown) === raw || (param.kind === "bool" && (raw === "1") === shown)
      : (raw === "" && shown === null) || Number(raw) === shown;
    if (!same) {
      const range = param.kind === "choice" ? param.choices.join(", ") : `${param.min} to ${param.max}`;
      notes.push(`${name}=${raw} is not allowed (${range}); showing ${name} = ${formatValue(shown) || "auto"}`);
    }
  }
  const speed = query.get("speed");
  if (speed !== null && Number(speed) !== state.speed) notes.push(`speed=${speed} is not offered (${SPEEDS.join(", ")}); showing ${state.speed} / s`);
  return notes;
}

// ---------------------------------------------------------------- comparisons

// A comparison (two to four methods side by side on one view, picture, seed and iteration)
// names its panels a, b, c, d in the URL: ?view=image&a.method=standard&a.p=0.25&b.method=…
export const PANELS = GRAMMAR.panels;

export function isComparison(search) {
  const query = new URLSearchParams(search);
  return query.has("a.method") && query.has("b.method");
}

function panelOf(catalog, query, prefix, view) {
  const method = methodById(catalog, query.get(`${prefix}.method`));
  if (!method || !method.built_views.includes(view)) return null;
  const params = Object.fromEntries(paramsOf(catalog, method, view).map((param) => [param.name, parseParam(param, query.get(`${prefix}.${param.name}`))]));
  return { method: method.id, params };
}

// The view all the panels' methods have: the one asked for, else the first method's first.
function sharedView(catalog, methods, asked) {
  const views = methods[0]?.built_views ?? [];
  const shared = views.filter((view) => methods.every((method) => method.built_views.includes(view)));
  return shared.includes(asked) ? asked : (shared[0] ?? views[0] ?? null);
}

export function readComparison(catalog, search) {
  const query = new URLSearchParams(search);
  const methods = PANELS.map((prefix) => methodById(catalog, query.get(`${prefix}.method`))).filter(Boolean);
  const view = sharedView(catalog, methods, query.get("view"));
  const panels = PANELS.map((prefix) => panelOf(catalog, query, prefix, view)).filter(Boolean).slice(0, 4);
  const single = readState(catalog, `?method=${panels[0]?.method ?? DEFAULTS.method}&${search.replace(/^\?/, "")}`);
  const match = Number(query.get("match"));
  return {
    view,
    image: single.image,
    seed: single.seed,
    iteration: single.iteration,
    playing: single.playing,
    speed: single.speed,
    match: query.has("match") && match >= GRAMMAR.match.min && match <= GRAMMAR.match.max ? match : null,
    panels,
  };
}

export function comparisonQuery(comparison) {
  const query = new URLSearchParams({ view: comparison.view, image: comparison.image, seed: String(comparison.seed) });
  comparison.panels.forEach((panel, k) => {
    query.set(`${PANELS[k]}.method`, panel.method);
    for (const [name, value] of paramQuery(panel)) query.set(`${PANELS[k]}.${name}`, value);
  });
  if (comparison.match !== null) query.set("match", String(comparison.match));
  query.set("i", String(comparison.iteration));
  query.set("play", comparison.playing ? "1" : "0");
  query.set("speed", String(comparison.speed));
  return `?${query}`;
}

// Panel k of a comparison as the state of one method (for the frame cache and the views).
export function panelState(comparison, k) {
  const panel = comparison.panels[k];
  return {
    method: panel.method,
    view: comparison.view,
    image: comparison.image,
    seed: comparison.seed,
    iteration: comparison.iteration,
    playing: comparison.playing,
    speed: comparison.speed,
    params: { ...panel.params },
  };
}
