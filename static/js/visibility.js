// Whether the page is in sight: its tab shown and its frame on screen (an embed scrolled away,
// or on a slide that reveal.js hid, is not). onChange(visible) on every change.
//
// It starts out of sight: an iframe that is display:none from the start (a slide not shown
// yet) never gets an IntersectionObserver callback in Chromium, so "in sight" must be earned
// by the observer's first report, which a shown frame gets at once.
export function watchVisibility(onChange) {
  let inView = false;
  let visible = false;
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
