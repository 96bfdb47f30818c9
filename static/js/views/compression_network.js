// The compression view's network diagram: the network at a checkpoint, only its kept
// connections drawn, on the view's canvas (and, for digits, the input pixels in use).

import { element } from "../dom.js";
import { fmt } from "../stats.js";
import { BLUE, DIGITS, GREY, ORANGE, SKY, VERMILION, layerArrays, legend, rgb, ruleText, themeColours, thousands } from "./compression_parts.js";

// The network at this checkpoint: only the kept connections are drawn (the pruned ones
// vanish), neurons still in use filled, the others hollow (removed ones crossed out).
export function drawNetwork(view, frame, theory) {
  const canvas = view.netCanvas;
  const scale = Math.min(2, window.devicePixelRatio || 1);
  // Laid out in CSS pixels at the size it is shown (text at its true size), 0.6 as high as wide.
  const W = Math.max(240, Math.round(canvas.getBoundingClientRect().width) || 960);
  const H = Math.round(Math.min(Math.max(180, W * 0.6), Math.max(360, window.innerHeight - 200)));
  const small = W < 420;
  canvas.width = W * scale;
  canvas.height = H * scale;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  const colours = themeColours();
  ctx.fillStyle = colours.panel;
  ctx.fillRect(0, 0, W, H);
  const sizes = theory.sizes;
  const image = theory.image_shape;
  const top = 42;
  const bottom = 24;
  const mapCell = image ? Math.min(24, (H - top - bottom) / image[0], W / 40) : 0;
  const left = image ? 12 + image[1] * mapCell + 40 : 60;
  const right = theory.dataset === "digits" ? 44 : 70;
  const columnX = (l) => left + ((W - left - right) * l) / (sizes.length - 1);
  const spots = sizes.map((n, l) => {
    const spacing = (H - top - bottom) / n;
    return Array.from({ length: n }, (_, k) => ({ x: columnX(l), y: top + spacing * (k + 0.5), r: Math.max(1.6, Math.min(9, spacing * 0.38)) }));
  });
  // Connections, grouped by colour and strength: one path each (tens of thousands at step 0).
  let keptTotal = 0;
  const layers = sizes.slice(1).map((_, l) => layerArrays(frame, l));
  for (const layer of layers) for (let i = 0; i < layer.kept.length; i += 1) keptTotal += layer.kept[i];
  const width = keptTotal > 4000 ? 0.5 : keptTotal > 1000 ? 0.8 : 1.3;
  const fade = Math.min(1, Math.sqrt(1200 / Math.max(1, keptTotal))); // thousands of lines: lighter
  const BUCKETS = 6;
  layers.forEach((layer, l) => {
    const s = theory.weight_scale[l];
    const paths = Array.from({ length: 2 * BUCKETS }, () => new Path2D());
    for (let j = 0; j < layer.rows; j += 1) {
      for (let i = 0; i < layer.columns; i += 1) {
        const index = j * layer.columns + i;
        if (!layer.kept[index]) continue;
        const w = layer.value(index);
        const strength = Math.min(1, Math.abs(w) / s);
        const bucket = Math.min(BUCKETS - 1, Math.floor(strength * BUCKETS));
        const path = paths[(w >= 0 ? 0 : BUCKETS) + bucket];
        path.moveTo(spots[l][i].x, spots[l][i].y);
        path.lineTo(spots[l + 1][j].x, spots[l + 1][j].y);
      }
    }
    ctx.lineWidth = width;
    for (let bucket = 0; bucket < BUCKETS; bucket += 1) { // weak first, the two signs in turn
      for (const [offset, colour] of [[0, BLUE], [BUCKETS, ORANGE]]) {
        ctx.strokeStyle = colour;
        ctx.globalAlpha = fade * (0.18 + (0.82 * (bucket + 1)) / BUCKETS);
        ctx.stroke(paths[offset + bucket]);
      }
    }
  });
  ctx.globalAlpha = 1;
  // Neurons.
  const alive = frame.alive;
  const removed = frame.neurons?.kept ?? null; // structured BP: 0 = removed by its SNR
  spots.forEach((column, l) => column.forEach((spot, k) => {
    const on = alive[l][k] === 1;
    ctx.beginPath();
    ctx.arc(spot.x, spot.y, spot.r, 0, 2 * Math.PI);
    ctx.fillStyle = on ? colours.ink : colours.panel;
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = on ? colours.ink : GREY;
    ctx.stroke();
    if (removed && l < removed.length && removed[l][k] === 0) {
      const d = Math.max(2.5, spot.r * 0.9);
      ctx.strokeStyle = VERMILION;
      ctx.lineWidth = spot.r > 4 ? 2 : 1.2;
      ctx.beginPath();
      ctx.moveTo(spot.x - d, spot.y - d);
      ctx.lineTo(spot.x + d, spot.y + d);
      ctx.moveTo(spot.x + d, spot.y - d);
      ctx.lineTo(spot.x - d, spot.y + d);
      ctx.stroke();
    }
  }));
  // Labels: each column's width in use, the classes, the inputs.
  ctx.fillStyle = colours.ink;
  ctx.textAlign = "center";
  sizes.forEach((n, l) => {
    const inUse = alive[l].reduce((a, b) => a + b, 0);
    const name = l === 0 ? "inputs" : l === sizes.length - 1 ? "outputs" : `hidden ${l}`;
    ctx.font = `600 ${small ? 10 : W < 700 ? 12 : 14}px system-ui, sans-serif`;
    ctx.fillText(name, columnX(l), 13);
    ctx.font = `${small ? 9 : W < 700 ? 11 : 13}px system-ui, sans-serif`;
    ctx.fillText(l === sizes.length - 1 ? `${n}` : `${inUse} of ${n} in use`, columnX(l), 28);
  });
  ctx.font = `${small ? 10 : 13}px system-ui, sans-serif`;
  ctx.textAlign = "left";
  const classes = sizes[sizes.length - 1];
  spots[spots.length - 1].forEach((spot, k) => {
    ctx.fillText(theory.dataset === "digits" ? `“${DIGITS[k]}”` : `class ${k}`, spot.x + spot.r + 6, spot.y + 4);
  });
  if (!image) {
    ctx.textAlign = "right";
    spots[0].forEach((spot, k) => ctx.fillText(`x${k + 1}`, spot.x - spot.r - 6, spot.y + 4));
  } else {
    pixelMap(ctx, frame, theory, { x: 12, y: top + (H - top - bottom - image[0] * mapCell) / 2, cell: mapCell }, colours);
  }
  const hidden = alive.slice(1, -1).flat();
  view.netCaption.replaceChildren(
    element("span", { class: "title", text: `Iteration ${frame.iteration}: step ${frame.step} of ${theory.steps} (epoch ${fmt(frame.epoch, 1)})` }), " ",
    element("span", { class: "detail", text: `${thousands(frame.weights_kept)} of ${thousands(frame.weights)} connections kept (${ruleText(theory)} pruned); ${classes} classes` }),
  );
  view.netCanvas.setAttribute("aria-label", `the network at iteration ${frame.iteration}: ${frame.weights_kept} of ${frame.weights} connections kept, `
    + `${hidden.filter((a) => a === 1).length} of ${hidden.length} hidden neurons in use`);
  const items = [
    [BLUE, "weight > 0", "line"], [ORANGE, "weight < 0", "line"],
    [colours.ink, "neuron in use", "ring"], [GREY, "neuron with no kept path (hollow)", "ring"],
  ];
  if (removed) items.push([VERMILION, "neuron removed (SNR at or below the threshold)", "box"]);
  if (image) items.push([SKY, "input pixel in use (darker: more kept connections; white: none)", "box"]);
  view.netLegend.replaceChildren(legend(items), element("p", { class: "help", text: "Only kept connections are drawn, darker for a larger |weight|: a pruned connection vanishes. Move the threshold and the diagram follows without training again." }));
}

