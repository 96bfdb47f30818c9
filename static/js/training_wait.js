// A trained view's setting that the server has not trained yet: a frame, a match or an export
// is answered 503 with the training stream to open (app/untrained.py). The page opens it (one
// stream per address, shared by everyone who waits on it), shows its progress, and asks again
// once the network is trained. Only the training stream trains.

import { ApiError, readRunEvents } from "./api.js";
import { element } from "./dom.js";

export function isTraining(error) {
  return error instanceof ApiError && error.status === 503 && error.detail.field === "training" && Boolean(error.training?.stream);
}

const streams = new Map(); // url -> { promise, controller, waiting, done, total, listeners }

// Resolves once the stream at `url` has trained its network (rejects with its error);
// onProgress(done, total) as it goes. `signal`: stop waiting (the stream stops when no one
// waits on it any more).
export function awaitTraining(url, onProgress = () => {}, signal = undefined) {
  let stream = streams.get(url);
  if (!stream) {
    const controller = new AbortController();
    stream = { controller, waiting: 0, done: 0, total: null, listeners: new Set() };
    const tell = () => stream.listeners.forEach((listener) => listener(stream.done, stream.total));
    const step = () => {
      stream.done += 1;
      tell();
    };
    stream.promise = readRunEvents(url, controller.signal, {
      info: (data) => {
        stream.total = (data.snapshot_steps ?? data.checkpoint_steps ?? []).length || null;
        tell();
      },
      snapshot: step,
      progress: step,
    }).finally(() => streams.delete(url));
    streams.set(url, stream);
  }
  stream.waiting += 1;
  stream.listeners.add(onProgress);
  onProgress(stream.done, stream.total);
  const leave = () => {
    stream.listeners.delete(onProgress);
    stream.waiting -= 1;
    if (stream.waiting === 0) stream.controller.abort();
  };
  return new Promise((resolve, reject) => {
    const abandon = () => {
      leave();
      reject(signal.reason ?? new DOMException("stopped waiting", "AbortError"));
    };
    if (signal?.aborted) {
      abandon();
      return;
    }
    signal?.addEventListener("abort", abandon, { once: true });
    stream.promise.then(
      () => {
        signal?.removeEventListener("abort", abandon);
        stream.listeners.delete(onProgress);
        resolve();
      },
      (error) => {
        signal?.removeEventListener("abort", abandon);
        stream.listeners.delete(onProgress);
        reject(error);
      },
    );
  });
}

// The notice a panel shows while its setting trains: what is happening and how far it is.
export function trainingNotice() {
  const bar = element("progress", { max: "1", value: "0", "aria-label": "training progress" });
  const words = element("span", { class: "training-words", text: "Training the network of this setting on the server…" });
  const node = element("div", { class: "training-wait", role: "status" }, [words, bar]);
  const update = (done, total) => {
    if (total) {
      bar.max = total;
      bar.value = done;
      words.textContent = `Training the network of this setting on the server: ${done} of ${total} snapshots…`;
    }
  };
  return { node, update };
}
