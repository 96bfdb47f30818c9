// "Why pixel dropout fails, measured": under the image view of the four methods it compares,
// the PSNR of reconstructing the dropped pixels of the current picture from the kept ones,
// against the dropped fraction, and one example reconstruction of each. Computed by the
// server (GET /api/reconstruction); fetched only when the section comes into view.

import { fetchJson } from "../api.js";
import { OKABE_ITO } from "../colours.js";
import { loadPlotly } from "../plotly.js";
import { element } from "../dom.js";

const METHODS = ["standard", "cutout", "dropblock", "spatial"];
const NAMES = { standard: "standard (pixels)", cutout: "Cutout", dropblock: "DropBlock", spatial: "spatial (channels)" };
// Colour, dash and marker differ, so that the curves stay apart in grey and for colour blindness.
const STYLES = {
  standard: { color: OKABE_ITO.blue, dash: "solid", symbol: "circle" },
  cutout: { color: OKABE_ITO.vermilion, dash: "dash", symbol: "square" },
  dropblock: { color: OKABE_ITO.green, dash: "dot", symbol: "diamond" },
  spatial: { color: OKABE_ITO.orange, dash: "dashdot", symbol: "triangle-up" },
};

export class ReconstructionPanel {
  constructor(extra, context) {
    this.context = context;
    this.wanted = null; // { image, seed } of the state shown by the page
    this.shown = null; // key (image|seed) of the study on screen, null when nothing is
    this.request = null; // { key, controller } of the study on its way
    this.visible = false;
    this.chart = element("div", {
      class: "psnr-chart", role: "img", "aria-label": "reconstruction PSNR against the dropped fraction", "aria-describedby": "psnr-summary",
    });
    this.summary = element("p", { class: "visually-hidden", id: "psnr-summary" });
    this.examples = element("div", { class: "psnr-examples" });
    this.status = element("p", { class: "help", "aria-live": "polite" });
    this.section = element("section", { class: "reconstruction", "aria-labelledby": "why-title", hidden: "" }, [
      element("h2", { id: "why-title", text: "Why pixel dropout fails on images, measured" }),
      element("p", {
        class: "why-text",
        text: "Neighbouring pixels are correlated, so a dropped pixel can be guessed from the kept ones around it: "
          + "pixel dropout removes almost no information. Here each method drops the same expected fraction of this "
          + "picture; the dropped pixels are then reconstructed from what was kept (normalised convolution with a "
          + "small Gaussian window), and the PSNR measures how well. Higher means less information was removed.",
      }),
      element("div", { class: "psnr" }, [element("figure", { class: "psnr-figure" }, [this.chart, this.summary]), this.examples]),
      this.status,
    ]);
    extra.append(this.section);
    this.observer = new IntersectionObserver((entries) => {
      this.visible = entries.some((entry) => entry.isIntersecting);
      this.#follow();
    }, { rootMargin: "200px" });
    this.observer.observe(this.section);
  }

  destroy() {
    this.observer.disconnect();
    this.request?.controller.abort();
    this.section.remove();
  }

  // Shown under the four methods it compares, for the page's picture and seed: what it shows
  // of another picture goes at once; the new study is asked for once it is (nearly) on screen.
  show(state) {
    const shown = METHODS.includes(state.method);
    this.section.hidden = !shown;
    if (!shown) return;
    this.wanted = { image: state.image, seed: state.seed };
    this.#follow();
  }

