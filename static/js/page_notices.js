// The page's notices: the error line, an error shown (sticky or not) and cleared (each message
// shown is also counted in `errors`, the page's probe, for the tests); the link's corrections.

const $ = (selector) => document.querySelector(selector);

export function errorLine(errors) {
  // A sticky error explains a change the page made for the user (an unknown upload replaced by
  // the cat): the next painted frame keeps it; the user's next choice of image or method clears it.
  function showError(error, { sticky = false } = {}) {
    const node = $("#error");
    node.textContent = error.message;
    node.hidden = false;
    node.dataset.sticky = String(sticky);
    errors.push(error.message);
  }

  function clearError({ force = false } = {}) {
    const node = $("#error");
    if (force || node.dataset.sticky !== "true") node.hidden = true;
    if (force) $("#link-notice").hidden = true;
  }

  return { showError, clearError };
}

// A link that asked for something out of range is shown corrected, and the page says so.
export function showLinkNotes(notes) {
  const node = $("#link-notice");
  node.textContent = notes.length ? `This link was adjusted: ${notes.join("; ")}.` : "";
  node.hidden = notes.length === 0;
}
