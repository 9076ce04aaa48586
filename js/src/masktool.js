// @ts-check
/**
 * Mask mode: brush, eraser and polygon fill over the class map; its colored overlay; each
 * finished edit sent to Python as a patch (the bytes themselves: maskcodec.js).
 */

import { cropBefore, cropMask, eachRun, keepRows, PATCH_RAW_MAX, recoded, sameBytes } from "./maskcodec.js";
import { createMaskOverlay } from "./maskoverlay.js";
import { isDoubleClick } from "./state.js";
import { capsule, capsuleRect, polygonSpans } from "./raster.js";
import { bytesOf } from "./util.js";

/** @typedef {import("./types.js").Drag} Drag */
/** @typedef {import("./types.js").Rows} Rows */
/** @typedef {import("./types.js").Step} Step */
/** @typedef {import("./types.js").State} State */
/** @typedef {import("./boxtool.js").ToolDeps} ToolDeps */

const CLOSE_PX = 8; // a polygon click this near the first point closes it

/**
 * Mask mode: the brush paints the active class (never class 0, the background: the eraser
 * paints that; nor 255, pixels not labeled, drawn striped) along the pointer; the
 * polygon tool places points and fills the closed polygon. The class map is state.mask; its
 * colored overlay is maskoverlay.js's, repainted over each rect an edit changed. Each
 * finished stroke or fill is one undo step and one {kind: "mask_patch"} message carrying the
 * class values of the rect it changed (so does each undo and redo); patches go out in order.
 * @param {ToolDeps} deps
 */
