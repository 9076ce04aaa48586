// @ts-check
/** Zoom and pan: fit, zoom at a point, pan, screen <-> image coordinates. */

import { clamp } from "./util.js";

/** @typedef {import("./types.js").State} State */
/** @typedef {import("./types.js").Drag} Drag */

/**
 * Zoom and pan: the image is drawn at `scale` screen pixels per image pixel, its origin at
 * (ox, oy) in the stage. `fitted` until the user zooms or pans; a resize then refits.
 * @param {State} state @param {HTMLElement} stage @param {HTMLCanvasElement} canvas
 */
export function createView(state, stage, canvas) {
  const view = {
    scale: 1,
    ox: 0,
    oy: 0,
    fitted: true,
    cssW: 0,
    cssH: 0,
    dpr: 1,
    fit,
    zoomAt,
    resize,
    startPan,
    panTo,
    toImage,
    toScreen,
    clampPoint,
    eventPos,
  };

  function fitScale() {
    const { W, H } = state;
    return W && H && view.cssW && view.cssH ? Math.min(view.cssW / W, view.cssH / H) : 1;
  }

  /** Show the whole image, centred. */
  function fit() {
    const s = fitScale();
    view.scale = s;
    view.ox = (view.cssW - state.W * s) / 2;
    view.oy = (view.cssH - state.H * s) / 2;
    view.fitted = true;
  }

  /** Zoom by `factor`, keeping the image point under screen point (sx, sy) there. */
  /** @param {number} sx @param {number} sy @param {number} factor */
  function zoomAt(sx, sy, factor) {
    const base = fitScale();
    const s = clamp(view.scale * factor, base * 0.25, Math.max(base * 64, 64));
    const ix = (sx - view.ox) / view.scale;
    const iy = (sy - view.oy) / view.scale;
    view.scale = s;
    view.ox = sx - ix * s;
    view.oy = sy - iy * s;
    view.fitted = false;
  }

  /** Match the canvas's backing store to the stage's size and the device pixel ratio. */
  function resize() {
    const r = stage.getBoundingClientRect();
    view.cssW = r.width;
    view.cssH = r.height;
    view.dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(view.cssW * view.dpr));
    canvas.height = Math.max(1, Math.round(view.cssH * view.dpr));
    if (view.fitted) fit();
  }

  /** @param {number} sx @param {number} sy @returns {Drag} */
  function startPan(sx, sy) {
    return { kind: "pan", start: [sx, sy], origin: [view.ox, view.oy] };
  }

  /** @param {Drag & { kind: "pan" }} d @param {number} sx @param {number} sy */
  function panTo(d, sx, sy) {
    view.ox = d.origin[0] + sx - d.start[0];
    view.oy = d.origin[1] + sy - d.start[1];
    view.fitted = false;
  }

  /** @param {number} sx @param {number} sy @returns {number[]} */
  function toImage(sx, sy) {
    return [(sx - view.ox) / view.scale, (sy - view.oy) / view.scale];
  }

  /** @param {number} x @param {number} y @returns {number[]} */
  function toScreen(x, y) {
    return [x * view.scale + view.ox, y * view.scale + view.oy];
  }

  /** @param {number[]} p @returns {number[]} */
  function clampPoint(p) {
    return [clamp(p[0], 0, state.W), clamp(p[1], 0, state.H)];
  }

  /** @param {MouseEvent} e @returns {number[]} screen point in the stage */
  function eventPos(e) {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  return view;
}
/** @typedef {ReturnType<typeof createView>} View */
