// The four pictures: input, mask, training output, test-time output.
// The browser already holds the picture; it multiplies it by the mask the server sent.

const KEPT = [245, 245, 245];
const DROPPED = [17, 17, 17];
// Blue - white - orange: a diverging map that stays readable with red-green colour blindness.
const BELOW = [33, 102, 172];
const ABOVE = [230, 97, 1];
const CHANNEL_NAMES = ["red", "green", "blue"];

function loadPicture(url) {
  return new Promise((resolve, reject) => {
    const picture = new Image();
    picture.onload = () => resolve(picture);
    picture.onerror = () => reject(new Error(`could not load ${url}`));
    picture.src = url;
  });
}

function mix(from, to, t) {
  return from.map((value, k) => value + (to[k] - value) * t);
}

export class ImageView {
  constructor(root) {
    this.canvases = {
      input: root.querySelector("#canvas-input"),
      mask: root.querySelector("#canvas-mask"),
      train: root.querySelector("#canvas-train"),
      test: root.querySelector("#canvas-test"),
    };
    this.channelMask = root.querySelector("#channel-mask");
    this.source = null; // ImageData of the picture
    this.url = null;
    this.testKey = null; // what the test-time canvas shows
  }

  get ready() {
    return this.source !== null;
  }

  async setImage(url) {
    if (url === this.url) return;
    const picture = await loadPicture(url);
    const { width, height } = picture;
    for (const canvas of Object.values(this.canvases)) {
      canvas.width = width;
      canvas.height = height;
    }
    const context = this.canvases.input.getContext("2d");
    context.drawImage(picture, 0, 0);
    this.source = context.getImageData(0, 0, width, height);
    this.url = url;
  }

  render(frame, theory) {
    if (!this.source) return;
    const { mask } = frame;
    if (mask.channels) {
      this.#renderChannels(mask.channels);
    } else {
      this.channelMask.hidden = true;
      this.canvases.mask.hidden = false;
      this.#paintMask(mask, theory);
    }
    this.#paintProduct(this.canvases.train, mask);
    // The test-time output has no mask: repaint it only when the picture or its factor change.
    const testKey = `${this.url}|${theory.test_factor}`;
    if (this.testKey !== testKey) {
      this.#paintProduct(this.canvases.test, { scalar: theory.test_factor });
      this.testKey = testKey;
    }
  }

  #context(canvas) {
    return canvas.getContext("2d", { willReadFrequently: false });
  }

  // The picture times the mask, as the training (or test-time) output; clipped to [0, 255].
  #paintProduct(canvas, mask) {
    const { data, width, height } = this.source;
    const out = new ImageData(width, height);
    const target = out.data; // Uint8ClampedArray: clips to [0, 255]
    if (mask.bits || mask.levels) {
      // A factor per pixel: bits[p] ? value : 0, or the factor of the pixel's level.
      const table = mask.bits ? Float32Array.of(0, mask.value) : mask.factors;
      const index = mask.bits ?? mask.levels;
      for (let p = 0, k = 0; p < index.length; p += 1, k += 4) {
        const f = table[index[p]];
        target[k] = data[k] * f;
        target[k + 1] = data[k + 1] * f;
        target[k + 2] = data[k + 2] * f;
        target[k + 3] = 255;
      }
    } else {
      const [r, g, b] = mask.channels ?? [mask.scalar, mask.scalar, mask.scalar];
      for (let k = 0; k < data.length; k += 4) {
        target[k] = data[k] * r;
        target[k + 1] = data[k + 1] * g;
        target[k + 2] = data[k + 2] * b;
        target[k + 3] = 255;
      }
    }
    this.#context(canvas).putImageData(out, 0, 0);
  }

  // The mask itself: black and white for 0/1 masks, a diverging colour map around 1 for noise.
  #paintMask(mask, theory) {
    const { width, height } = this.source;
    const out = new ImageData(width, height);
    const target = out.data;
    const palette = mask.bits ? [DROPPED, KEPT] : this.#noisePalette(mask.factors, theory);
    const index = mask.bits ?? mask.levels;
    for (let p = 0, k = 0; p < index.length; p += 1, k += 4) {
      const colour = palette[index[p]];
      target[k] = colour[0];
      target[k + 1] = colour[1];
      target[k + 2] = colour[2];
      target[k + 3] = 255;
    }
    this.#context(this.canvases.mask).putImageData(out, 0, 0);
  }

  // One colour per level: white at 1, full blue / orange at 1 -+ 2 sigma (most of the noise
  // visible, not washed out).
  #noisePalette(factors, theory) {
    const reach = 2 * Math.sqrt(theory.mask_variance || 0.0625);
    return Array.from(factors, (value) => (value < 1
      ? mix([255, 255, 255], BELOW, Math.min(1, (1 - value) / reach))
      : mix([255, 255, 255], ABOVE, Math.min(1, (value - 1) / reach))));
  }

  #renderChannels(values) {
    this.canvases.mask.hidden = true;
    this.channelMask.hidden = false;
    this.channelMask.replaceChildren(
      ...values.map((value, channel) => {
        const tile = document.createElement("div");
        tile.className = `channel-tile channel-${CHANNEL_NAMES[channel]}${value === 0 ? " dropped" : ""}`;
        tile.textContent = value === 0
          ? `${CHANNEL_NAMES[channel]}: dropped`
          : `${CHANNEL_NAMES[channel]}: × ${value.toFixed(2)}`;
        return tile;
      }),
    );
  }
}
