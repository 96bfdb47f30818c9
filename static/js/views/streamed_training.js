// What every training panel shares (the dense view's, Monte Carlo dropout's, compression's,
// the LSTM memory task's): a form of the run's settings, Train and Stop, a status line, a probe
// for the tests, and one run at a time streamed from the server (a new run, Stop or leaving
// the page aborts the request, and the server stops training it). The first run starts when
// the panel comes into view. A panel extends it with its own drawing and its events.

import { readRunEvents, runFailure } from "../api.js";
import { renderControls } from "../controls.js";
import { element, quietForm } from "../dom.js";

export class StreamedTraining {
  // probe: the panel's initial probe, published as window.dropoutLab[probeName].
  constructor(context, { probe, probeName, formLabel = "training parameters", buttonText = "Train" }) {
    this.context = context;
    this.controller = null;
    this.started = null; // the key of the run shown or under way
    this.probe = probe;
    if (window.dropoutLab) window.dropoutLab[probeName] = this.probe;
    this.form = quietForm({ class: "params training-params", "aria-label": formLabel });
    this.button = element("button", { type: "button", class: "button primary", text: buttonText });
    this.button.addEventListener("click", () => this.run());
    this.stop = element("button", { type: "button", class: "button", text: "Stop", hidden: true });
    this.stop.addEventListener("click", () => this.abort("stopped"));
    this.status = element("p", { class: "training-status", role: "status", "aria-live": "polite" });
  }

  // The controls' column: the form, Train and Stop, the status, then `more`.
  controlsColumn(more = []) {
    return element("div", { class: "training-controls" }, [this.form, element("div", { class: "row" }, [this.button, this.stop]), this.status, ...more]);
  }

  // The panel's section, appended to `extra`: its title, why it is there, the grid of the
  // controls' column (then `controls`) beside `figures`, then `after`. Its first run starts
  // when it is seen.
  mount(extra, { className = "", titleId, title, why, gridClass = "", controls = [], figures, after = [] }) {
    const section = element("section", { class: `training ${className}`.trim(), "aria-labelledby": titleId }, [
      element("h2", { id: titleId, text: title }),
      element("p", { class: "why-text", text: why }),
      element("div", { class: `training-grid ${gridClass}`.trim() }, [this.controlsColumn(controls), ...figures]),
      ...after,
    ]);
    extra.append(section);
    this.startWhenSeen(section);
  }

  // The address of the view's training stream with `query` (GET /api/train?view=<id>&…).
  trainUrl(query) {
    return `/api/train?view=${encodeURIComponent(this.context.viewSpec().id)}&${query}`;
  }

  // Start the first run when `section` comes into view (the defaults show the point at once).
  startWhenSeen(section) {
    this.section = section;
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && this.started === null) this.run();
    }, { rootMargin: "100px" });
    this.observer.observe(section);
  }

  // The form shows the view's settings of `group`, rebuilt only when they change (not on every
  // frame: a drag on these sliders must survive playback). A new setting (a link, back or
  // forward, a slider) gets its run once one was shown, after a pause, so that a drag asks for
  // one run. Needs the panel's query(state).
  showSettings(state, group) {
    const spec = this.context.viewSpec?.() ?? null;
    const params = (spec?.params ?? []).filter((param) => param.group === group);
    const shown = JSON.stringify(params.map((param) => state.params[param.name]));
    if (shown !== this.shown) {
      this.shown = shown;
      renderControls(this.form, { methodParams: params, viewParams: [], seedParam: null }, state, (name, value, phase) => {
        this.context.setParam(name, value, phase);
      }, () => null);
    }
    clearTimeout(this.again);
    if (this.started !== null && this.query(state).toString() !== this.started) {
      this.again = setTimeout(() => {
        if (this.query().toString() !== this.started) this.run();
      }, 400);
    }
  }

  destroy() {
    clearTimeout(this.again);
    this.observer?.disconnect();
    this.abort("left");
    this.section?.remove();
  }

  abort(why) {
    if (!this.controller) return;
    this.controller.abort();
    this.controller = null;
    this.button.disabled = false;
    this.stop.hidden = true;
    this.probe.state = why;
    this.status.textContent = why === "stopped" ? "Stopped." : "";
  }

  // Stream the run `key` from `url` into `handlers` (event name to function); `fresh` resets the
  // probe's per-run fields. Resolves when the run ends, fails (said in the status) or is aborted.
  async stream(key, url, handlers, fresh) {
    this.abort("replaced"); // a new run replaces the one under way
    this.started = key;
    const controller = new AbortController();
    this.controller = controller;
    this.button.disabled = true;
    this.stop.hidden = false;
    Object.assign(this.probe, { state: "running", ...fresh });
    this.probe.runs += 1;
    this.status.textContent = "Starting…";
    try {
      await readRunEvents(url, controller.signal, handlers);
      if (this.probe.state === "done") this.context.report?.("run", { final: this.probe.final });
    } catch (error) {
      if (controller.signal.aborted) return;
      this.probe.state = "failed";
      this.status.textContent = runFailure(error);
    } finally {
      if (this.controller === controller) {
        this.controller = null;
        this.button.disabled = false;
        this.stop.hidden = true;
      }
    }
  }
}
