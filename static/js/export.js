// Exports: an animated GIF, an MP4 or a standalone HTML file of the current view, rendered by
// the server (GET /api/export/events streams the progress, then the file); the same frames as
// `dropout-lab render` gives for the same state. Closing the stream cancels the export.

import { element } from "./dom.js";

const FORMATS = [["gif", "animated GIF"], ["mp4", "MP4 video (H.264)"], ["html", "standalone HTML (plays offline)"]];
const SIZES = ["256x256", "512x384", "640x360", "960x540", "1280x720"];

function field(label, control) {
  return element("label", { class: "field" }, [`${label} `, control]);
}

function download(name, mediaType, base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: mediaType }));
  const link = element("a", { href: url, download: name, text: `Save ${name} again` });
  link.click();
  return link;
}

// Builds the export form in `panel`; query() gives the state's query string (without "?").
export function startExport(panel, query) {
  const format = element("select", {}, FORMATS.map(([value, text]) => element("option", { value, text })));
  const frames = element("input", { type: "number", min: 1, max: 200, value: 32, inputmode: "numeric" });
  const size = element("select", {}, SIZES.map((value) => element("option", { value, text: value.replace("x", " × "), selected: value === "512x384" })));
  const fps = element("select", {}, [1, 2, 4, 8, 15, 24].map((value) => element("option", { value, text: `${value} / s`, selected: value === 8 })));
  const contrast = element("input", { type: "checkbox" });
  const stats = element("input", { type: "checkbox", checked: true });
  const go = element("button", { type: "button", class: "button primary", text: "Export" });
  const cancel = element("button", { type: "button", class: "button", text: "Cancel", hidden: true });
  const bar = element("progress", { max: 1, value: 0, hidden: true, "aria-label": "export progress" });
  const status = element("p", { class: "export-status", role: "status", "aria-live": "polite" });
  const saved = element("p", { class: "export-saved" });
  let source = null;

  const finish = (message) => {
    source?.close();
    source = null;
    go.disabled = false;
    cancel.hidden = true;
    bar.hidden = true;
    status.textContent = message;
  };

  go.addEventListener("click", () => {
    const options = new URLSearchParams(query());
    options.set("format", format.value);
    options.set("frames", String(Math.max(1, Math.min(200, Math.round(Number(frames.value) || 32)))));
    options.set("size", size.value);
    options.set("fps", fps.value);
    options.set("theme", contrast.checked ? "contrast" : "light");
    if (format.value === "html") options.set("stats", stats.checked ? "true" : "false");
    go.disabled = true;
    cancel.hidden = false;
    bar.hidden = false;
    bar.value = 0;
    saved.replaceChildren();
    status.textContent = "Rendering…";
    source = new EventSource(`/api/export/events?${options}`);
    source.addEventListener("progress", (event) => {
      const { done, total } = JSON.parse(event.data);
      bar.max = total;
      bar.value = done;
      status.textContent = `Rendering frame ${done} of ${total}…`;
    });
    source.addEventListener("file", (event) => {
      const file = JSON.parse(event.data);
      saved.replaceChildren(download(file.name, file.media_type, file.data));
      finish(`Done: ${file.name}, ${(file.size / 1024).toFixed(0)} KB.`);
    });
    source.addEventListener("error", (event) => {
      // A server's error event carries its reason; a dropped connection carries none.
      const reason = event.data ? JSON.parse(event.data).error : null;
      finish(reason ? `The export failed: ${reason.field}: ${reason.message} (allowed: ${reason.allowed})` : "The export stopped: the connection was lost.");
    });
  });
  cancel.addEventListener("click", () => finish("Export cancelled."));
  panel.replaceChildren(
    element("div", { class: "export-form" }, [
      field("format", format),
      field("frames", frames),
      field("size", size),
      field("speed", fps),
      element("label", { class: "check" }, [contrast, " projector theme"]),
      element("label", { class: "check" }, [stats, " statistics in the HTML file"]),
      element("div", { class: "row" }, [go, cancel]),
    ]),
    bar,
    status,
    saved,
  );
}
