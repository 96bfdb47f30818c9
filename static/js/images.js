// The picture the views work on: the sample select, "Upload your image…", and a picture
// dropped anywhere on the page.

import { uploadImage } from "./api.js";
import { toast } from "./sharing.js";

export class ImagePicker {
  // hooks: state() the current state; use(id) show this image (a user's choice);
  // error(e) show an error.
  constructor(samples, hooks) {
    this.samples = samples;
    this.hooks = hooks;
    this.select = document.getElementById("image-select");
  }

  // The select shows the state's image, adding an entry for an upload it does not list.
  sync() {
    const id = this.hooks.state().image;
    if (![...this.select.options].some((option) => option.value === id)) {
      this.select.append(new Option(`your image (${id.slice(0, 7)}…)`, id));
    }
    this.select.value = id;
  }

  get title() {
    return this.select.selectedOptions[0]?.textContent ?? "";
  }

  wire() {
    this.select.replaceChildren(...this.samples.map((image) => new Option(`${image.title} (${image.width} × ${image.height})`, image.id)));
    this.sync();
    this.select.addEventListener("change", () => this.hooks.use(this.select.value));
    document.getElementById("upload").addEventListener("change", (event) => this.upload(event.target.files[0]));
    this.#wireDrop();
  }

  async upload(file) {
    if (!file) return;
    toast(`Uploading ${file.name}…`);
    try {
      const image = await uploadImage(file);
      if (![...this.select.options].some((option) => option.value === image.id)) {
        this.select.append(new Option(`your image: ${file.name} (${image.width} × ${image.height})`, image.id));
      }
      this.select.value = image.id;
      toast(`Using ${file.name}`);
      await this.hooks.use(image.id);
    } catch (error) {
      this.hooks.error(error);
    }
  }

  // A picture dropped anywhere on the page is used; never let the browser navigate to it.
  #wireDrop() {
    const zone = document.getElementById("views");
    let depth = 0; // dragenter/dragleave fire for every child: count them
    const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
    document.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event)) return;
      depth += 1;
      zone.classList.add("dragging");
    });
    document.addEventListener("dragleave", (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) zone.classList.remove("dragging");
    });
    document.addEventListener("dragover", (event) => {
      if (carriesFiles(event)) event.preventDefault();
    });
    document.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      zone.classList.remove("dragging");
      this.upload(event.dataTransfer.files[0]);
    });
  }
}
