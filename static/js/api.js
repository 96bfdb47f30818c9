// Talking to the server: frames and scenes (binary, see app/wire.py), statistics, uploads,
// code. No dropout math here: masks arrive computed; this module only unpacks bytes.

import { paramQuery } from "./state.js";

const MAGIC = "DLF1";

export class ApiError extends Error {
  // training: for a setting not trained yet, { stream, progress } (app/untrained.py)
  constructor(detail, status, training = null) {
    super(detail.allowed ? `${detail.field}: ${detail.message} (allowed: ${detail.allowed})` : `${detail.field}: ${detail.message}`);
    this.detail = detail;
    this.status = status;
    this.training = training;
  }
}

// A busy server answers 503 with Retry-After (app/capacity.py): ask again after it, quietly,
// waiting longer each time (with jitter, so that a class does not come back all at once), at
// most RETRIES times; then the 503 is the answer.
const RETRIES = 4;
const LONGEST_WAIT_S = 8;

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}

// fetch(url, init); a 503 is asked again as above unless `retry` is false (a prefetch gives
// up at once). A 503 for a setting not trained yet (X-Training-Stream) is the answer at once:
// waiting will not train it (training_wait.js opens its stream).
export async function fetchPatiently(url, init = {}, { retry = true } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(url, init);
    if (response.headers.has("X-Training-Stream")) return response;
    if (response.status !== 503 || !retry || attempt >= RETRIES) return response;
    const after = Number(response.headers.get("Retry-After")) || 1;
    const seconds = Math.min(LONGEST_WAIT_S, after * 2 ** attempt) * (0.5 + Math.random());
    await pause(seconds * 1000, init.signal);
  }
}

