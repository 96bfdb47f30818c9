// Reduced motion (prefers-reduced-motion: reduce): the page, a comparison and the embed open
// paused on their frame, with Play visible; pressing Play still plays.

export function reducedMotion() {
  return window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
}

// Whether to open playing, when the link asks for `asked`.
export function openPlaying(asked) {
  return asked && !reducedMotion();
}
