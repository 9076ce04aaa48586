// @ts-check
/**
 * The image on screen: the model's image (its bytes, or a key naming one Python sent ahead),
 * the images sent ahead (decoded off the labeler's path, the oldest dropped), and the early
 * swap: after a key that moves on, the next image sent ahead is shown before Python answers.
 * `shown` is what the frame draws and since when; the painter, the gate and the tools read it.
 */

import { bytesOf } from "./util.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {import("./types.js").State} State */
/**
 * @typedef {{ width: number, height: number, ready: Promise<ImageBitmap | null>,
 *   bitmap: ImageBitmap | null }} Ahead an image sent ahead: its size and decoding (then decoded)
 */

const AHEAD_KEEP = 6;

/**
 * @param {{ model: Model, state: State, stage: HTMLElement, redraw: () => void }} deps
 */
export function createImageSource({ model, state, stage, redraw }) {
  /** Images Python sent ahead, by key; the oldest go. @type {Map<string, Ahead>} */
  const ahead = new Map();
  const shown = {
    /** @type {HTMLImageElement | ImageBitmap | null} */
    img: null,
    /** Which image `img` holds: its key ("#" and the image_id when it has none). */
    token: "",
    /** While the next image decodes, the one before stays on screen: no blank frame between two. */
    pending: false,
    /** The key of the image shown early (a key that moves on, before Python answers), or "". */
    early: "",
    /** The image on screen (`token` when a frame drew it) and since when (performance.now()). */
    onScreen: { token: "", at: 0 },
    /** @type {string | null} the object URL of the model's image bytes */
    url: null,
  };

  /** The key of the image Python means: the model's, "#" and the image_id when it has none. */
  const current = () => String(model.get("image_key") || "") || `#${state.imageId}`;

  function revoke() {
    if (shown.url) URL.revokeObjectURL(shown.url);
    shown.url = null;
  }

  /** An image Python sent ahead: start decoding it now, off the labeler's path. */
  /** @param {any} content @param {DataView} buffer */
  function keepAhead(content, buffer) {
    const type = content.format === "jpeg" ? "image/jpeg" : "image/png";
    const key = String(content.key);
    ahead.delete(key);
    const blob = new Blob([/** @type {DataView<ArrayBuffer>} */ (buffer)], { type });
    /** @type {Ahead} */
    const entry = {
      width: Number(content.width) | 0,
      height: Number(content.height) | 0,
      ready: createImageBitmap(blob).catch(() => null),
      bitmap: null,
    };
    entry.ready.then((b) => {
      entry.bitmap = b;
      markAhead();
    });
    ahead.set(key, entry);
    for (const old of ahead.keys()) {
      if (ahead.size <= AHEAD_KEEP) break;
      if (old !== model.get("image_key")) ahead.delete(old);
    }
    if (key === model.get("image_key") && (!shown.img || shown.pending) && !shown.early) load();
  }

  /** Say on the stage which image sent ahead is decoded and due next (tests and benchmarks wait). */
  function markAhead() {
    const key = String(model.get("ahead_key") || "");
    const entry = ahead.get(key);
    stage.dataset.aheadReady = entry && entry.bitmap ? key : "";
  }

  /**
   * Show the model's image. Until it is decoded the image before stays drawn (`pending`:
   * the painter leaves the frame as it is), so no blank frame comes between two images.
   */
  function load() {
    revoke();
    const key = String(model.get("image_key") || "");
    const token = key || `#${state.imageId}`;
    const data = bytesOf(model.get("image"));
    /** @param {HTMLImageElement | ImageBitmap | null} next */
    const use = (next) => {
      shown.img = next;
      shown.token = next ? token : "";
      shown.pending = false;
      redraw();
    };
    if (key && data.length === 0) {
      const entry = ahead.get(key);
      if (entry && entry.bitmap) {
        use(entry.bitmap);
        return;
      }
      shown.pending = true;
      // A view displayed after the image was sent ahead asks for it again (keepAhead comes back).
      if (!entry) model.send({ kind: "need", key });
      else
        entry.ready.then((b) => {
          if (model.get("image_key") === key && !shown.url && !shown.early && shown.pending) use(b);
        });
      return;
    }
    if (data.length === 0) {
      use(null);
      return;
    }
    shown.pending = true;
    const type = model.get("image_format") === "jpeg" ? "image/jpeg" : "image/png";
    const url = URL.createObjectURL(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (data)], { type }));
    shown.url = url;
    const next = new Image();
    next.onload = () => {
      if (shown.url === url) use(next);
    };
    next.onerror = () => {
      if (shown.url === url) use(null);
    };
    next.src = url;
  }

  /** @returns {Ahead | null} the image due next (Python's `ahead_key`), once decoded */
  function next() {
    const entry = ahead.get(String(model.get("ahead_key") || ""));
    return entry && entry.bitmap ? entry : null;
  }

  /**
   * Show the image due next now, before Python answers (the caller checked that it may, and
   * starts the view afresh on its size): returns its key.
   * @param {Ahead} entry from next()
   */
  function showEarly(entry) {
    shown.early = String(model.get("ahead_key"));
    shown.token = shown.early;
    shown.pending = false;
    revoke();
    shown.img = entry.bitmap;
    return shown.early;
  }

  return { shown, current, keepAhead, markAhead, load, next, showEarly, revoke };
}
/** @typedef {ReturnType<typeof createImageSource>} ImageSource */
