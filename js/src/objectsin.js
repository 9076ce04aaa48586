// @ts-check
/** Instance mode's objects as Python sends them, read into the canvas's own form. */

/** @typedef {import("./types.js").Obj} Obj */

/**
 * Objects as Python sends them ([{id, label, draft, rect, runs, score?}]: runs alternate between
 * pixels outside and inside the object, over its rect row by row, starting outside); malformed
 * ones are left out.
 * @param {any} value @returns {Obj[]}
 */
export function objectsOf(value) {
  if (!Array.isArray(value)) return [];
  /** @type {Obj[]} */
  const out = [];
  for (const o of value) {
    const rect = o && Array.isArray(o.rect) && o.rect.length === 4 ? o.rect.map(Number) : null;
    if (!rect || !Array.isArray(o.runs) || rect[2] <= rect[0] || rect[3] <= rect[1]) continue;
    const bits = new Uint8Array((rect[2] - rect[0]) * (rect[3] - rect[1]));
    let at = 0;
    o.runs.forEach((/** @type {any} */ n, /** @type {number} */ i) => {
      const end = Math.min(at + (Number(n) | 0), bits.length);
      if (i % 2) bits.fill(1, at, end);
      at = end;
    });
    /** @type {Obj} */
    const obj = { id: Number(o.id) | 0, label: Number(o.label) | 0, draft: !!o.draft, rect, bits };
    if (obj.draft && typeof o.score === "number" && Number.isFinite(o.score)) obj.score = o.score;
    out.push(obj);
  }
  return out;
}
