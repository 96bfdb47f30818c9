// Slider prefetch: while a person holds a slider of the parameter form (the pointer down on
// it, or its keys in use), the frames of the values next to it, in the direction it moves, are
// fetched into the frame cache under the keys the panel asks for (the current iteration, one
// frame, as FrameCache.frame asks), so that a drag paints from the cache.
//
// Bounded: at most MAX_IN_FLIGHT requests on their way and KEPT keys brought into the cache.
// A request for a value that is no longer a neighbour is aborted; nothing is asked once the
// slider is released, while the page is hidden, or for a view whose class says
// `static prefetch = false` (frames that need a trained run). A failed prefetch (a 503 from a
// busy server, say) is not retried, and a 503 ends prefetching until the next hold. The
// panel's own request never waits behind a prefetch: it joins the one for its frame if it is
// on its way, and the others are few and aborted as soon as they are not near the value.

import { snapshotOf } from "./panel.js";
import { frameKey } from "./state.js";

export const MAX_IN_FLIGHT = 4;
const AHEAD = 6; // values wanted ahead of the slider, in the direction of motion
const KEPT = 12; // prefetched keys kept in the cache
const KEY_HOLD_MS = 1500; // the keys hold a slider this long after the last key press
const KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"]);

export class SliderPrefetch {
  // form: where the sliders are (input[type=range][data-param]); cache: a FrameCache;
  // hooks: state() the state on screen, allowed() whether its view takes prefetches;
  // stats: an object to count in (window.dropoutLab.prefetch); stats.enabled switches it.
  constructor(form, cache, hooks, stats) {
    Object.assign(this, { form, cache, hooks, stats });
    Object.assign(stats, { held: false, started: 0, aborted: 0, failed: 0, joined: 0, inFlight: 0, maxInFlight: 0 });
    this.slider = null; // the slider held
    this.pointer = false; // held by the pointer (else by the keys)
    this.keyTimer = null;
    this.last = null; // { name, index } of the last value seen
    this.direction = 0;
    this.stride = 1;
    this.landing = false; // the press itself may move the value: where it landed, not a motion
    this.refused = false; // a 503 during this hold
    this.failedKeys = new Set(); // frames that failed during this hold: never asked again
    this.inFlight = new Map(); // frame id -> request
    this.kept = []; // keys this brought into the cache, oldest first
  }

  wire() {
    const sliderOf = (event) => event.target.closest?.('input[type="range"][data-param]');
    this.form.addEventListener("pointerdown", (event) => {
      const slider = sliderOf(event);
      if (slider) this.#hold(slider, true);
    });
    window.addEventListener("pointerup", () => this.#letGo(true), true);
    window.addEventListener("pointercancel", () => this.#letGo(true), true);
    this.form.addEventListener("keydown", (event) => {
      const slider = sliderOf(event);
      if (!slider || !KEYS.has(event.key) || this.pointer) return;
      this.#hold(slider, false);
      clearTimeout(this.keyTimer);
      this.keyTimer = setTimeout(() => this.#letGo(false), KEY_HOLD_MS);
    });
    this.form.addEventListener("focusout", () => this.#letGo(false));
    // After the form's own listeners (the panel's request for the value goes out first).
    this.form.addEventListener("input", (event) => {
      if (this.slider !== null && sliderOf(event) === this.slider) this.#moved();
    });
    document.addEventListener("visibilitychange", () => this.plan());
  }

  // Ask again for what is near the slider (the iteration changed, a prefetch ended).
  plan() {
    if (this.landing) return; // planned when the press has landed
    const wanted = this.#wanted();
    const ids = new Set(wanted.map(({ snapshot }) => `${frameKey(snapshot)}#${snapshot.iteration}`));
    for (const [id, request] of this.inFlight) {
      if (!ids.has(id)) this.#abort(request);
    }
    for (const { snapshot } of wanted) {
      if (this.inFlight.size >= MAX_IN_FLIGHT) break;
      const key = frameKey(snapshot);
      if (this.failedKeys.has(key) || this.cache.has(key, snapshot.iteration)) continue;
      this.#start(snapshot, key);
    }
  }

  #hold(slider, pointer) {
    if (this.slider !== slider) {
      this.#cancel();
      this.last = null;
      this.direction = 0;
      this.stride = 1;
    }
    if (!this.stats.held) {
      this.direction = 0; // a new hold: no motion seen yet
      this.stride = 1;
      this.refused = false;
      this.failedKeys.clear();
    }
    this.slider = slider;
    const pressed = pointer && !this.pointer;
    this.pointer = this.pointer || pointer;
    this.stats.held = true;
    if (pressed) {
      // A press on the track sets the value in the same task as pointerdown: a jump to where
      // the hand landed, which says nothing of the stride or direction of the drag to come.
      // Plan once it has landed, not around the value it leaves.
      this.landing = true;
      setTimeout(() => {
        this.landing = false;
        this.last = null; // the drag starts here
        this.#remember();
        this.plan();
      }, 0);
      return;
    }
    this.#remember();
    this.plan();
  }

  #letGo(pointer) {
    if (!this.slider || (pointer ? !this.pointer : this.pointer)) return;
    clearTimeout(this.keyTimer);
    this.slider = null;
    this.pointer = false;
    this.stats.held = false;
    this.#cancel();
  }

  #cancel() {
    for (const request of this.inFlight.values()) this.#abort(request);
  }

  // Abort a request no longer wanted; one the panel has joined goes on, and keeps its place
  // until it is answered (it is on the network all the same).
  #abort(request) {
    if (this.cache.abort(request)) {
      this.stats.aborted += 1;
      this.inFlight.delete(request.id);
      this.stats.inFlight = this.inFlight.size;
    } else if (!request.counted) {
      request.counted = true;
      this.stats.joined += 1;
    }
  }

