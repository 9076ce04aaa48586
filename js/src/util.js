// @ts-check
/** Small pure helpers the canvas's parts share: numbers, boxes, bytes from Python. */

/** @typedef {import("./types.js").Box} Box */

/** @param {number} v @param {number} lo @param {number} hi */
export const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
/** @param {number} v */
export const round2 = (v) => Math.round(v * 100) / 100;
/** @param {Box[]} list @returns {Box[]} */
export const cloneBoxes = (list) => list.map(withScore);

/** A copy of a box, with its draft confidence (`score`) where it has one. */
/** @param {Box} b @returns {Box} */
function withScore(b) {
  const copy = { xyxy: b.xyxy.slice(), label: b.label };
  return typeof b.score === "number" && Number.isFinite(b.score) ? { ...copy, score: b.score } : copy;
}

/** @param {any} data @returns {Uint8Array} */
export function bytesOf(data) {
  if (!data) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** @param {any} value @returns {Box[]} */
export function boxesOf(value) {
  if (!Array.isArray(value)) return [];
  return value
    .filter((b) => b && Array.isArray(b.xyxy) && b.xyxy.length === 4)
    .map((b) => withScore({ xyxy: b.xyxy.map(Number), label: Number(b.label) | 0, score: b.score }));
}

/** @param {number[]} a @param {number[]} b @returns {number[]} */
export function normRect(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
}
