(() => {
  "use strict";
  const images = JSON.parse(document.getElementById("images").textContent);
  const meta = JSON.parse(document.getElementById("meta").textContent);
  const frames = meta.frames;
  const count = frames.length;
  const $ = (id) => document.getElementById(id);
  const picture = $("frame");
  const play = $("play");
  const scrub = $("scrub");
  let index = 0;
  let timer = null;
  let wanted = 0;

  function fmt(value, digits) {
    return value === null || value === undefined ? "\u2013" : Number(value).toFixed(digits ?? 3);
  }

  function show(next) {
    index = ((next % count) + count) % count;
    const frame = frames[index];
    const url = images[frame.image];
    const token = ++wanted;
    // Decode off screen first, then swap: no blank frame between two pictures.
    const probe = new Image();
    probe.src = url;
    probe.decode().catch(() => {}).then(() => {
      if (token === wanted) {
        picture.src = url;
        picture.dataset.frame = String(index);
      }
    });
    picture.alt = `${meta.alt}, iteration ${frame.iteration}`;
    $("iteration").textContent = String(frame.iteration);
    $("frame-number").textContent = String(index + 1);
    scrub.value = String(index);
    for (const cell of document.querySelectorAll("[data-stat]")) {
      const panel = Number(cell.dataset.panel);
      cell.textContent = fmt(frame.stats[panel][cell.dataset.stat], Number(cell.dataset.digits));
    }
    const marker = $("marker");
    if (marker) {
      const x = meta.chart.left + (count > 1 ? index / (count - 1) : 0) * meta.chart.width;
      marker.setAttribute("x1", x.toFixed(1));
      marker.setAttribute("x2", x.toFixed(1));
    }
  }

  function setPlaying(playing) {
    if (playing === (timer !== null)) return;
    if (playing) {
      timer = setInterval(() => show(index + 1), 1000 / meta.fps);
    } else {
      clearInterval(timer);
      timer = null;
    }
    play.textContent = playing ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(playing));
    play.setAttribute("aria-label", playing ? "pause" : "play");
  }

  play.addEventListener("click", () => setPlaying(timer === null));
  $("back").addEventListener("click", () => { setPlaying(false); show(index - 1); });
  $("forward").addEventListener("click", () => { setPlaying(false); show(index + 1); });
  scrub.addEventListener("input", () => { setPlaying(false); show(Number(scrub.value)); });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " " || event.key === "Spacebar") {
      if (event.target instanceof HTMLButtonElement) return; // the button's own click toggles
      event.preventDefault();
      setPlaying(timer === null);
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      if (event.target === scrub) return; // the slider steps itself
      event.preventDefault();
      setPlaying(false);
      show(index + (event.key === "ArrowRight" ? 1 : -1));
    }
  });
  show(0);
  if (location.hash === "#play") setPlaying(true);
})();