  // The slider's value as an index on its step grid, and its direction of motion.
  #remember() {
    if (!this.slider) return;
    const index = this.#index();
    if (index === null) return;
    const name = this.slider.dataset.param;
    if (this.last?.name === name && index !== this.last.index) {
      const delta = index - this.last.index;
      this.direction = Math.sign(delta);
      this.stride = Math.abs(delta);
    }
    this.last = { name, index };
  }

  #moved() {
    if (this.landing) return; // the press's own jump: remembered when it has landed
    this.#remember();
    this.plan();
  }

  #grid() {
    const min = Number(this.slider.min);
    const max = Number(this.slider.max);
    const step = Number(this.slider.step) || 1;
    return { min, max, step, last: Math.round((max - min) / step) };
  }

  #index() {
    const value = this.hooks.state().params[this.slider.dataset.param];
    if (typeof value !== "number") return null; // "auto", or not a number parameter
    const { min, step } = this.#grid();
    return Math.round((value - min) / step);
  }

  // The value at `index` of the grid as the slider gives it (controls.js: ints rounded).
  #valueAt(index) {
    const { min, step } = this.#grid();
    const value = Number((min + index * step).toFixed(10));
    return Number.isInteger(Number(this.slider.step)) && Number.isInteger(min) ? Math.round(value) : value;
  }

  // The snapshots to have in the cache, most wanted first: the value itself (the panel may
  // still be busy with an earlier one), then ahead, nearest to the next expected value first
  // (one stride on, then two); before any motion, two on each side.
  #wanted() {
    if (!this.slider || !this.stats.enabled || this.refused || document.hidden || this.slider.disabled) return [];
    if (!this.hooks.allowed()) return [];
    const state = this.hooks.state();
    const index = this.#index();
    if (index === null || state.view === null) return [];
    let offsets;
    if (this.direction === 0) {
      offsets = [0, 1, -1, 2, -2];
    } else {
      // A hand moves the slider by about the same stride each time, give or take a step.
      const s = this.stride;
      const ahead = [...new Set([s, s + 1, s - 1, 2 * s, 2 * s + 1, 2 * s - 1, 2 * s + 2])].filter((k) => k > 0).slice(0, AHEAD);
      // Nothing behind: on a busy server the places are few, and a drag rarely turns back.
      offsets = [0, ...ahead.map((k) => k * this.direction)];
    }
    const { last } = this.#grid();
    const name = this.slider.dataset.param;
    return offsets
      .map((offset) => index + offset)
      .filter((at) => at >= 0 && at <= last)
      .map((at) => {
        const snapshot = snapshotOf(state);
        snapshot.params[name] = this.#valueAt(at);
        return { snapshot };
      });
  }

  #start(snapshot, key) {
    const request = this.cache.ahead(snapshot);
    if (!request) return;
    this.inFlight.set(request.id, request);
    this.stats.started += 1;
    this.stats.inFlight = this.inFlight.size;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight.size);
    request.promise.then(
      () => this.#keep(key),
      (error) => {
        if (error?.name === "AbortError") return;
        this.stats.failed += 1;
        this.failedKeys.add(key);
        if (error?.status === 503) this.refused = true;
      },
    ).finally(() => {
      if (this.inFlight.get(request.id) === request) {
        this.inFlight.delete(request.id);
        this.stats.inFlight = this.inFlight.size;
      }
      this.plan(); // a place is free, or the panel's joined request is answered
    });
  }

  // At most KEPT prefetched keys stay in the cache (the one on screen always does).
  #keep(key) {
    this.kept = this.kept.filter((kept) => kept !== key);
    this.kept.push(key);
    const shown = frameKey(this.hooks.state());
    while (this.kept.length > KEPT) {
      const oldest = this.kept.shift();
      if (oldest !== shown) this.cache.forget(oldest);
    }
  }
}
