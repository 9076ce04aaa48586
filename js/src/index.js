// @ts-check
/**
 * The al_widget drawing canvas: shows one image; draws boxes or paints a class mask on it.
 * All geometry sent to Python is in image pixels; screen pixels exist only here.
 *
 * This file wires the parts (each module's header says its job); esbuild bundles them into
 * js/canvas.js, the one ES module the widget loads (scripts/build_js.sh):
 *   state.js, traits.js  the view's one mutable state; the settings Python syncs, their changes
 *   view.js              zoom and pan, screen <-> image coordinates
 *   history.js, edits.js the undo / redo stacks; undo, redo and cancel over the tools
 *   boxtool.js           box mode: draw, select, move, resize, delete, accept drafts
 *   drafts.js            which drafts the threshold shows, their confidence labels, placed apart
 *   masktool.js          mask mode: brush, eraser, polygon fill (maskoverlay.js: its colors;
 *                        maskcodec.js: its bytes; raster.js: the pixels a stroke or polygon covers)
 *   instancetool.js      instance mode: objects drawn, selected, recoloured, reordered, accepted
 *                        (polyedit.js: its polygon drawn from a box, its points moved, added)
 *   keymap.js            key -> action, from the `keymap` trait (al_widget/widget/keys.py)
 *   canvaskeys.js        the canvas's keys; pointer.js: pointer and wheel
 *   panelkeys.js         the panel's keys and buttons, the dwell gate, JupyterLab's shortcuts
 *   imagesource.js       the image shown, the images sent ahead, the early swap
 *   panelglue.js         the header line, queue strip and picker moved with an early image
 *   paint.js             the view's elements, the frame, the status line, the cursor
 *   outbox.js            messages to Python, in the order they were made
 * While the `finished` trait holds a message the canvas shows it and takes no edit.
 *
 * Sync with Python: Python sends the image and what it loaded with it (loaded_boxes,
 * loaded_drafts, loaded_mask) under a new image_id, and the view starts afresh from them. Each
 * finished edit goes to Python as one message ({kind: "boxes"}, or {kind: "mask_patch"} with the
 * class values of the rect a mask edit changed); edits are never written to the model's traits.
 * A view just displayed asks for the current boxes and mask ({kind: "fetch"}) and Python answers
 * ({kind: "state"}). Masks come from Python packed (maskcodec.js; an empty one is all background).
 *
 * Very large images: width and height are the image's own size, and everything here (boxes,
 * mask, zoom, pan) is in its pixels; Python may send a smaller display copy of the pixels, drawn
 * stretched over W x H. The mask overlay is drawn at most OVERLAY_MAX_SIDE pixels on a side too
 * (one overlay pixel per k x k block of the mask), while the mask itself stays full size.
 */

import { createBoxTool } from "./boxtool.js";
import { createCanvasKeys } from "./canvaskeys.js";
import { createEdits } from "./edits.js";
import { createHistory, MAX_HISTORY, MAX_HISTORY_BYTES } from "./history.js";
import { createImageSource } from "./imagesource.js";
import { createKeymap } from "./keymap.js";
import { createInstanceTool } from "./instancetool.js";
import { createMaskTool } from "./masktool.js";
import { createOutbox } from "./outbox.js";
import { createPainter, createStage } from "./paint.js";
import { createPanelGlue, mayMoveEarly } from "./panelglue.js";
import { createPolygonEdit } from "./polyedit.js";
import { createGate, panelKeys } from "./panelkeys.js";
import { createPointer } from "./pointer.js";
import { createState } from "./state.js";
import { readTraits, watchTraits } from "./traits.js";
import { boxesOf } from "./util.js";
import { createView } from "./view.js";