  #follow() {
    if (!this.wanted) return;
    const key = `${this.wanted.image}|${this.wanted.seed}`;
    if (this.shown !== null && this.shown !== key) this.#clear();
    if (this.shown === key || this.request?.key === key) return;
    this.request?.controller.abort(); // an answer for another picture must never land
    this.request = null;
    if (this.visible) this.#fetch(this.wanted, key);
  }

  // Nothing of another picture stays on screen while this one's study is measured.
  #clear() {
    this.shown = null;
    delete this.section.dataset.image;
    delete this.section.dataset.seed;
    window.Plotly?.purge(this.chart);
    this.summary.textContent = "";
    this.examples.replaceChildren();
  }

  async #fetch({ image, seed }, key) {
    const controller = new AbortController();
    this.request = { key, controller };
    this.status.textContent = "Measuring on this picture…";
    try {
      const study = await fetchJson("/api/reconstruction", { image, seed: String(seed) }, controller.signal);
      const Plotly = await loadPlotly();
      if (controller.signal.aborted) return;
      this.#draw(Plotly, study);
      this.shown = key;
      Object.assign(this.section.dataset, { image, seed: String(seed) });
      this.status.textContent = "";
    } catch (error) {
      if (controller.signal.aborted) return;
      this.status.textContent = `The measurement failed: ${error.message}`;
    } finally {
      if (this.request?.controller === controller) this.request = null;
    }
  }

  #draw(Plotly, study) {
    const percent = (fractions) => fractions.map((f) => 100 * f);
    const traces = study.curves.map((curve) => ({
      x: percent(curve.fractions),
      y: curve.psnr,
      type: "scatter",
      mode: "lines+markers",
      name: NAMES[curve.method],
      line: { color: STYLES[curve.method].color, dash: STYLES[curve.method].dash, width: 3 },
      marker: { symbol: STYLES[curve.method].symbol, size: 8 },
      text: curve.setting,
      hovertemplate: "%{x:.0f} %% dropped: %{y:.1f} dB<br>%{text}<extra>%{fullData.name}</extra>",
    }));
    const style = getComputedStyle(document.documentElement);
    const ink = style.getPropertyValue("--ink").trim() || "#111";
    const grid = style.getPropertyValue("--line").trim() || "#ddd";
    const size = Math.round((parseFloat(style.fontSize) || 17) * 0.8);
    Plotly.react(this.chart, traces, {
      title: { text: "reconstruction PSNR (dB) against the fraction dropped", font: { size: size + 2 }, x: 0.01, xanchor: "left" },
      margin: { l: 56, r: 16, t: 40, b: 90 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { size, color: ink },
      xaxis: { title: { text: "dropped (%)" }, gridcolor: grid, zeroline: false },
      yaxis: { title: { text: "PSNR (dB)" }, gridcolor: grid, zeroline: false },
      legend: { orientation: "h", x: 0, y: -0.25, yanchor: "top" },
    }, { displayModeBar: false, responsive: true });
    this.summary.textContent = describeStudy(study);
    this.examples.replaceChildren(...study.examples.map((example) => {
      const picture = element("img", {
        src: example.reconstruction,
        alt: `${NAMES[example.method]}: the picture rebuilt from what it kept`,
      });
      const caption = element("figcaption", {}, [
        element("span", { class: "title", text: NAMES[example.method] }),
        " ",
        element("span", {
          class: "detail",
          text: `${(100 * example.dropped).toFixed(0)} % dropped, rebuilt: ${psnrWords(example.psnr)}`,
        }),
      ]);
      return element("figure", { class: "psnr-example", "data-method": example.method }, [caption, picture]);
    }));
  }
}

function psnrWords(psnr) {
  return psnr === null ? "exactly" : `${psnr.toFixed(1)} dB`;
}

// The chart in words, for a screen reader: each method's PSNR at the lowest and the highest
// fraction dropped.
function describeStudy(study) {
  const parts = study.curves.map((curve) => {
    const last = curve.psnr.length - 1;
    return `${NAMES[curve.method]}: ${psnrWords(curve.psnr[0])} at ${(100 * curve.fractions[0]).toFixed(0)} % dropped, `
      + `${psnrWords(curve.psnr[last])} at ${(100 * curve.fractions[last]).toFixed(0)} %`;
  });
  return `Reconstruction PSNR of this picture, higher is better. ${parts.join("; ")}.`;
}
