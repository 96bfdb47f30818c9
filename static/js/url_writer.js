// The page's address: written at once (a new history entry, or replacing the current one now),
// or throttled during drags and playback.

// `query()`: the address's query string for the current state.
export function urlWriter(query) {
  let urlTimer = null;

  return function writeUrl(mode) {
    if (mode === "push" || mode === "replace-now") {
      clearTimeout(urlTimer);
      urlTimer = null;
      if (mode === "push") window.history.pushState(null, "", query());
      else window.history.replaceState(null, "", query());
      return;
    }
    // Browsers throttle history updates: during drags and playback write at most 4 per second.
    // A throttle, not a debounce: a write already due is kept, and writes the state of its time,
    // so the address follows playback at any speed.
    if (urlTimer !== null) return;
    urlTimer = setTimeout(() => {
      urlTimer = null;
      window.history.replaceState(null, "", query());
    }, 250);
  };
}