export function createMaskTool({ state, view, traits, history, ctx, send, redraw }) {
  const overlay = createMaskOverlay(state, traits);
  /** Counts loads: an inflated map is used only if no load came after its own. */
  let loads = 0;

  /**
   * Fill state.mask (all background before) and the overlay from Python's inflated payload
   * (al_widget/widget/_encoding.py's compress_mask): the W*H map itself, or its runs
   * (maskcodec.js's eachRun). A run is one fill, and paints the overlay pixels it touches as
   * overlay.paint would.
   * @param {Uint8Array} payload
   */
  function unpack(payload) {
    const { W, H, mask } = state;
    if (payload.length === W * H) {
      mask.set(payload);
      overlay.paint();
      return;
    }
    eachRun(payload, W, H, (at, end, v) => {
      mask.fill(v, at, end);
      overlay.paintRun(at, end, v);
    });
    overlay.flush();
  }

  /**
   * Start from this class map (a new image or Python's answer): zlib-compressed (see unpack),
   * or empty for all background. Inflating takes a while: mask edits wait (state.maskReady).
   * @param {any} data
   */
  function load(data) {
    const { W, H } = state;
    const mine = ++loads;
    state.mask = new Uint8Array(W * H);
    overlay.reset(W, H);
    state.maskError = "";
    const packed = bytesOf(data);
    state.maskReady = packed.length === 0;
    if (state.maskReady) return;
    recoded(packed, new DecompressionStream("deflate")).then(
      (map) => {
        if (mine !== loads) return;
        unpack(map);
        state.maskReady = true;
        redraw();
      },
    ).catch((err) => {
      if (mine !== loads) return;
      state.maskError = `the mask could not be read (${err}): reload the image`;
      console.error(`al_widget canvas: ${state.maskError}`);
      redraw();
    });
  }

  /**
   * Whether the mask holds anything but the background (void pixels count, as in Python's
   * check of a submit); false while it is still being inflated.
   * @returns {boolean}
   */
  function painted() {
    if (!state.maskReady) return false;
    const m = state.mask;
    const words = m.byteOffset % 4 === 0 ? m.length >> 2 : 0; // four pixels at a time
    const wide = new Uint32Array(m.buffer, m.byteOffset, words);
    for (let i = 0; i < words; i++) if (wide[i]) return true;
    for (let i = words * 4; i < m.length; i++) if (m[i]) return true;
    return false;
  }

  /** Tell Python the class values in rect; a large rect goes zlib-compressed (send keeps order). */
  /** @param {number[]} rect @param {Uint8Array} values */
  function sendPatch(rect, values) {
    const content = { kind: "mask_patch", image_id: state.imageId, rect };
    if (values.length <= PATCH_RAW_MAX) {
      send({ ...content, encoding: "raw" }, [values]);
      return;
    }
    const packed = recoded(values, new CompressionStream("deflate")).then((bytes) => [bytes]);
    send({ ...content, encoding: "zlib" }, packed);
  }

  /** Record the mask change inside rect (vs before) as one step and tell Python. */
  /** @param {Rows} before @param {number[]} rect */
  function commit(before, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    const old = cropBefore(state.mask, state.W, before, rect);
    const now = cropMask(state.mask, state.W, rect);
    if (sameBytes(old, now)) return;
    adopt();
    history.record({ kind: "mask", rect, before: old, after: now });
    sendPatch(rect, now);
    redraw();
  }

  /** Undo or redo a mask step: put its before or after pixels back. */
  /** @param {Step & { kind: "mask" }} step @param {"before" | "after"} side */
  function restore(step, side) {
    const [x0, y0, x1, y1] = step.rect;
    const src = step[side];
    const w = x1 - x0;
    for (let y = y0; y < y1; y++) {
      state.mask.set(src.subarray((y - y0) * w, (y - y0 + 1) * w), y * state.W + x0);
    }
    overlay.paint(x0, y0, x1, y1);
    sendPatch(step.rect, src);
  }

  /** The brush's radius in image pixels: half its size, in screen pixels at this zoom or in image pixels. */
  function brushRadius() {
    const r = traits.brushSize() / 2;
    return traits.brushScreen() ? r / view.scale : r;
  }

  /**
   * Paint the capsule of radius brushRadius() around segment a-b; returns its pixel rect.
   * @param {number[]} a @param {number[]} b @param {number} value
   * @param {Rows} before where the rows it changes are kept first
   * @returns {number[]}
   */
  function paintSegment(a, b, value, before) {
    const { W, H, mask } = state;
    const r = brushRadius();
    const rect = capsuleRect(a, b, r, W, H);
    keepRows(state.mask, state.W, before, rect[1], rect[3]);
    capsule(a, b, r, W, H, (x, y) => {
      mask[y * W + x] = value;
    });
    overlay.paint(rect[0], rect[1], rect[2], rect[3]);
    return rect;
  }

  /** @param {number[]} dirty @param {number[]} rect */
  function grow(dirty, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    dirty[0] = Math.min(dirty[0], rect[0]);
    dirty[1] = Math.min(dirty[1], rect[1]);
    dirty[2] = Math.max(dirty[2], rect[2]);
    dirty[3] = Math.max(dirty[3], rect[3]);
  }

  /** The model's mask draft, as it is, becomes the labeler's (A): drawn solid, Python told. */
  function acceptDraft() {
    if (!state.maskDraft || !state.maskReady) return;
    adopt();
    send({ kind: "mask_accept", image_id: state.imageId });
    redraw();
  }

  /** A draft painted over is accepted with the edit that changed it (its patch tells Python). */
  function adopt() {
    if (!state.maskDraft) return;
    state.maskDraft = false;
    overlay.paint();
  }

  /** Pointer down with the brush or eraser at image point p: start a stroke. */
  /** @param {number[]} p */
  function paintDown(p) {
    const value = traits.tool() === "eraser" ? 0 : traits.paintClass();
    const { W, H } = state;
    const d = { kind: /** @type {const} */ ("paint"), value, before: new Map(), dirty: [W, H, 0, 0], last: p };
    grow(d.dirty, paintSegment(p, p, value, d.before));
    state.drag = d;
    redraw();
  }

  /** @param {Drag & { kind: "paint" }} d @param {number[]} p image point */
  function paintTo(d, p) {
    grow(d.dirty, paintSegment(d.last, p, d.value, d.before));
    d.last = p;
  }

  /** @param {Drag & { kind: "paint" }} d */
  function paintUp(d) {
    commit(d.before, d.dirty);
  }

  /** Undo the stroke under way (Escape, a lost pointer). */
  /** @param {Drag & { kind: "paint" }} d */
  function cancelStroke(d) {
    for (const [y, row] of d.before) state.mask.set(row, y * state.W);
    overlay.paint(d.dirty[0], d.dirty[1], d.dirty[2], d.dirty[3]);
  }

  /** Fill the closed polygon (pixel centres inside, even-odd) with the active class. */
  function fillPolygon() {
    const { W, H, mask } = state;
    const pts = state.polygon;
    state.polygon = [];
    /** @type {Rows} */
    const before = new Map();
    const value = traits.paintClass();
    const dirty = [W, H, 0, 0];
    polygonSpans(pts, W, H, (y, from, to) => {
      keepRows(state.mask, state.W, before, y, y + 1);
      mask.fill(value, y * W + from, y * W + to);
      grow(dirty, [from, y, to, y + 1]);
    });
    if (dirty[2] <= dirty[0]) return;
    overlay.paint(dirty[0], dirty[1], dirty[2], dirty[3]);
    commit(before, dirty);
    redraw();
  }

  /**
   * A polygon click: add a point; a click on the first point (or where the labeler clicked to
   * place it) or a double click closes it and calls `close` (which takes state.polygon): mask
   * mode fills it.
   * @param {number} sx @param {number} sy @param {() => void} [close]
   */
  function polygonDown(sx, sy, close = fillPolygon) {
    const click = view.toImage(sx, sy);
    const p = view.clampPoint(click);
    const isDouble = isDoubleClick(state, sx, sy);
    const pts = state.polygon;
    if (pts.length >= 3 && (isDouble || onStart(sx, sy))) {
      close();
      return;
    }
    if (isDouble) return;
    if (!pts.length) state.polygonStart = { point: p, click };
    pts.push(p);
    redraw();
  }

  /**
   * Whether a click at screen point (sx, sy) is on the polygon's first point, or where the
   * labeler clicked to place it (off the image, the point itself lies clamped onto its edge).
   * @param {number} sx @param {number} sy
   */
  function onStart(sx, sy) {
    const first = state.polygon[0];
    const start = state.polygonStart;
    const spots = start && start.point === first ? [first, start.click] : [first];
    return spots.some(([x, y]) => {
      const [fx, fy] = view.toScreen(x, y);
      return Math.hypot(sx - fx, sy - fy) <= CLOSE_PX;
    });
  }

  /** Remove the polygon's last point. */
  function popPoint() {
    state.polygon.pop();
    redraw();
  }

  /** Draw the polygon under way and the brush outline (screen pixels). */
  function drawTools() {
    drawPolygon();
    drawBrushCursor();
  }

  function drawPolygon() {
    const pts = state.polygon;
    if (pts.length === 0) return;
    ctx.strokeStyle = traits.color(traits.paintClass());
    ctx.lineWidth = 2;
    ctx.beginPath();
    pts.forEach((p, i) => {
      const [sx, sy] = view.toScreen(p[0], p[1]);
      if (i === 0) ctx.moveTo(sx, sy);
      else ctx.lineTo(sx, sy);
    });
    if (state.pointer) ctx.lineTo(state.pointer[0], state.pointer[1]);
    ctx.stroke();
    const [fx, fy] = view.toScreen(pts[0][0], pts[0][1]);
    ctx.fillStyle = "#ffffff";
    ctx.beginPath();
    ctx.arc(fx, fy, 4, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
  }

  function drawBrushCursor() {
    const pointer = state.pointer;
    if (!pointer || traits.tool() === "polygon" || state.panKey) return;
    const r = Math.max(brushRadius() * view.scale, 1);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(pointer[0], pointer[1], r, 0, Math.PI * 2);
    ctx.strokeStyle = "#000000";
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(pointer[0], pointer[1], r + 1, 0, Math.PI * 2);
    ctx.strokeStyle = traits.tool() === "eraser" ? "#ffffff" : traits.color(traits.paintClass());
    ctx.stroke();
  }

  return {
    recolor: overlay.recolor,
    paintOverlay: () => overlay.paint(),
    drawOverlay: () => overlay.draw(ctx),
    load,
    painted,
    acceptDraft,
    restore,
    paintDown,
    paintTo,
    paintUp,
    cancelStroke,
    polygonDown,
    popPoint,
    drawTools,
  };
}
/** @typedef {ReturnType<typeof createMaskTool>} MaskTool */
