// @ts-check
/**
 * The canvas's own keys: a keydown inside the stage goes through the key map to an action
 * (undo, delete, brush, pan...: al_widget/widget/keys.py's `action` ids) in the modes it
 * lists; a chord the canvas does not use, nor the panel, goes to JupyterLab's page-wide
 * shortcuts. Releasing the pan key ends panning.
 */

import { chordOf } from "./keymap.js";
import { passToApp } from "./panelkeys.js";

/**
 * @typedef {{
 *   state: import("./types.js").State, traits: import("./traits.js").Traits,
 *   view: import("./view.js").View, keymap: import("./keymap.js").Keymap,
 *   source: import("./imagesource.js").ImageSource,
 *   boxTool: import("./boxtool.js").BoxTool, maskTool: import("./masktool.js").MaskTool,
 *   instTool: import("./instancetool.js").InstanceTool, painter: import("./paint.js").Painter, edits: import("./edits.js").Edits,
 *   showGrab: (sx: number, sy: number) => void, stage: HTMLElement,
 * }} CanvasKeyDeps
 */

/** @param {CanvasKeyDeps} deps */
export function createCanvasKeys(deps) {
  const { state, traits, view, keymap, source, boxTool, maskTool, instTool, painter, edits, showGrab } = deps;
  const inst = () => traits.mode() === "instance";
  const stage = deps.stage;
  const requestDraw = painter.request;
  const updateCursor = painter.updateCursor;

  /** @param {number} step */
  function changeBrush(step) {
    const size = traits.brushSize();
    const delta = Math.max(1, Math.round(size * 0.2));
    traits.set("brush_size", Math.max(1, size + step * delta));
  }

  /** What each canvas action of the key table does; keys.py's `action` ids. */
  /** @type {Record<string, () => void>} */
  const actions = {
    undo: edits.undo,
    redo: edits.redo,
    delete: () =>
      state.polygon.length ? maskTool.popPoint() : inst() ? instTool.deleteSelected() : boxTool.deleteSelected(),
    accept: () =>
      inst() ? instTool.acceptSelected() : traits.mode() === "mask" ? maskTool.acceptDraft() : boxTool.acceptSelected(),
    accept_all: () => (inst() ? instTool.acceptAll() : boxTool.acceptAll()),
    reject_all: () => (inst() ? instTool.rejectAll() : boxTool.rejectAll()),
    new_object: () => instTool.startNew(),
    raise_object: () => instTool.reorder(1),
    lower_object: () => instTool.reorder(-1),
    brush: () => traits.set("tool", "brush"),
    eraser: () => traits.set("tool", "eraser"),
    polygon: () => traits.set("tool", "polygon"),
    brush_smaller: () => changeBrush(-1),
    brush_larger: () => changeBrush(1),
    cancel: () => {
      if (state.drag || state.polygon.length) edits.cancelGesture();
      else state.selected = state.picked = null;
      requestDraw();
    },
    reset_view: () => {
      view.fit();
      requestDraw();
    },
    pan: () => {
      state.panKey = true;
      updateCursor();
      requestDraw();
    },
  };

  /** @param {KeyboardEvent} e */
  function keyDown(e) {
    // Heard on window in the capture phase, before anything on document, where JupyterLab reads
    // its shortcuts.
    if (!(e.target instanceof Node) || !stage.contains(e.target)) return;
    if (e.key === "Enter" && inst() && state.polygon.length >= 3 && !traits.finished()) {
      // Enter closes the polygon under way (else it is the panel's: submit).
      e.preventDefault();
      e.stopPropagation();
      instTool.fromPolygon();
      return;
    }
    const binding = keymap.lookup(e);
    if (!binding) {
      if (!traits.panelKeys().includes(chordOf(e))) passToApp(e);
      return;
    }
    // A canvas key stays in the canvas in every mode; it acts only in the modes it lists.
    e.preventDefault();
    e.stopPropagation();
    if ((traits.finished() || source.shown.early) && binding.action !== "reset_view") return;
    if (binding.modes.includes(traits.mode())) actions[binding.action]?.();
    if (state.pointer && !state.drag) showGrab(state.pointer[0], state.pointer[1]); // selection changed
  }

  /** @param {KeyboardEvent} e */
  function keyUp(e) {
    if (!keymap.releases(e, "pan")) return;
    state.panKey = false;
    updateCursor();
    requestDraw();
    if (e.currentTarget === stage) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  function blur() {
    state.panKey = false;
    updateCursor();
  }

  return { keyDown, keyUp, blur };
}
