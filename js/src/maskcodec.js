// @ts-check
/**
 * The mask's bytes: zlib (de)compression, the run format Python packs a class map in, and the
 * rects of a class map an edit changed (as they are now, and as they were before the gesture).
 * Pure functions: the mask tool (masktool.js) holds the map and calls these.
 */

/** @typedef {import("./types.js").Rows} Rows */

/** A mask patch of more bytes than this goes to Python zlib-compressed. */
export const PATCH_RAW_MAX = 65536;

/**
 * Bytes pushed through a (De)CompressionStream ("deflate" is zlib's format, as Python's zlib).
 * @param {Uint8Array} bytes @param {CompressionStream | DecompressionStream} codec
 * @returns {Promise<Uint8Array>}
 */
export async function recoded(bytes, codec) {
  const stream = new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (bytes)]).stream().pipeThrough(codec);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** @param {Uint8Array} a @param {Uint8Array} b */
export function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Walk a W*H class map packed as runs (al_widget/widget/_encoding.py's compress_mask), in
 * row-major order: n little-endian uint32 lengths, then their n class ids (5n bytes). Calls
 * `fill(at, end, v)` for each run of a class other than 0, in order; throws when the bytes are
 * not runs or do not cover exactly W*H pixels.
 * @param {Uint8Array} payload @param {number} W @param {number} H
 * @param {(at: number, end: number, v: number) => void} fill
 */
export function eachRun(payload, W, H, fill) {
  const n = payload.length / 5;
  if (!Number.isInteger(n)) throw new Error(`${payload.length} bytes: neither ${W}*${H} nor runs`);
  const lengths = new DataView(payload.buffer, payload.byteOffset, 4 * n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const end = at + lengths.getUint32(4 * i, true);
    const v = payload[4 * n + i];
    if (end > W * H) throw new Error(`its runs pass the ${W}*${H} pixels`);
    if (v) fill(at, end, v);
    at = end;
  }
  if (at !== W * H) throw new Error(`its runs cover ${at} pixels, not ${W}*${H}`);
}

/**
 * The class values inside rect [x0, y0, x1, y1] of a map W pixels wide, row by row.
 * @param {Uint8Array} src @param {number} W @param {number[]} rect
 */
export function cropMask(src, W, rect) {
  const [x0, y0, x1, y1] = rect;
  const w = x1 - x0;
  const out = new Uint8Array(w * (y1 - y0));
  for (let y = y0; y < y1; y++) out.set(src.subarray(y * W + x0, y * W + x1), (y - y0) * w);
  return out;
}

/**
 * Keep rows y0..y1 of the mask in `before` as they are now, unless kept already: a gesture
 * keeps only the rows it changes (not a copy of a 48 MB map at each stroke's start).
 * @param {Uint8Array} mask @param {number} W @param {Rows} before @param {number} y0 @param {number} y1
 */
export function keepRows(mask, W, before, y0, y1) {
  for (let y = y0; y < y1; y++) {
    if (!before.has(y)) before.set(y, mask.slice(y * W, (y + 1) * W));
  }
}

/**
 * The mask inside rect as it was before the gesture that kept `before`.
 * @param {Uint8Array} mask @param {number} W @param {Rows} before @param {number[]} rect
 */
export function cropBefore(mask, W, before, rect) {
  const [x0, y0, x1, y1] = rect;
  const old = cropMask(mask, W, rect);
  for (let y = y0; y < y1; y++) {
    const row = before.get(y);
    if (row) old.set(row.subarray(x0, x1), (y - y0) * (x1 - x0));
  }
  return old;
}
