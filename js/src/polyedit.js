// @ts-check
/**
 * Instance mode's polygon gestures: a drag draws a box that becomes the polygon under way (its
 * four corners) to refine; a point of the polygon under way is dragged to move it; a press on
 * one of its edges adds a point there (and drags it). Clicks elsewhere place points as in mask
 * mode (masktool.js's polygonDown); the instance tool makes the closed polygon an object.
 */

import { normRect } from "./util.js";

/** @typedef {import("./types.js").Drag} Drag */

const GRAB_PX = 6; // a press this near a point or an edge takes hold of it
const MIN_DRAG_PX = 3; // a shorter drag is a click

/** Distance from p to segment a-b, in screen pixels. */
/** @param {number[]} p @param {number[]} a @param {number[]} b */
function toSegment(p, a, b) {
  const vx = b[0] - a[0];
  const vy = b[1] - a[1];
  const len2 = vx * vx + vy * vy;
  const t = len2 > 0 ? Math.min(Math.max(((p[0] - a[0]) * vx + (p[1] - a[1]) * vy) / len2, 0), 1) : 0;
  return Math.hypot(p[0] - (a[0] + t * vx), p[1] - (a[1] + t * vy));
}

/**
 * @param {{ state: import("./types.js").State, view: import("./view.js").View,
 *   traits: import("./traits.js").Traits, ctx: CanvasRenderingContext2D,
 *   maskTool: import("./masktool.js").MaskTool, instTool: import("./instancetool.js").InstanceTool,
 *   redraw: () => void }} deps
 */
export function createPolygonEdit({ state, view, traits, ctx, maskTool, instTool, redraw }) {
  /** Where a press at screen point s takes hold: a point's index, an edge's (-2 - index), or -1. */
  /** @param {number[]} s */
  function grab(s) {
    const pts = state.polygon.map((p) => view.toScreen(p[0], p[1]));
    const at = pts.findIndex((p) => Math.hypot(s[0] - p[0], s[1] - p[1]) <= GRAB_PX);
    if (at >= 0) return at;
    const n = pts.length;
    for (let i = 0; i + 1 < n || (n >= 3 && i < n); i++) {
      if (toSegment(s, pts[i], pts[(i + 1) % n]) <= GRAB_PX) return -2 - i;
    }
    return -1;
  }

  /** Pointer down with the polygon tool at screen point (sx, sy). */
  /** @param {number} sx @param {number} sy */
  function down(sx, sy) {
    const start = [sx, sy];
    if (!state.polygon.length) {
      const from = view.clampPoint(view.toImage(sx, sy));
      state.drag = { kind: "polybox", start, moved: false, from, to: from };
      return;
    }
    const hold = grab(start);
    if (hold === -1) {
      maskTool.polygonDown(sx, sy, instTool.fromPolygon);
      return;
    }
    let index = hold;
    if (hold <= -2) {
      index = -1 - hold; // the new point goes after the edge's first point
      state.polygon.splice(index, 0, view.clampPoint(view.toImage(sx, sy)));
    }
    state.drag = { kind: "vertex", start, moved: hold <= -2, index };
    redraw();
  }

  /** @param {Drag & { kind: "vertex" | "polybox" }} d @param {number} sx @param {number} sy */
  function dragTo(d, sx, sy) {
    if (!d.moved && Math.hypot(sx - d.start[0], sy - d.start[1]) < MIN_DRAG_PX) return;
    d.moved = true;
    const p = view.clampPoint(view.toImage(sx, sy));
    if (d.kind === "vertex") state.polygon[d.index] = p;
    else d.to = p;
  }

  /** Pointer up: a box drawn becomes the polygon under way; a click places or closes. */
  /** @param {Drag & { kind: "vertex" | "polybox" }} d @param {number} sx @param {number} sy */
  function up(d, sx, sy) {
    if (d.kind === "polybox" && !d.moved) maskTool.polygonDown(sx, sy, instTool.fromPolygon);
    else if (d.kind === "polybox") {
      const [x0, y0, x1, y1] = normRect(d.from, d.to);
      if (x1 > x0 && y1 > y0) state.polygon = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    } else if (!d.moved && d.index === 0 && state.polygon.length >= 3) instTool.fromPolygon();
    redraw();
  }

  /** The box being drawn, and the polygon's points as handles (screen pixels). */
  function draw() {
    const d = state.drag;
    ctx.strokeStyle = traits.color(traits.activeClass());
    ctx.lineWidth = 2;
    if (d && d.kind === "polybox" && d.moved) {
      const [ax, ay] = view.toScreen(d.from[0], d.from[1]);
      const [bx, by] = view.toScreen(d.to[0], d.to[1]);
      ctx.strokeRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
    }
    ctx.fillStyle = "#ffffff";
    ctx.lineWidth = 1;
    for (const p of state.polygon) {
      const [x, y] = view.toScreen(p[0], p[1]);
      ctx.fillRect(x - 3, y - 3, 6, 6);
      ctx.strokeRect(x - 3, y - 3, 6, 6);
    }
  }

  return { down, dragTo, up, draw };
}
/** @typedef {ReturnType<typeof createPolygonEdit>} PolygonEdit */
