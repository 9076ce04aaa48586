// @ts-check
/**
 * The frame: one draw per animation frame at most (request()), the image with the tools'
 * shapes over it, the finished message, the status line under the stage and the stage's
 * cursor classes. Also the stage's data- attributes tests and benchmarks wait on, and the
 * view's elements themselves (createStage).
 */

import { isShown } from "./drafts.js";

/**
 * The view's elements, appended to `el`: the stage (focusable, JupyterLab's shortcuts kept
 * away) holding the canvas and the cue a dropped key shows, and the status line under it.
 * @param {HTMLElement} el
 */
export function createStage(el) {
  const root = document.createElement("div");
  root.className = "alw-canvas";
  const stage = document.createElement("div");
  stage.className = "alw-stage";
  stage.tabIndex = 0;
  stage.setAttribute("data-lm-suppress-shortcuts", "true");
  const canvas = document.createElement("canvas");
  const status = document.createElement("div");
  status.className = "alw-status";
  const cue = document.createElement("div"); // a key dropped by the dwell, said for a moment
  cue.className = "alw-dropped";
  cue.hidden = true;
  cue.setAttribute("role", "status");
  stage.append(canvas, cue);
  root.append(stage, status);
  el.appendChild(root);
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  return { root, stage, canvas, status, cue, ctx };
}

/**
 * @typedef {{
 *   state: import("./types.js").State, traits: import("./traits.js").Traits,
 *   view: import("./view.js").View, history: import("./history.js").History,
 *   keymap: import("./keymap.js").Keymap, source: import("./imagesource.js").ImageSource,
 *   boxTool: import("./boxtool.js").BoxTool, maskTool: import("./masktool.js").MaskTool,
 *   instTool: import("./instancetool.js").InstanceTool,
 *   polyEdit: import("./polyedit.js").PolygonEdit, ctx: CanvasRenderingContext2D, canvas: HTMLCanvasElement, stage: HTMLElement,
 *   status: HTMLElement,
 * }} PainterDeps
 */

