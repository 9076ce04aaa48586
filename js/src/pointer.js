// @ts-check
/**
 * The pointer and the wheel over the canvas: a gesture goes to the view (pan: middle button, or
 * the pan key held), the box tool, the mask tool (brush, eraser, polygon) or the instance tool;
 * the wheel zooms.
 * No edit while the canvas is finished or shows an image early. showGrab sets box mode's cursor.
 */

import { GRAB_CURSORS } from "./boxtool.js";

const MIN_DRAG_PX = 3; // smaller drags are clicks

/**
 * @typedef {{
 *   state: import("./types.js").State, traits: import("./traits.js").Traits,
 *   view: import("./view.js").View, source: import("./imagesource.js").ImageSource,
 *   boxTool: import("./boxtool.js").BoxTool, maskTool: import("./masktool.js").MaskTool,
 *   instTool: import("./instancetool.js").InstanceTool,
 *   polyEdit: import("./polyedit.js").PolygonEdit, painter: import("./paint.js").Painter, edits: import("./edits.js").Edits,
 *   canvas: HTMLCanvasElement, stage: HTMLElement,
 * }} PointerDeps
 */

/** @param {PointerDeps} deps */
export function createPointer(deps) {
  const { state, traits, view, source, boxTool, maskTool, instTool, polyEdit, painter, edits, canvas, stage } = deps;
  const requestDraw = painter.request;
  const updateCursor = painter.updateCursor;

  /** @param {PointerEvent} e */
  function down(e) {
    stage.focus({ preventScroll: true });
    const [sx, sy] = view.eventPos(e);
    state.pointer = [sx, sy];
    if (state.drag) return;
    if (e.button === 1 || (e.button === 0 && state.panKey)) {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      state.drag = view.startPan(sx, sy);
      updateCursor();
      return;
    }
    if (e.button !== 0 || !state.W || !state.H || traits.finished() || source.shown.early) return;
    const mode = traits.mode();
    if (mode === "mask" && !state.maskReady) return; // the loaded mask is still being read
    canvas.setPointerCapture(e.pointerId);
    if (mode === "box") boxTool.down(sx, sy);
    else if (mode === "mask" && traits.tool() === "polygon") maskTool.polygonDown(sx, sy);
    else if (mode === "mask") maskTool.paintDown(view.toImage(sx, sy));
    else if (mode === "instance" && traits.tool() === "polygon") polyEdit.down(sx, sy);
    else if (mode === "instance") instTool.strokeDown(sx, sy);
  }

  /** @param {PointerEvent} e */
  function move(e) {
    const [sx, sy] = view.eventPos(e);
    state.pointer = [sx, sy];
    const d = state.drag;
    if (!d) {
      if (traits.mode() === "mask" || traits.mode() === "instance") requestDraw();
      showGrab(sx, sy);
      return;
    }
    if (d.kind === "pan") {
      view.panTo(d, sx, sy);
    } else if (d.kind === "paint") {
      maskTool.paintTo(d, view.toImage(sx, sy));
    } else if (d.kind === "stroke") {
      instTool.strokeTo(d, sx, sy);
    } else if (d.kind === "vertex" || d.kind === "polybox") {
      polyEdit.dragTo(d, sx, sy);
    } else {
      if (!d.moved && Math.hypot(sx - d.start[0], sy - d.start[1]) < MIN_DRAG_PX) return;
      d.moved = true;
      boxTool.dragTo(d, view.toImage(sx, sy));
    }
    requestDraw();
  }

  /** @param {PointerEvent} e */
  function up(e) {
    const d = state.drag;
    if (!d) return;
    state.drag = null;
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    const [sx, sy] = view.eventPos(e);
    if (d.kind === "paint") maskTool.paintUp(d);
    else if (d.kind === "stroke") instTool.strokeUp(d, sx, sy);
    else if (d.kind === "vertex" || d.kind === "polybox") polyEdit.up(d, sx, sy);
    else if (d.kind !== "pan") boxTool.up(d, sx, sy);
    updateCursor();
    showGrab(sx, sy);
    requestDraw();
  }

  /** Box mode: the cursor over (sx, sy) says whether a drag there moves, resizes or draws. */
  /** @param {number} sx @param {number} sy */
  function showGrab(sx, sy) {
    const box = traits.mode() === "box" && !state.panKey && !source.shown.early && !traits.finished();
    canvas.style.cursor = (box && GRAB_CURSORS[boxTool.grabAt(sx, sy)]) || "";
  }

  function cancel() {
    edits.cancelGesture();
    updateCursor();
  }

  function leave() {
    if (!state.drag) {
      state.pointer = null;
      requestDraw();
    }
  }

  /** @param {WheelEvent} e */
  function wheel(e) {
    if (!state.W || !state.H) return;
    e.preventDefault();
    e.stopPropagation();
    const [sx, sy] = view.eventPos(e);
    const unit = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 0.0015;
    view.zoomAt(sx, sy, Math.exp(-e.deltaY * unit));
    requestDraw();
  }

  return { down, move, up, cancel, leave, wheel, showGrab };
}
