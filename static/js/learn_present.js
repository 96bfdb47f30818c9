// Present mode (/learn?present=1, or the Present button): one step per screen, the view large,
// for a projector. Next: → ↓ Page Down (what clickers send) and space; back: ← ↑ Page Up;
// R reveals the step's answer, so that the room can be polled first. The address follows the
// step shown (#<step>), so a lecture can start mid-path.

const NEXT = new Set(["ArrowRight", "ArrowDown", "PageDown", " "]);
const BACK = new Set(["ArrowLeft", "ArrowUp", "PageUp"]);

// Keys typed into a control stay the control's (a slider's arrows, a button's space).
function typing(target) {
  return target instanceof Element && target.closest("input, select, textarea, button, summary, a") !== null;
}

export class Presenter {
  // steps: the step articles in order; reveal(step): reveal its answer.
  constructor(steps, { reveal, changed }) {
    Object.assign(this, { steps, reveal, changed });
    this.index = 0;
    this.on = false;
    this.bar = document.getElementById("present-bar");
    this.position = document.getElementById("present-position");
    this.button = document.getElementById("present");
    document.getElementById("next-step").addEventListener("click", () => this.go(this.index + 1));
    document.getElementById("previous-step").addEventListener("click", () => this.go(this.index - 1));
    document.getElementById("leave-present").addEventListener("click", () => this.set(false));
    this.button.addEventListener("click", () => this.set(!this.on));
    document.addEventListener("keydown", (event) => this.#key(event));
  }

  // The step a hash names, or the first.
  indexOf(hash) {
    const k = this.steps.findIndex((step) => `#${step.id}` === hash);
    return k >= 0 ? k : 0;
  }

  set(on) {
    this.on = on;
    document.documentElement.classList.toggle("present", on);
    this.bar.hidden = !on;
    this.button.setAttribute("aria-pressed", String(on));
    const query = new URLSearchParams(window.location.search);
    if (on) query.set("present", "1");
    else query.delete("present");
    const search = query.size ? `?${query}` : "";
    window.history.replaceState(null, "", `${window.location.pathname}${search}${window.location.hash}`);
    if (on) this.go(this.indexOf(window.location.hash));
    else this.steps[this.index]?.scrollIntoView({ block: "start" });
    this.changed?.();
  }

  go(index) {
    if (index < 0 || index >= this.steps.length) return;
    this.steps[this.index]?.classList.remove("current");
    this.index = index;
    const step = this.steps[index];
    step.classList.add("current");
    // The neighbours' views load now (hidden, they ask for no frame): the next key press shows
    // a view that only has to draw.
    for (const near of [this.steps[index - 1], this.steps[index + 1]]) {
      const frame = near?.querySelector("iframe");
      if (frame) frame.loading = "eager";
    }
    this.position.textContent = `Step ${index + 1} of ${this.steps.length}`;
    window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}#${step.id}`);
    window.scrollTo(0, 0);
    step.querySelector("h3")?.focus({ preventScroll: true });
    this.changed?.();
  }

  #key(event) {
    if (!this.on || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (NEXT.has(event.key)) this.go(this.index + 1);
    else if (BACK.has(event.key)) this.go(this.index - 1);
    else if (event.key === "r" || event.key === "R") this.reveal(this.steps[this.index]);
    else return;
    event.preventDefault();
  }
}