async function failure(response) {
  let detail = { field: "request", message: `HTTP ${response.status}`, allowed: "" };
  let training = null;
  try {
    const body = await response.json();
    detail = body.error ?? detail;
    training = body.training ?? null;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(detail, response.status, training);
}

function frameQuery(state, start, count, extra = {}) {
  const query = paramQuery(state);
  query.set("view", state.view);
  query.set("method", state.method);
  query.set("image", state.image);
  query.set("seed", String(state.seed));
  query.set("start", String(start));
  query.set("count", String(count));
  for (const [key, value] of Object.entries(extra)) query.set(key, value);
  return query;
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// One byte per unit, 1 kept and 0 dropped, from the packed bits (most significant first).
function unpackBits(packed, units) {
  const bits = new Uint8Array(units);
  for (let i = 0; i < units; i += 1) bits[i] = (packed[i >> 3] >> (7 - (i & 7))) & 1;
  return bits;
}

// The factor of each quantisation level: level k is low + k (high - low) / (levels - 1).
function levelFactors({ low, high, levels }) {
  const factors = new Float32Array(levels);
  for (let k = 0; k < levels; k += 1) factors[k] = low + (k * (high - low)) / (levels - 1);
  return factors;
}

// An array as the views use it, with its `shape` [C, H, W]:
// { bits, value } (a 0/1 mask: bits[u] ? value : 0), { levels, factors } (real-valued: a level
// per unit and the factor of each level), { channels } (one factor per channel) or
// { bytes, scale } (display values: bytes[u] / 255 * scale[channel]).
async function decodeArray(description, body) {
  if (description.encoding === "values") return { channels: description.values };
  if (description.encoding === "json") return description.value;
  const { shape } = description;
  const units = shape[0] * shape[1] * shape[2];
  const raw = await inflate(body.subarray(description.offset, description.offset + description.length));
  if (description.encoding === "bits") return { bits: unpackBits(raw, units), value: description.value, shape };
  if (raw.length !== units) throw new Error(`an array of ${raw.length} bytes for ${units} units`);
  if (description.encoding === "levels") return { levels: raw, factors: levelFactors(description), shape };
  if (description.encoding === "bytes") return { bytes: raw, scale: description.scale, shape };
  throw new Error(`cannot read an array encoded as ${description.encoding}`);
}

function isArray(value) {
  return value !== null && typeof value === "object" && typeof value.encoding === "string";
}

// Every array of `entry` decoded in place of its description.
async function decodeArrays(entry, body) {
  const decoded = { ...entry };
  await Promise.all(Object.entries(entry).filter(([, value]) => isArray(value)).map(async ([name, value]) => {
    decoded[name] = await decodeArray(value, body);
  }));
  return decoded;
}

async function readContainer(response) {
  if (!response.ok) throw await failure(response);
  const buffer = new Uint8Array(await response.arrayBuffer());
  if (new TextDecoder().decode(buffer.subarray(0, 4)) !== MAGIC) throw new Error("not a frames response");
  const headerLength = new DataView(buffer.buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(buffer.subarray(8, 8 + headerLength)));
  return { header, body: buffer.subarray(8 + headerLength) };
}

// `retry`: ask again after a 503 (the panel's own requests); a prefetch gives up at once.
export async function fetchFrames(state, start, count, signal, { retry = true } = {}) {
  const url = `/api/frames?${frameQuery(state, start, count)}`;
  const { header, body } = await readContainer(await fetchPatiently(url, { signal }, { retry }));
  const frames = await Promise.all(header.frames.map((frame) => decodeArrays(frame, body)));
  return { header, frames };
}

export async function fetchSeries(state, count, signal) {
  const query = frameQuery(state, 0, count, { masks: "false", format: "json" });
  const response = await fetchPatiently(`/api/frames?${query}`, { signal });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// What a view draws once per image (GET /api/scene): its header, with the arrays decoded.
export async function fetchScene(view, image) {
  const query = new URLSearchParams({ view, image });
  const { header, body } = await readContainer(await fetchPatiently(`/api/scene?${query}`));
  return { ...header, arrays: await decodeArrays(header.arrays, body) };
}

export async function fetchJson(path, params, signal) {
  const response = await fetchPatiently(`${path}?${new URLSearchParams(params)}`, { signal });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function uploadImage(file) {
  const body = new FormData();
  body.append("file", file);
  const response = await fetchPatiently("/api/images", { method: "POST", body });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// The setting as code: only the method's own parameters (`names`) matter, not the view's.
export async function fetchCode(state, names) {
  const query = new URLSearchParams([...paramQuery(state)].filter(([name]) => names.includes(name)));
  query.set("method", state.method);
  query.set("seed", String(state.seed));
  const response = await fetchPatiently(`/api/code?${query}`);
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Server-sent events of `url`: onEvent(name, parsed data) for each; a 4xx is an ApiError.
export async function readEvents(url, signal, onEvent) {
  const response = await fetch(url, { signal, headers: { Accept: "text/event-stream" } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(body.error ?? { field: "request", message: `HTTP ${response.status}`, allowed: "" }, response.status, body.training ?? null);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

// An event stream that a full server may refuse with 503 (a training run, an export): back off
// and ask again, quietly (a run this one replaces may hold its place a moment longer), at most
// RETRIES times; onEvent(name, data) as readEvents.
export async function readEventsPatiently(url, signal, onEvent) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await readEvents(url, signal, onEvent);
      return;
    } catch (error) {
      const training = error.training?.stream; // waiting will not train it: the caller opens it
      if (error.status !== 503 || training || attempt >= RETRIES || signal.aborted) throw error;
      await pause(250 * 2 ** attempt, signal);
    }
  }
}

// A training run's event stream (GET /api/train…): `handlers[name](data)` for each event; an
// `error` event is thrown.
export function readRunEvents(url, signal, handlers) {
  return readEventsPatiently(url, signal, (name, data) => {
    if (name === "error") throw new Error(`${data.error.field}: ${data.error.message}`);
    handlers[name]?.(data);
  });
}

// What a training panel says when its run could not be had.
export function runFailure(error) {
  return error.status === 503
    ? "The server is training as many networks as it can: try again in a moment."
    : `Training failed: ${error.message}`;
}
