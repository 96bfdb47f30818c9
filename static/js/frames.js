// The frame cache: frames by key (state.js frameKey) and iteration, fetched in chunks ahead
// of the player so that playback never waits on the network.

import { fetchFrames } from "./api.js";
import { frameKey, ITERATIONS } from "./state.js";

export const CHUNK = 16;
const KEYS_KEPT = 24;

export class FrameCache {
  constructor() {
    this.entries = new Map(); // key -> { header, frames: Map(iteration -> frame) }
    this.requests = new Map(); // `${key}|${start}` -> promise
  }

  #entry(key) {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { header: null, frames: new Map() };
      this.entries.set(key, entry);
      while (this.entries.size > KEYS_KEPT) this.entries.delete(this.entries.keys().next().value);
    }
    return entry;
  }

  store(key, header, frames) {
    const entry = this.#entry(key);
    entry.header = header;
    for (const frame of frames) entry.frames.set(frame.iteration, frame);
  }

  // { frame, header } of `iteration` if it is here, else null.
  get(key, iteration) {
    const entry = this.entries.get(key);
    const frame = entry?.frames.get(iteration);
    return frame ? { frame, header: entry.header } : null;
  }

  // The frame of the snapshot's iteration, from the cache or from the server.
  async frame(snapshot) {
    const key = frameKey(snapshot);
    const hit = this.get(key, snapshot.iteration);
    if (hit) return hit;
    const { header, frames } = await fetchFrames(snapshot, snapshot.iteration, 1);
    this.store(key, header, frames);
    return this.get(key, snapshot.iteration);
  }

  // Fetch the chunk of CHUNK iterations starting at `from` (once; failures are dropped).
  prefetch(snapshot, from) {
    const key = frameKey(snapshot);
    const start = Math.min(from, ITERATIONS - 1);
    const count = Math.min(CHUNK, ITERATIONS - start);
    const id = `${key}|${start}`;
    if (this.requests.has(id) || count <= 0) return;
    const request = fetchFrames(snapshot, start, count)
      .then(({ header, frames }) => this.store(key, header, frames))
      .catch(() => {})
      .finally(() => this.requests.delete(id));
    this.requests.set(id, request);
  }

  // Fetch the first missing iteration of the next CHUNK / 2 (and its chunk).
  prefetchAhead(snapshot) {
    const key = frameKey(snapshot);
    for (let ahead = 1; ahead <= CHUNK / 2; ahead += 1) {
      const iteration = (snapshot.iteration + ahead) % ITERATIONS;
      if (!this.get(key, iteration)) {
        this.prefetch(snapshot, iteration);
        return;
      }
    }
  }
}
