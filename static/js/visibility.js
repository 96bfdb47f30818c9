// Whether the page is in sight: its tab shown and its frame on screen (an embed scrolled away,
// or on a slide that reveal.js hid, is not). onChange(visible) on every change.
export function watchVisibility(onChange) {
  let inView = true;
  let visible = true;
  const update = () => {
    const now = inView && !document.hidden;
    if (now === visible) return;
    visible = now;
    onChange(visible);
  };
  new IntersectionObserver((entries) => {
    inView = entries.some((entry) => entry.isIntersecting);
    update();
  }).observe(document.body);
  document.addEventListener("visibilitychange", update);
}
