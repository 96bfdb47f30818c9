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

function unpackBits(packed, pixels, value) {
  const mask = new Float32Array(pixels);
  for (let i = 0; i < pixels; i += 1) {
    if (packed[i >> 3] & (0x80 >> (i & 7))) mask[i] = value;
  }
  return mask;
}

function dequantise(levels, low, high) {
  const mask = new Float32Array(levels.length);
  const step = (high - low) / 255;
  for (let i = 0; i < levels.length; i += 1) mask[i] = low + levels[i] * step;
  return mask;
}

async function decodeMask(description, body, pixels) {
  if (description.encoding === "values") return { channels: description.values };
  const raw = await inflate(body.subarray(description.offset, description.offset + description.length));
  if (description.encoding === "bits") {
    return { pixels: unpackBits(raw, pixels, description.value), value: description.value };
  }
  return { pixels: dequantise(raw, description.low, description.high) };
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
