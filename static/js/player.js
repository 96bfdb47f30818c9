// The player: play, pause, step, scrub and speed, with the keyboard (space, ←, →). It moves
// state.iteration through the hooks it is given and knows nothing of views or frames.

import { ITERATIONS } from "./state.js";

export class Player {
  // hooks: state() the current state; canPlay() whether the current view animates;
  // goTo(iteration) show that iteration; ready(iteration) whether its frame is at hand;
  // fetch(iteration) ask for it; changed() the state changed (write the URL).
  constructor(root, hooks) {
    this.hooks = hooks;
    this.button = root.querySelector("#play");
    this.scrub = root.querySelector("#scrub");
    this.speed = root.querySelector("#speed");
    this.back = root.querySelector("#step-back");
    this.forward = root.querySelector("#step-forward");
    this.timer = null;
    this.pointing = false; // the last input was a pointer (a click), not a key
    this.focusByKeyboard = false; // the focused element was reached with the keyboard
  }

  get state() {
    return this.hooks.state();
  }

  setPlaying(on, write = true) {
    const state = this.state;
    state.playing = on && this.hooks.canPlay();
    this.button.textContent = state.playing ? "Pause" : "Play";
    this.button.setAttribute("aria-pressed", String(state.playing));
    clearTimeout(this.timer);
    if (state.playing) this.#schedule();
    if (write) this.hooks.changed();
  }

  step(by) {
    this.hooks.goTo((this.state.iteration + by + ITERATIONS) % ITERATIONS);
  }

  showIteration(iteration) {
    this.scrub.value = iteration;
  }

  #schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#tick(), 1000 / this.state.speed);
  }

  #tick() {
    const state = this.state;
    if (!state.playing) return;
    if (document.hidden) {
      this.#schedule();
      return;
    }
    const next = (state.iteration + 1) % ITERATIONS;
    if (!this.hooks.ready(next)) {
      this.hooks.fetch(next);
      this.#schedule(); // wait for the chunk rather than stutter
      return;
    }
    this.hooks.goTo(next);
    this.#schedule();
  }

  wire() {
    this.button.addEventListener("click", () => this.setPlaying(!this.state.playing));
    this.back.addEventListener("click", () => this.step(-1));
    this.forward.addEventListener("click", () => this.step(1));
    this.scrub.addEventListener("input", (event) => this.hooks.goTo(Number(event.target.value)));
    this.speed.value = String(this.state.speed);
    this.speed.addEventListener("change", () => {
      this.state.speed = Number(this.speed.value);
      this.hooks.changed();
      if (this.state.playing) this.#schedule();
    });
    document.addEventListener("keydown", (event) => this.#key(event));
    // How the focus came where it is: a click or the keyboard (:focus-visible cannot tell at
    // keydown, when every focused element matches it).
    document.addEventListener("pointerdown", () => { this.pointing = true; }, true);
    document.addEventListener("keydown", () => { this.pointing = false; }, true);
    document.addEventListener("focusin", () => { this.focusByKeyboard = !this.pointing; }, true);
  }

  // Keys stay with fields that use them: text and number fields, checkboxes, selects, dialogs,
  // and the arrows of a focused slider or tab list. Space plays/pauses everywhere else, also
  // over a button that a click focused (so it works right after a click); but a button, link
  // or tab reached with the keyboard keeps Space, which activates it.
  #key(event) {
    const target = event.target;
    const typing = target.closest?.("select, textarea, dialog[open], input:not([type=range])");
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " ") {
      const activates = target.matches?.("button, a[href], summary, [role=tab], [role=button]");
      if (activates && this.focusByKeyboard) return;
      event.preventDefault();
      this.setPlaying(!this.state.playing);
      return;
    }
    const ownArrows = target.matches?.("input[type=range]:not(#scrub), [role=tab]");
    if (ownArrows) return;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      this.step(event.key === "ArrowRight" ? 1 : -1);
    }
  }
}
