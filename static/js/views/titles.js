// Pictures in words, for a screen reader (not a view: the views import it). An SVG drawing
// that carries meaning is an image named by an SVG <title>, its first child (a pointer shows
// it as a tooltip too), and by the same words as its aria-label. A view calls titleSvg after
// each redraw (replaceChildren drops the old title), with words that say what it shows now.

import { svg } from "../dom.js";

export function titleSvg(node, words) {
  let title = node.firstElementChild;
  if (!title || title.localName !== "title") {
    title = svg("title");
    node.prepend(title);
  }
  title.textContent = words;
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", words);
  return node;
}

// A share in words: 0.248 -> "24.8 %".
export function share(fraction, digits = 1) {
  return fraction === null || fraction === undefined ? "–" : `${(100 * fraction).toFixed(digits)} %`;
}
