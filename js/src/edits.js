// @ts-check
/**
 * Undo, redo and cancel over the tools: a history step goes back to the tool that made it
 * (box steps to the box tool, mask steps to the mask tool, objects steps to the instance tool);
 * cancel drops the gesture under way.
 */

/** @typedef {import("./types.js").Step} Step */

/**
 * @param {{ state: import("./types.js").State, history: import("./history.js").History,
 *   boxTool: import("./boxtool.js").BoxTool, maskTool: import("./masktool.js").MaskTool,
 *   instTool: import("./instancetool.js").InstanceTool, redraw: () => void }} deps
 */
export function createEdits({ state, history, boxTool, maskTool, instTool, redraw }) {
  /** @param {Step} step @param {"before" | "after"} side */
  function applyStep(step, side) {
    if (step.kind === "boxes") boxTool.restore(step[side]);
    else if (step.kind === "objects") instTool.restore(step, side);
    else maskTool.restore(step, side);
    redraw();
  }

  function undo() {
    cancelGesture();
    const step = history.undo();
    if (step) applyStep(step, "before");
  }

  function redo() {
    cancelGesture();
    const step = history.redo();
    if (step) applyStep(step, "after");
  }

  function cancelGesture() {
    if (state.drag && state.drag.kind === "paint") maskTool.cancelStroke(state.drag);
    state.drag = null;
    state.polygon = [];
    redraw();
  }

  return { undo, redo, cancelGesture };
}
/** @typedef {ReturnType<typeof createEdits>} Edits */
