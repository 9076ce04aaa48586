// @ts-check
/**
 * The settings Python syncs (mode, tool, brush size, class, colors, opacity...), read fresh on
 * each use, and their changes, gathered per task (watchTraits).
 */

import { clamp } from "./util.js";

/** @typedef {import("./types.js").Model} Model */

/**
 * The settings Python syncs, read fresh on each use; set() changes one and saves it.
 * @param {Model} model
 */
export function readTraits(model) {
  return {
    mode: () => /** @type {string} */ (model.get("mode")),
    tool: () => /** @type {string} */ (model.get("tool")),
    brushSize: () => Math.max(1, Number(model.get("brush_size")) || 1),
    /** Whether the brush size counts screen pixels (else image pixels). */
    brushScreen: () => !!model.get("brush_screen"),
    activeClass: () => Number(model.get("active_class")) | 0,
    /** The class the brush and polygon paint: never class 0, the background, when others exist. */
    paintClass() {
      const k = Number(model.get("active_class")) | 0;
      const mask = model.get("mode") === "mask"; // instance mode's class 0 is a class like others
      return mask && k === 0 && (model.get("classes") || []).length > 1 ? 1 : k;
    },
    /** The message shown when there is nothing to edit; "" otherwise. */
    finished: () => String(model.get("finished") || ""),
    /** @returns {string[]} the chords of the panel around the canvas */
    panelKeys: () => model.get("panel_keys") || [],
    /** @returns {Record<string, string>} panel chords that may show the next image early */
    swapKeys: () => model.get("swap_keys") || {},
    opacity: () => clamp(Number(model.get("opacity")), 0, 1),
    /** The confidence from which drafts are shown; null: no scored draft is (drafts.js). */
    draftThreshold() {
      const v = model.get("draft_threshold");
      return typeof v === "number" ? v : null;
    },
    /** The most boxes and drafts together that Python accepts for one image. */
    maxBoxes: () => Number(model.get("max_boxes")) || Infinity,
    /** @returns {string[]} */
    colors: () => model.get("colors") || [],
    /** @param {number} label */
    color: (label) => (model.get("colors") || [])[label] || "#808080",
    /** @param {number} label @returns {string} */
    className: (label) => (model.get("classes") || [])[label] ?? String(label),
    /** @param {string} name @param {any} value */
    set(name, value) {
      model.set(name, value);
      model.save_changes();
    },
  };
}
/** @typedef {ReturnType<typeof readTraits>} Traits */

/**
 * Watch the model's traits: changes made in one task come to `apply` once, at its end, as the
 * set of what they touch: "reset" (a new image and what it loaded), "image" (its pixels),
 * "colors", "keymap", "ui" (the other settings). Returns the cleanup.
 * @param {Model} model @param {(what: Set<string>) => void} apply
 */
export function watchTraits(model, apply) {
  /** @type {Set<string>} */
  const pending = new Set();
  const flush = () => {
    const p = new Set(pending);
    pending.clear();
    apply(p);
  };
  /** @param {string[]} names @param {string} what @returns {[string, () => void][]} */
  const changes = (names, what) =>
    names.map((n) => [
      `change:${n}`,
      () => {
        if (pending.size === 0) queueMicrotask(flush);
        pending.add(what);
      },
    ]);
  const listeners = [
    ...changes(["image_id", "width", "height"], "reset"),
    ...changes(["image", "image_format", "image_key"], "image"),
    ...changes(["colors"], "colors"),
    ...changes(["keymap"], "keymap"),
    ...changes(["classes", "mode", "tool", "brush_size", "opacity", "active_class", "finished", "draft_threshold", "brush_screen"], "ui"),
  ];
  for (const [event, cb] of listeners) model.on(event, cb);
  return () => {
    for (const [event, cb] of listeners) model.off(event, cb);
  };
}
