// Talking to the server: frames (binary, see app/wire.py), statistics, uploads, code.
// No dropout math here: masks arrive computed; this module only unpacks bytes.

import { paramQuery } from "./state.js";

const MAGIC = "DLF1";

export class ApiError extends Error {
  constructor(detail, status) {
    super(detail.allowed ? `${detail.field}: ${detail.message} (allowed: ${detail.allowed})` : `${detail.field}: ${detail.message}`);
    this.detail = detail;
    this.status = status;
  }
}

async function failure(response) {
  let detail = { field: "request", message: `HTTP ${response.status}`, allowed: "" };
  try {
    detail = (await response.json()).error ?? detail;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(detail, response.status);
}

function frameQuery(state, start, count, extra = {}) {
  const query = paramQuery(state);
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

// One byte per pixel, 1 kept and 0 dropped, from the packed bits (most significant first).
function unpackBits(packed, pixels) {
  const bits = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i += 1) bits[i] = (packed[i >> 3] >> (7 - (i & 7))) & 1;
  return bits;
}

// The factor of each quantisation level: level k is low + k (high - low) / (levels - 1).
function levelFactors({ low, high, levels }) {
  const factors = new Float32Array(levels);
  for (let k = 0; k < levels; k += 1) factors[k] = low + (k * (high - low)) / (levels - 1);
  return factors;
}

// A mask as the views use it: { bits, value } (binary), { levels, factors } (real-valued:
// a level index per pixel and the factor of each level) or { channels } (one per channel).
async function decodeMask(description, body, pixels) {
  if (description.encoding === "values") return { channels: description.values };
  const raw = await inflate(body.subarray(description.offset, description.offset + description.length));
  if (description.encoding === "bits") return { bits: unpackBits(raw, pixels), value: description.value };
  if (description.encoding === "levels" && raw.length === pixels) {
    return { levels: raw, factors: levelFactors(description) };
  }
  throw new Error(`cannot read a mask encoded as ${description.encoding}`);
}

export async function fetchFrames(state, start, count, signal) {
  const response = await fetch(`/api/frames?${frameQuery(state, start, count)}`, { signal });
  if (!response.ok) throw await failure(response);
  const buffer = new Uint8Array(await response.arrayBuffer());
  if (new TextDecoder().decode(buffer.subarray(0, 4)) !== MAGIC) throw new Error("not a frames response");
  const headerLength = new DataView(buffer.buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(buffer.subarray(8, 8 + headerLength)));
  const body = buffer.subarray(8 + headerLength);
  const pixels = header.width * header.height;
  const frames = await Promise.all(
    header.frames.map(async (frame) => ({ ...frame, mask: await decodeMask(frame.mask, body, pixels) })),
  );
  return { header, frames };
}

export async function fetchSeries(state, count, signal) {
  const query = frameQuery(state, 0, count, { masks: "false", format: "json" });
  const response = await fetch(`/api/frames?${query}`, { signal });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function uploadImage(file) {
  const body = new FormData();
  body.append("file", file);
  const response = await fetch("/api/images", { method: "POST", body });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function fetchCode(state) {
  const query = paramQuery(state);
  query.set("method", state.method);
  query.set("seed", String(state.seed));
  const response = await fetch(`/api/code?${query}`);
  if (!response.ok) throw await failure(response);
  return response.json();
}
