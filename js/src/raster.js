// @ts-check
/**
 * Rasterisation rules the brush and the polygon share, pure functions over image pixels: the
 * pixels a brush segment paints, and the row runs a closed polygon fills.
 */

import { clamp } from "./util.js";

/**
 * The rect [x0, y0, x1, y1] (x1, y1 excluded, clipped to the W x H image; maybe empty) holding
 * every pixel `capsule` paints for segment a-b with a brush of radius r.
 * @param {number[]} a @param {number[]} b @param {number} r @param {number} W @param {number} H
 * @returns {number[]}
 */
export function capsuleRect(a, b, r, W, H) {
  const px = Math.floor(b[0]);
  const py = Math.floor(b[1]);
  const x0 = Math.min(Math.floor(Math.min(a[0], b[0]) - r), px);
  const y0 = Math.min(Math.floor(Math.min(a[1], b[1]) - r), py);
  const x1 = Math.max(Math.ceil(Math.max(a[0], b[0]) + r), px + 1);
  const y1 = Math.max(Math.ceil(Math.max(a[1], b[1]) + r), py + 1);
  return [clamp(x0, 0, W), clamp(y0, 0, H), clamp(x1, 0, W), clamp(y1, 0, H)];
}

/**
 * Call fn(x, y) for each pixel the brush of radius r paints along segment a-b (image points):
 * those whose centre lies within r of the segment, and the pixel under b (a thin brush still
 * paints the pixel under the pointer). Returns capsuleRect's rect.
 * @param {number[]} a @param {number[]} b @param {number} r @param {number} W @param {number} H
 * @param {(x: number, y: number) => void} fn
 * @returns {number[]}
 */
export function capsule(a, b, r, W, H, fn) {
  const rect = capsuleRect(a, b, r, W, H);
  const vx = b[0] - a[0];
  const vy = b[1] - a[1];
  const len2 = vx * vx + vy * vy;
  const r2 = r * r;
  for (let y = rect[1]; y < rect[3]; y++) {
    const cy = y + 0.5;
    for (let x = rect[0]; x < rect[2]; x++) {
      const cx = x + 0.5;
      const t = len2 > 0 ? clamp(((cx - a[0]) * vx + (cy - a[1]) * vy) / len2, 0, 1) : 0;
      const dx = cx - (a[0] + t * vx);
      const dy = cy - (a[1] + t * vy);
      if (dx * dx + dy * dy <= r2) fn(x, y);
    }
  }
  const px = Math.floor(b[0]);
  const py = Math.floor(b[1]);
  if (px >= 0 && px < W && py >= 0 && py < H) fn(px, py);
  return rect;
}

/**
 * Call fn(y, from, to) for each run of pixels [from, to) of row y whose centres lie inside the
 * closed polygon `pts` (image points; even-odd rule), clipped to the W x H image.
 * @param {number[][]} pts @param {number} W @param {number} H
 * @param {(y: number, from: number, to: number) => void} fn
 */
export function polygonSpans(pts, W, H, fn) {
  if (pts.length < 3) return;
  const ys = pts.map((p) => p[1]);
  const rowStart = clamp(Math.floor(Math.min(...ys)), 0, H);
  const rowEnd = clamp(Math.ceil(Math.max(...ys)), 0, H);
  for (let y = rowStart; y < rowEnd; y++) {
    const cy = y + 0.5;
    /** @type {number[]} */
    const xs = [];
    for (let i = 0; i < pts.length; i++) {
      const [ax, ay] = pts[i];
      const [bx, by] = pts[(i + 1) % pts.length];
      if ((ay <= cy && cy < by) || (by <= cy && cy < ay)) xs.push(ax + ((cy - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((u, v) => u - v);
    for (let j = 0; j + 1 < xs.length; j += 2) {
      const from = clamp(Math.ceil(xs[j] - 0.5), 0, W);
      const to = clamp(Math.ceil(xs[j + 1] - 0.5), 0, W);
      if (to > from) fn(y, from, to);
    }
  }
}