// Digits: the 8 × 8 input pixels, each shaded by its kept outgoing connections.
function pixelMap(ctx, frame, theory, { x, y, cell }, colours) {
  const [rows, columns] = theory.image_shape;
  const first = layerArrays(frame, 0);
  const counts = new Array(rows * columns).fill(0);
  for (let j = 0; j < first.rows; j += 1) {
    for (let i = 0; i < first.columns; i += 1) counts[i] += first.kept[j * first.columns + i];
  }
  const most = Math.max(1, ...counts);
  const alive = frame.alive[0];
  const sky = rgb(SKY);
  const blank = rgb(colours.panel); // a pixel out of use: the background (white in light)
  for (let k = 0; k < rows * columns; k += 1) {
    const t = alive[k] ? 0.25 + 0.75 * (counts[k] / most) : 0;
    const c = blank.map((w, m) => Math.round(w + (sky[m] - w) * t));
    ctx.fillStyle = `rgb(${c.join(",")})`;
    ctx.fillRect(x + (k % columns) * cell, y + Math.floor(k / columns) * cell, cell - 1, cell - 1);
  }
  ctx.strokeStyle = colours.line;
  ctx.lineWidth = 1;
  ctx.strokeRect(x - 0.5, y - 0.5, columns * cell, rows * cell);
  ctx.fillStyle = colours.ink;
  ctx.font = "13px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.fillText("the 64 pixels:", x, y - 24);
  ctx.fillText("in use", x, y - 8);
  ctx.fillText("(the inputs, row", x, y + rows * cell + 16);
  ctx.fillText("by row, at right)", x, y + rows * cell + 32);
}
