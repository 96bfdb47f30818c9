// "Embed" and "Export" on the lab page: one dialog with a live preview of the embed at the
// chosen size, the lesson-mode choices, the <iframe> snippet to copy, and the exports
// (GIF, MP4, standalone HTML) with their progress.

import { element } from "./dom.js";
import { startExport } from "./export.js";
import { HIDEABLE, lessonQuery, onlyFirstParameter } from "./lesson.js";
import { toast, copyText } from "./sharing.js";

const SIZES = [[480, 270], [640, 360], [960, 540], [1280, 720]];
const HIDE_LABELS = { title: "title", formula: "formula", stats: "statistics", player: "play button", link: "“open in Dropout Lab” link" };
const EXTRA_CONTROLS = [["seed", "seed"], ["iteration", "iteration slider"], ["speed", "speed"]];

function checkbox(label, checked, onChange) {
  const box = element("input", { type: "checkbox", checked });
  box.addEventListener("change", () => onChange(box.checked));
  return element("label", { class: "check" }, [box, ` ${label}`]);
}

export class EmbedDialog {
  // hooks: state() the lab's state; params() the current method's and view's parameters;
  // title() the method's name.
  constructor(hooks) {
    this.hooks = hooks;
    this.dialog = document.getElementById("embed-dialog");
    this.size = SIZES[1];
    this.lesson = null; // filled from the state when the dialog opens
    this.preview = element("iframe", { class: "embed-preview", title: "preview of the embed" });
    this.snippet = element("textarea", { class: "embed-snippet", readonly: true, rows: 3, "aria-label": "the iframe snippet" });
    this.link = element("input", { class: "embed-url", readonly: true, "aria-label": "the embed's address" });
    this.choices = element("div", { class: "embed-choices" });
    this.exportPanel = element("div", { class: "export-panel" });
    document.getElementById("embed-body").replaceChildren(
      element("div", { class: "embed-grid" }, [
        element("div", { class: "embed-options" }, [this.choices]),
        element("div", { class: "embed-preview-box" }, [
          element("p", { class: "help", text: "Live preview at the chosen size (scaled to fit here):" }),
          element("div", { class: "embed-stage" }, [this.preview]),
          element("label", { text: "The <iframe> for your slides (reveal.js, any HTML deck):" }),
          this.snippet,
          element("div", { class: "row" }, [
            this.#button("Copy the snippet", async () => toast((await copyText(this.snippet.value)) ? "Snippet copied" : "Select and copy the snippet")),
            this.#button("Copy the address", async () => toast((await copyText(this.link.value)) ? "Embed address copied" : this.link.value)),
          ]),
          this.link,
        ]),
      ]),
      element("h3", { id: "export-title", text: "Export" }),
      this.exportPanel,
    );
  }

  #button(text, onClick, attributes = {}) {
    const button = element("button", { type: "button", class: "button small", text, ...attributes });
    button.addEventListener("click", onClick);
    return button;
  }

  open(section = "embed") {
    const names = this.hooks.params().map((param) => param.name);
    this.lesson = { controls: [...names], hide: new Set(), caption: "", contrast: false, large: false };
    this.autoplay = true;
    this.#renderChoices();
    this.#renderExport();
    this.#update();
    this.dialog.showModal();
    const target = section === "export" ? "#export-title" : ".embed-choices";
    this.dialog.querySelector(target)?.scrollIntoView({ block: "start" });
  }

  // The embed's address: the lab's own query (playing as chosen) and the lesson.
  url() {
    const state = { ...this.hooks.state() };
    const query = new URLSearchParams(this.hooks.query({ ...state, playing: this.autoplay }).slice(1));
    for (const [key, value] of lessonQuery(this.lesson, this.hooks.params().map((p) => p.name))) query.set(key, value);
    return `${window.location.origin}/embed?${query}`;
  }

  #renderChoices() {
    const params = this.hooks.params();
    const names = params.map((param) => param.name);
    const rerender = () => {
      this.#renderChoices();
      this.#update();
    };
    const sizes = element("select", { "aria-label": "size" }, SIZES.map(([w, h]) => element("option", {
      value: `${w}x${h}`, text: `${w} × ${h}`, selected: w === this.size[0] && h === this.size[1],
    })));
    sizes.addEventListener("change", () => {
      this.size = sizes.value.split("x").map(Number);
      this.#update();
    });
    const controls = [...params.map((param) => [param.name, param.label]), ...EXTRA_CONTROLS].map(([name, label]) => checkbox(label, this.lesson.controls.includes(name), (on) => {
      const chosen = new Set(this.lesson.controls);
      if (on) chosen.add(name);
      else chosen.delete(name);
      const order = [...names, ...EXTRA_CONTROLS.map(([extra]) => extra)];
      this.lesson.controls = order.filter((item) => chosen.has(item));
      this.#update();
    }));
    const hides = HIDEABLE.map((part) => checkbox(HIDE_LABELS[part], !this.lesson.hide.has(part), (on) => {
      if (on) this.lesson.hide.delete(part);
      else this.lesson.hide.add(part);
      this.#update();
    }));
    const caption = element("input", { type: "text", value: this.lesson.caption, maxlength: 200, placeholder: "a caption over the view (optional)", "aria-label": "caption" });
    caption.addEventListener("input", () => {
      this.lesson.caption = caption.value;
      this.#update();
    });
    const preset = this.#button(`Only ${params[0]?.label ?? "the player"}, large, no chrome`, () => {
      this.lesson = onlyFirstParameter(names);
      rerender();
    }, { class: "button primary" });
    this.choices.replaceChildren(
      element("div", { class: "row" }, [preset]),
      element("label", { class: "field" }, ["size ", sizes]),
      element("fieldset", {}, [element("legend", { text: "controls shown" }), ...controls]),
      element("fieldset", {}, [element("legend", { text: "parts shown" }), ...hides]),
      element("fieldset", {}, [
        element("legend", { text: "look" }),
        checkbox("plays on its own", this.autoplay, (on) => {
          this.autoplay = on;
          this.#update();
        }),
        checkbox("large type", this.lesson.large, (on) => {
          this.lesson.large = on;
          this.#update();
        }),
        checkbox("projector theme (high contrast)", this.lesson.contrast, (on) => {
          this.lesson.contrast = on;
          this.#update();
        }),
        caption,
      ]),
    );
  }

  #update() {
    const url = this.url();
    const [width, height] = this.size;
    this.link.value = url;
    this.snippet.value = `<iframe src="${url.replaceAll("&", "&amp;").replaceAll("\"", "&quot;")}" width="${width}" height="${height}" `
      + `title="${this.hooks.title()} · Dropout Lab" style="border:0" allow="fullscreen" loading="lazy"></iframe>`;
    // The preview is the real embed at its size, scaled down to fit the dialog.
    Object.assign(this.preview.style, { width: `${width}px`, height: `${height}px` });
    const room = Math.min(1, 560 / width);
    this.preview.style.transform = `scale(${room})`;
    this.preview.parentElement.style.height = `${height * room}px`;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.preview.src !== url) this.preview.src = url;
    }, 250);
  }

  #renderExport() {
    startExport(this.exportPanel, () => this.hooks.exportQuery());
  }
}
