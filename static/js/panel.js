// A panel: one view module showing one state (view, method, parameters, image, seed,
// iteration). It mounts the view, loads its input, fetches the frame and paints it, and always
// ends on the latest state asked for, however fast the asks come. The lab page has one; a
// comparison has one per method; the embed page has the same.

import { ApiError } from "./api.js";
import { DEFAULTS, frameKey } from "./state.js";
import { awaitTraining, isTraining, trainingNotice } from "./training_wait.js";

const modules = new Map(); // view id -> promise of its module (each imported once)

// The view's ES module (./views/<id>.js), imported once; call early to overlap the import.
export function viewModule(id) {
  if (!modules.has(id)) modules.set(id, import(`./views/${id}.js`));
  return modules.get(id);
}

export function snapshotOf(state) {
  return { ...state, params: { ...state.params } };
}

export class Panel {
  // root, extra: the elements the view builds in (#views, #view-extra on the lab page);
  // context: what views may ask (imageUrl, imageTitle, method, viewParamLabel, compact, and
  // panels: whether the view builds its panels under it, its training run or study);
  // cache: a FrameCache; hooks: painted(frame, header, instance), mounted(View class),
  // error(e), missingImage(snapshot) -> true if the caller replaced the image (state changed).
  constructor({ root, extra, context, cache, hooks }) {
    Object.assign(this, { root, extra, context, cache, hooks });
    this.view = null; // { id, instance }
    this.wanted = null; // the latest snapshot asked for
    this.busy = false;
    this.again = false;
    this.training = null; // { key, controller, notice } while the setting trains on the server
  }

  get instance() {
    return this.view?.instance ?? null;
  }

  destroy() {
    this.#stopWaiting();
    this.wanted = null;
    this.view?.instance.destroy();
    this.view = null;
  }

  // Show `snapshot`; resolves once the latest snapshot asked for is painted (or failed).
  async show(snapshot) {
    this.wanted = snapshotOf(snapshot);
    // Another setting: stop waiting for the one that trains (its stream stops if no one waits).
    if (this.training && this.training.key !== frameKey(this.wanted)) this.#stopWaiting();
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.#showOnce(this.wanted);
      } while (this.again);
    } catch (error) {
      this.hooks.error(error);
    } finally {
      this.busy = false;
    }
  }

  #current(snapshot) {
    const wanted = this.wanted;
    return wanted !== null && frameKey(wanted) === frameKey(snapshot) && wanted.iteration === snapshot.iteration;
  }

  async #showOnce(snapshot) {
    // The frame depends neither on the view's module nor on its input (picture, scene): ask
    // for it first, and for the rest meanwhile.
    const frame = this.cache.frame(snapshot).catch((error) => ({ error }));
    const instance = await this.#mount(snapshot.view);
    if (!instance || !this.#current(snapshot)) {
      this.again = this.wanted !== null;
      return;
    }
    try {
      await instance.load(snapshot);
    } catch (error) {
      const missing = error instanceof ApiError && error.status === 404 && error.detail.field === "image";
      if (missing && snapshot.image !== DEFAULTS.image && this.hooks.missingImage(snapshot)) {
        this.again = true; // the caller asked for the cat meanwhile
        return;
      }
      throw error;
    }
    const hit = await frame;
    if (hit.error && isTraining(hit.error)) {
      await this.#waitForTraining(hit.error, snapshot);
      this.again = this.wanted !== null;
      return;
    }
    if (hit.error) throw hit.error;
    if (this.#current(snapshot) && this.view?.instance === instance && instance.loaded(this.wanted)) {
      instance.paint(hit.frame, hit.header);
      this.hooks.painted(hit.frame, hit.header, instance);
    } else {
      this.again = true;
    }
  }

  // The setting's network is not trained yet: open its training stream, show its progress
  // over the view, and come back when it is trained (or when another setting is asked for).
  async #waitForTraining(error, snapshot) {
    const key = frameKey(snapshot);
    if (!this.training || this.training.key !== key) {
      this.#stopWaiting();
      const { node, update } = trainingNotice();
      this.root.prepend(node);
      this.training = { key, controller: new AbortController(), node, update };
      this.hooks.training?.(true);
    }
    const { controller, update } = this.training;
    try {
      await awaitTraining(error.training.stream, update, controller.signal);
    } catch (failure) {
      if (controller.signal.aborted) return;
      this.#stopWaiting();
      throw failure;
    }
    if (this.training?.controller === controller) this.#stopWaiting();
  }

  #stopWaiting() {
    if (!this.training) return;
    this.training.controller.abort();
    this.training.node.remove();
    this.training = null;
    this.hooks.training?.(false);
  }

  async #mount(id) {
    if (this.view?.id === id) return this.view.instance;
    const View = (await viewModule(id)).default;
    if (this.wanted?.view !== id) return null; // moved on while it loaded
    if (this.view?.id === id) return this.view.instance;
    this.view?.instance.destroy();
    this.view = { id, instance: new View(this.root, this.extra, this.context) };
    this.hooks.mounted?.(View);
    return this.view.instance;
  }
}
