// The charts of a painted frame, at most every 150 ms while frames pour in.

// The view that painted the frame draws its charts, if it is still the one on screen
// (`onScreen()`: the view instance on screen now).
export function chartsDrawer(charts, onScreen) {
  let chartsDrawnAt = -Infinity;
  let chartsTimer = null;

  return function drawChartsSoon(instance, frame, header) {
    clearTimeout(chartsTimer);
    const wait = chartsDrawnAt + 150 - performance.now();
    const draw = () => {
      if (onScreen() !== instance) return;
      chartsDrawnAt = performance.now();
      charts.drawBars(instance.bars(frame, header.theory));
      charts.markIteration(frame.iteration);
    };
    if (wait <= 0) draw();
    else chartsTimer = setTimeout(draw, wait);
  };
}
