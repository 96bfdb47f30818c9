// The frame cache: frames by key (state.js frameKey) and iteration, fetched in chunks ahead
// of the player so that playback never waits on the network, and single frames fetched ahead
// of a held slider (prefetch.js), which the panel's request then finds here or joins in flight.

import { fetchFrames } from "./api.js";
import { frameKey, ITERATIONS } from "./state.js";

export const CHUNK = 16;
const KEYS_KEPT = 24;

const frameId = (key, iteration) => `${key}#${iteration}`;

export class FrameCache {
  constructor() {
    this.entries = new Map(); // key -> { header, frames: Map(iteration -> frame) }
    this.requests = new Map(); // `${key}|${start}` -> promise
    // Single frames on their way: frameId -> { promise, controller, ahead, claimed }. `ahead`:
    // asked by a prefetch (abortable while no one waits for it); `claimed`: the panel waits.
    this.single = new Map();
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

  // Drop what is kept of `key` (a prefetch's frame that is no longer near the slider).
  forget(key) {
    this.entries.delete(key);
  }

  // { frame, header } of `iteration` if it is here, else null.
  get(key, iteration) {
    const entry = this.entries.get(key);
    const frame = entry?.frames.get(iteration);
    return frame ? { frame, header: entry.header } : null;
  }

  // Whether the frame is here or on its way.
  has(key, iteration) {
    return this.get(key, iteration) !== null || this.single.has(frameId(key, iteration));
  }

  // The frame of the snapshot's iteration, from the cache or from the server. A prefetch of
  // the same frame on its way is joined (it is no longer abortable), not asked for twice.
  async frame(snapshot) {
    const key = frameKey(snapshot);
    const hit = this.get(key, snapshot.iteration);
    if (hit) return hit;
    const id = frameId(key, snapshot.iteration);
    const pending = this.single.get(id);
    if (pending) {
      pending.claimed = true;
      try {
        await pending.promise;
        const joined = this.get(key, snapshot.iteration);
        if (joined) return joined;
      } catch {
        // the prefetch failed (refused, aborted before it was joined): ask on our own
      }
    }
    const request = this.#fetchOne(snapshot, key, id, false);
    request.claimed = true;
    await request.promise;
    return this.get(key, snapshot.iteration);
  }

  // Start fetching the snapshot's frame ahead of need (one frame, as frame() asks for it);
  // the request ({ promise, controller, ... }), or null if the frame is here or on its way.
  ahead(snapshot) {
    const key = frameKey(snapshot);
    const id = frameId(key, snapshot.iteration);
    if (this.get(key, snapshot.iteration) || this.single.has(id)) return null;
    return this.#fetchOne(snapshot, key, id, true);
  }

  // Abort a prefetch on its way unless the panel waits for it; true if it was aborted.
  abort(request) {
    if (request.claimed || request.done) return false;
    request.controller.abort();
    return true;
  }

  #fetchOne(snapshot, key, id, ahead) {
    const controller = new AbortController();
    const request = { id, key, controller, ahead, claimed: false, done: false, promise: null };
    const retry = !ahead; // the panel's own request waits out a busy server; a prefetch does not
    request.promise = fetchFrames(snapshot, snapshot.iteration, 1, controller.signal, { retry }).then(({ header, frames }) => {
      this.store(key, header, frames);
    });
    this.single.set(id, request);
    request.promise.catch(() => {}).finally(() => {
      request.done = true;
      if (this.single.get(id) === request) this.single.delete(id);
    });
    return request;
  }

  // Fetch the chunk of CHUNK iterations starting at `from` (once; failures are dropped).
  prefetch(snapshot, from) {
    const key = frameKey(snapshot);
    const start = Math.min(from, ITERATIONS - 1);
    const count = Math.min(CHUNK, ITERATIONS - start);
    const id = `${key}|${start}`;
    if (this.requests.has(id) || count <= 0) return;
    const request = fetchFrames(snapshot, start, count, undefined, { retry: false })
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
