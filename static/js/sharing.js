// Sharing and presenting: the toast, copying a link or the setting as code, projector mode.

import { fetchCode } from "./api.js";

export function toast(message) {
  const node = document.getElementById("toast");
  node.textContent = message;
  node.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => node.classList.remove("show"), 2500);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = Object.assign(document.createElement("textarea"), { value: text });
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

function snippetBlock(snippet) {
  const block = document.createElement("section");
  block.className = "snippet";
  const title = document.createElement("h3");
  title.textContent = snippet.label;
  const pre = document.createElement("pre");
  pre.textContent = snippet.code;
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "button small";
  copy.textContent = `Copy ${snippet.label}`;
  copy.addEventListener("click", async () => toast((await copyText(snippet.code)) ? "Copied" : "Select and copy the code"));
  block.append(title, pre, copy);
  if (snippet.note) block.append(Object.assign(document.createElement("p"), { className: "help", textContent: snippet.note }));
  return block;
}

// hooks: link() the page's link now; code() { state, names, heading? } for /api/code, or a
// list of them (a comparison);
// themeChanged() redraw what depends on the theme; error(e) show an error.
export function wireSharing(hooks) {
  document.getElementById("copy-link").addEventListener("click", async () => {
    const link = hooks.link();
    toast((await copyText(link)) ? "Link copied: it reproduces this exact view" : link);
  });
  document.getElementById("copy-code").addEventListener("click", async () => {
    try {
      // One setting, or one per panel of a comparison (each under its heading).
      const settings = [hooks.code()].flat();
      const blocks = await Promise.all(settings.map(async ({ state, names, heading }) => {
        const { snippets } = await fetchCode(state, names);
        const title = heading ? [Object.assign(document.createElement("h3"), { className: "code-heading", textContent: heading })] : [];
        return [...title, ...snippets.map(snippetBlock)];
      }));
      document.getElementById("code-list").replaceChildren(...blocks.flat());
      document.getElementById("code-dialog").showModal();
    } catch (error) {
      hooks.error(error);
    }
  });
  const contrast = document.getElementById("contrast");
  contrast.checked = window.localStorage.getItem("theme") === "contrast";
  const apply = () => {
    document.documentElement.dataset.theme = contrast.checked ? "contrast" : "";
  };
  contrast.addEventListener("change", () => {
    apply();
    window.localStorage.setItem("theme", contrast.checked ? "contrast" : "");
    hooks.themeChanged();
  });
  apply();
}
