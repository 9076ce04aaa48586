// @ts-check
/** The undo / redo stacks of one image's box and mask steps. */

/** @typedef {import("./types.js").Step} Step */

export const MAX_HISTORY = 200;
/** Undo steps keep at most this many bytes (a stroke over a 6000x8000 mask can hold 96 MB). */
export const MAX_HISTORY_BYTES = 256 * 2 ** 20;

/**
 * The undo and redo stacks of one image's edits (box steps and mask steps alike); a new step
 * clears redo, and the oldest steps go past `max` steps or `maxBytes` of mask pixels (the
 * newest step is always kept). Applying a step is the tools' job.
 * @param {number} max steps kept @param {number} maxBytes mask bytes kept
 */
export function createHistory(max, maxBytes) {
  /** @type {Step[]} */
  let undoStack = [];
  /** @type {Step[]} */
  let redoStack = [];
  /** @param {Step} step */
  const bytes = (step) =>
    step.kind === "mask" ? step.before.length + step.after.length : step.kind === "objects" ? step.bytes : 0;
  return {
    /** @param {Step} step */
    record(step) {
      undoStack.push(step);
      redoStack = [];
      let held = undoStack.reduce((sum, s) => sum + bytes(s), 0);
      while (undoStack.length > 1 && (undoStack.length > max || held > maxBytes)) {
        held -= bytes(/** @type {Step} */ (undoStack.shift()));
      }
    },
    /** @returns {Step | null} the step to undo, now on the redo stack */
    undo() {
      const step = undoStack.pop();
      if (step) redoStack.push(step);
      return step || null;
    },
    /** @returns {Step | null} the step to redo, now on the undo stack */
    redo() {
      const step = redoStack.pop();
      if (step) undoStack.push(step);
      return step || null;
    },
    clear() {
      undoStack = [];
      redoStack = [];
    },
    size: () => undoStack.length,
  };
}
/** @typedef {ReturnType<typeof createHistory>} History */