/** @param {PainterDeps} deps */
export function createPainter(deps) {
  const { state, traits, view, history, keymap, source, boxTool, maskTool, instTool, polyEdit } = deps;
  const { ctx, canvas, stage, status } = deps;
  const shown = source.shown;
  let frame = 0;

  function request() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    // The next image is decoding: leave the frame as it is (the image before), never blank.
    if (shown.pending && shown.img) return;
    if (shown.img && shown.token !== shown.onScreen.token) {
      shown.onScreen = { token: shown.token, at: performance.now() };
    }
    const mode = traits.mode();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    ctx.save();
    ctx.translate(view.ox, view.oy);
    ctx.scale(view.scale, view.scale);
    ctx.imageSmoothingEnabled = false;
    if (shown.img) ctx.drawImage(shown.img, 0, 0, state.W, state.H);
    // Tests and benchmarks wait on this: the image is drawn with Python's current shapes.
    const shapes = state.synced && state.maskReady;
    const drawn = shown.early ? `early-${shown.early}` : String(state.imageId);
    stage.dataset.imageLoaded = shown.img && (shapes || shown.early) ? drawn : "";
    stage.dataset.imageKey = shown.img ? shown.token : ""; // benchmarks read which image a frame shows
    if (mode === "mask") maskTool.drawOverlay();
    if (mode === "instance") instTool.drawObjects();
    ctx.restore();
    // Tests read the labels drawn (words and screen rect), which the canvas's pixels hide.
    let labels = mode === "box" ? boxTool.draw() : [];
    if (mode === "instance") labels = instTool.drawTags();
    stage.dataset.labels = mode === "box" || mode === "instance" ? JSON.stringify(labels) : "";
    if (mode === "mask" || mode === "instance") maskTool.drawTools();
    if (mode === "instance" && traits.tool() === "polygon") polyEdit.draw();
    drawFinished();
    updateStatus();
  }

  /** Nothing to edit: dim the image and say so in its middle. */
  function drawFinished() {
    const message = traits.finished();
    stage.dataset.finished = message ? "true" : "";
    if (!message) return;
    ctx.fillStyle = "rgba(20, 20, 20, 0.7)";
    ctx.fillRect(0, 0, view.cssW, view.cssH);
    ctx.fillStyle = "#ffffff";
    ctx.font = "bold 16px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(`\u2713 ${message}`, view.cssW / 2, view.cssH / 2);
    ctx.textAlign = "start";
  }

  function updateStatus() {
    const zoom = `${Math.round(view.scale * 100)}%`;
    const mode = traits.mode();
    const cls = traits.className(mode === "mask" ? traits.paintClass() : traits.activeClass());
    let text;
    if (traits.finished()) {
      status.textContent = traits.finished();
      return;
    }
    if (mode === "box") {
      /** @param {number} n @param {string} one @param {string} many */
      const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
      text = `box · class ${cls} · ${count(state.boxes.length, "box", "boxes")}`;
      const threshold = traits.draftThreshold();
      const open = state.drafts.filter((d) => isShown(d, threshold)).length;
      if (open) {
        const accept = `${keymap.label("accept")}: accept, ${keymap.label("accept_all")}: all`;
        text += `, ${count(open, "draft", "drafts")} (${accept}, ${keymap.label("reject_all")}: reject all)`;
      }
      if (open < state.drafts.length) {
        const below = threshold === null ? "no drafts yet" : `below ${threshold.toFixed(2)}`;
        text += `, ${state.drafts.length - open} hidden (${below})`;
      }
      if (boxTool.full()) text += ` · full: at most ${traits.maxBoxes()}, delete one to draw`;
    } else if (mode === "instance") {
      const n = state.objects.length;
      const drafts = state.objects.filter((o) => o.draft).length;
      text = `instance · ${traits.tool()}`;
      if (traits.tool() !== "polygon") text += ` ${traits.brushSize()}px`;
      text += ` · class ${cls} · ${n} ${n === 1 ? "object" : "objects"}`;
      if (drafts) {
        const accept = `${keymap.label("accept")}: accept, ${keymap.label("accept_all")}: all`;
        text += `, ${drafts} ${drafts === 1 ? "draft" : "drafts"} (${accept}, ${keymap.label("reject_all")}: reject all)`;
      }
      if (traits.tool() === "polygon") text += " · click its corners, or drag a box";
      else text += state.picked === null ? " · a stroke starts a new object" : ` · object ${state.picked} selected`;
    } else if (mode === "mask") {
      const eraser = traits.tool() === "eraser";
      text = `mask · ${traits.tool()}`;
      if (traits.tool() !== "polygon") text += ` ${traits.brushSize()}px${traits.brushScreen() ? " on screen" : ""}`;
      text += eraser ? ` · paints ${traits.className(0)} (the background)` : ` · class ${cls}`;
      if (state.maskDraft) text += ` · the model's mask is a draft (${keymap.label("accept")}: accept; painting over it accepts it)`;
      if (state.maskError) text = state.maskError;
      else if (!state.maskReady) text += " · reading the mask…";
    } else {
      // Classification: nothing is drawn, so zoom and undo mean nothing here.
      status.textContent = "classify: press a class's digit, or click its button";
      return;
    }
    status.textContent = `${text} · zoom ${zoom} · ${history.size()} undo`;
  }

  /** The stage's classes for the cursor: panning, box, polygon or paint. */
  function updateCursor() {
    const m = traits.mode();
    const drawing = m === "mask" || m === "instance";
    const polygon = drawing && traits.tool() === "polygon";
    const panning = state.panKey || (!!state.drag && state.drag.kind === "pan");
    stage.classList.toggle("alw-panning", panning);
    if (panning || m !== "box" || !state.selected) canvas.style.cursor = ""; // not showGrab's
    stage.classList.toggle("alw-box", m === "box");
    stage.classList.toggle("alw-polygon", polygon);
    stage.classList.toggle("alw-paint", drawing && !polygon && !state.panKey);
  }

  function close() {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
  }

  return { request, updateCursor, close };
}
/** @typedef {ReturnType<typeof createPainter>} Painter */
