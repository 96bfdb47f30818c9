// What a screen reader hears of the frames: one short sentence per frame in a polite live
// region (aria-live="polite", aria-atomic), throttled so that playing does not flood it.
// While playing, at most one sentence every PLAYING_INTERVAL_MS (the latest frame's); when
// the user steps, scrubs or moves a slider, the sentence of the frame it settles on.

export const PLAYING_INTERVAL_MS = 5000;
const SETTLE_MS = 400;

// The view's own sentence (`announce(frame, theory)`), else its first statistics row.
export function frameSentence(instance, frame, theory) {
  const own = instance.announce?.(frame, theory);
  if (own) return own;
  const [first] = instance.numbers(frame, theory);
  if (!first) return `Iteration ${frame.iteration}.`;
  const expected = first.expected === undefined ? "" : `, expected ${first.expected}`;
  return `Iteration ${frame.iteration}: ${first.term} ${first.measured}${expected}.`;
}

export class Announcer {
  // node: the live region; said(text): told of each sentence spoken (tests read it).
  constructor(node, said = () => {}) {
    this.node = node;
    this.said = said;
    this.pending = "";
    this.timer = null;
    this.spokenAt = -Infinity;
  }

  // A frame is on screen; `playing`: more follow on their own.
  frame(text, playing) {
    this.pending = text;
    if (playing) {
      if (this.timer !== null) return; // a sentence is already due: it will say the latest
      const wait = Math.max(SETTLE_MS, this.spokenAt + PLAYING_INTERVAL_MS - performance.now());
      this.timer = setTimeout(() => this.#say(), wait);
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#say(), SETTLE_MS);
  }

  #say() {
    this.timer = null;
    if (this.pending === this.node.textContent) return;
    this.node.textContent = this.pending;
    this.spokenAt = performance.now();
    this.said(this.pending);
  }
}