/** @param {{ model: import("./types.js").Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const { root, stage, canvas, status, cue, ctx } = createStage(el);
  const state = createState();
  const traits = readTraits(model);
  const view = createView(state, stage, canvas);
  const history = createHistory(MAX_HISTORY, MAX_HISTORY_BYTES);
  const keymap = createKeymap();
  const { post, send } = createOutbox(model, state);
  const redraw = () => painter.request();
  const deps = { state, view, traits, history, ctx, send, redraw };
  const boxTool = createBoxTool(deps);
  const maskTool = createMaskTool(deps);
  const instTool = createInstanceTool(deps);
  const source = createImageSource({ model, state, stage, redraw });
  const glue = createPanelGlue(el, model);
  const polyEdit = createPolygonEdit({ ...deps, maskTool, instTool });
  const tools = { boxTool, maskTool, instTool, polyEdit };
  const painter = createPainter({ ...deps, ...tools, keymap, source, canvas, stage, status });
  const edits = createEdits({ state, history, ...tools, redraw });
  const pointer = createPointer({ ...deps, ...tools, source, painter, edits, canvas, stage });
  const { showGrab } = pointer;
  const keyDeps = { ...deps, ...tools, keymap, source, painter, edits, showGrab, stage };
  const keys = createCanvasKeys(keyDeps);
  const gate = createGate({ model, traits, source, stage, cue, post });

  /** Start the view afresh on an image of size W x H, with these shapes and this mask. */
  /**
   * @param {number} W @param {number} H @param {any} boxes @param {any} drafts @param {any} mask
   * @param {any} objects instance mode's objects (objectsin.js's objectsOf)
   */
  function fresh(W, H, boxes, drafts, mask, objects) {
    state.W = W;
    state.H = H;
    state.drag = null;
    state.polygon = [];
    boxTool.load(boxesOf(boxes), boxesOf(drafts));
    maskTool.load(mask);
    instTool.load(objects);
    history.clear();
    view.fit();
  }

  /** Start afresh from the model: a new image_id, with the boxes, drafts and mask it loaded. */
  function startImage() {
    source.shown.early = "";
    glue.settle(model.get("shown_picker")); // Python answered: its picker is the picker now
    state.imageId = Number(model.get("image_id")) | 0;
    stage.dataset.imageId = String(state.imageId);
    const W = Math.max(0, Number(model.get("width")) | 0);
    const H = Math.max(0, Number(model.get("height")) | 0);
    state.maskDraft = !!model.get("mask_draft");
    const loaded = (/** @type {string} */ name) => model.get(`loaded_${name}`);
    fresh(W, H, loaded("boxes"), loaded("drafts"), loaded("mask"), loaded("instances"));
  }

  /**
   * After a panel key or button that moves on, show the next image (Python's `ahead_key`,
   * decoded) at once, before Python answers with it: only where Python cannot refuse the action
   * (panelglue.js's mayMoveEarly). Nothing can be edited until Python's answer, which loads
   * that image (Python keeps the one painted) or says to stay.
   * @param {string} action @returns {string} the key of the image shown early, or ""
   */
  function showEarly(action) {
    const entry = source.next();
    if (!entry || source.shown.early || traits.finished() || state.drag) return "";
    const panel = glue.panel();
    const mask = traits.mode() === "mask";
    // Instance mode's objects count as shapes; in mask mode, whether anything is painted (a
    // submit of nothing painted is refused: scanned only for a mask submit).
    const shapes = mask ? Number(action === "submit" && maskTool.painted()) : state.boxes.length + state.objects.length;
    const drafts = mask ? Number(state.maskDraft) : state.drafts.length;
    if (!mayMoveEarly(action, traits.mode(), shapes, drafts, panel)) return "";
    const key = source.showEarly(entry);
    state.selected = null;
    state.maskDraft = false;
    fresh(entry.width, entry.height, [], [], null, []);
    redraw();
    glue.move(panel, key);
    return key;
  }

  /** Python's messages: an image sent ahead, "stay" after an early move, the fetch's answer. */
  /** @param {any} content @param {DataView[]} [buffers] */
  function onMessage(content, buffers) {
    if (content && content.kind === "image" && buffers && buffers[0]) {
      source.keepAhead(content, buffers[0]);
      return;
    }
    if (content && content.kind === "stay") {
      // Python did not move on after a key this view showed the next image early for.
      if (source.shown.early) {
        glue.back();
        startImage();
        source.load();
        redraw();
      }
      return;
    }
    if (!content || content.kind !== "state" || state.synced) return;
    if (content.image_id !== state.imageId) return;
    edits.cancelGesture();
    boxTool.load(boxesOf(content.boxes), boxesOf(content.drafts));
    state.maskDraft = !!model.get("mask_draft");
    maskTool.load(buffers && buffers[0]);
    instTool.load(content.instances);
    history.clear();
    state.synced = true;
    redraw();
  }

  /** Python says whether the mask is still a draft (accepted in another view, or loaded so). */
  function onMaskDraft() {
    const draft = !!model.get("mask_draft");
    if (draft === state.maskDraft || draft) return; // a new draft comes with its image_id
    state.maskDraft = false;
    maskTool.paintOverlay();
    redraw();
  }

  /** @param {Set<string>} p what the model's changes touch (traits.js's watchTraits) */
  function applyTraits(p) {
    if (p.has("colors")) maskTool.recolor();
    if (p.has("keymap")) keymap.update(model.get("keymap"));
    if (p.has("reset")) {
      startImage();
      state.synced = true; // Python's state is what it just loaded
    } else if (p.has("colors")) maskTool.paintOverlay();
    if (p.has("image")) source.load();
    if (p.has("ui") && (traits.mode() === "classify" || traits.mode() === "box" || traits.tool() !== "polygon")) {
      state.polygon = [];
    }
    if (p.has("ui") && traits.mode() === "instance") instTool.classChanged();
    painter.updateCursor();
    redraw();
  }
  const unwatch = watchTraits(model, applyTraits);
  /** @type {[string, (...args: any[]) => void][]} */
  const listeners = [
    ["change:ahead_key", source.markAhead],
    ["change:mask_draft", onMaskDraft],
    ["msg:custom", onMessage],
  ];
  for (const [event, cb] of listeners) model.on(event, cb);

  function onResize() {
    view.resize();
    redraw();
  }
  const observer = new ResizeObserver(onResize);
  observer.observe(stage);
  /** @param {Event} e */
  const noMenu = (e) => e.preventDefault();
  /** @type {[EventTarget, string, (e: any) => void, (boolean | AddEventListenerOptions)?][]} */
  const domListeners = [
    [canvas, "pointerdown", pointer.down],
    [canvas, "pointermove", pointer.move],
    [canvas, "pointerup", pointer.up],
    [canvas, "pointercancel", pointer.cancel],
    [canvas, "pointerleave", pointer.leave],
    [canvas, "wheel", pointer.wheel, { passive: false }],
    [canvas, "contextmenu", noMenu],
    [window, "keydown", keys.keyDown, true],
    [stage, "keyup", keys.keyUp],
    [window, "keyup", keys.keyUp],
    [window, "blur", keys.blur],
  ];
  for (const [target, type, fn, opts] of domListeners) target.addEventListener(type, fn, opts);
  /**
   * The image a panel key or click was made on: the one shown (early, or Python's), and in
   * classify mode the picker's class highlighted on it (which a submit stores).
   */
  const identity = () => {
    const picked = traits.mode() === "classify" ? glue.picked() : null;
    const shown = source.shown.early || String(model.get("image_key") || "");
    return { image_id: state.imageId, shown, ...(picked === null ? {} : { picked }) };
  };
  const unpanel = panelKeys(el, traits, post, identity, showEarly, gate.allowed);

  // Start: this view may be displayed after edits made in another, so it asks Python for them.
  keymap.update(model.get("keymap"));
  maskTool.recolor();
  startImage();
  source.load();
  onResize();
  painter.updateCursor();
  model.send({ kind: "fetch" });

  return () => {
    painter.close();
    gate.close();
    observer.disconnect();
    unpanel();
    for (const [target, type, fn, opts] of domListeners) target.removeEventListener(type, fn, opts);
    for (const [event, cb] of listeners) model.off(event, cb);
    unwatch();
    source.revoke();
    root.remove();
  };
}

export default { render };
