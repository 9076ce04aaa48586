// @ts-check
/**
 * The model's drafts as the labeler sees them: which are shown at the draft threshold, the
 * words of a box's label (a draft's with its confidence), and where labels go so that the
 * labels of overlapping boxes stay readable.
 */

/** @typedef {import("./types.js").Box} Box */
/**
 * A box as drawn: its screen corners, its label's width and words, color, whether a draft and
 * whether selected.
 * @typedef {{ x0: number, y0: number, x1: number, y1: number, w: number, text: string,
 *   color: string, dashed: boolean, sel: boolean }} Drawn
 */

const LABEL_PX = 15; // the height of a box's label

/**
 * Whether a draft is shown at `threshold` (the `draft_threshold` trait): a draft with a
 * confidence (`score`) is shown at or above it, and never while it is null (no drafts); a
 * draft without one is always shown. al_widget/widget/draftbar.py's `shown` is the same rule.
 * @param {Box} draft @param {number | null} threshold
 */
export function isShown(draft, threshold) {
  if (typeof draft.score !== "number") return true;
  return threshold !== null && draft.score >= threshold;
}

/**
 * A box's label: its class; a draft's with its confidence ("cat 0.62"), or "?" without one.
 * @param {string} name @param {Box} box @param {boolean} isDraft
 */
export function labelText(name, box, isDraft) {
  if (!isDraft) return name;
  return typeof box.score === "number" ? `${name} ${box.score.toFixed(2)}` : `${name} ?`;
}

/** @param {number[]} a @param {number[]} b rects x, y, w, h */
const overlaps = (a, b) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];

/**
 * Where each label goes, in order: the first of its spots (above the box's top left corner,
 * inside it, below the box, at its right) that overlaps no label placed before it and lies
 * below the canvas's top; when each does, the first free one down the box's left side.
 * @param {{ x0: number, y0: number, x1: number, y1: number, w: number }[]} boxes screen
 *   corners of each box and the width of its label
 * @param {number} h the height of a label
 * @returns {number[][]} the top left corner [x, y] of each label
 */
export function placeLabels(boxes, h) {
  /** @type {number[][]} */
  const placed = [];
  return boxes.map((b) => {
    const spots = [
      [b.x0, b.y0 - h],
      [b.x0, b.y0],
      [b.x0, b.y1],
      [b.x1 - b.w, b.y0 - h],
      [b.x1 - b.w, b.y1 - h],
    ];
    for (let k = 1; k <= 20; k++) spots.push([b.x0, b.y0 + k * h]);
    const free = (/** @type {number[]} */ s) => s[1] >= 0 && !placed.some((p) => overlaps(p, [s[0], s[1], b.w, h]));
    const spot = spots.find(free) || (b.y0 >= h ? spots[0] : spots[1]);
    placed.push([spot[0], spot[1], b.w, h]);
    return spot;
  });
}

/**
 * Draw the boxes' labels, each where it overlaps no other (placeLabels): the selected box's
 * first, then the boxes', then the drafts' by confidence, highest first.
 * @param {CanvasRenderingContext2D} ctx @param {Drawn[]} drawn
 * @param {number[]} scores each box's confidence (1 for a box)
 * @returns {{ text: string, rect: number[] }[]} each label drawn: its words and x, y, w, h
 */
export function drawLabels(ctx, drawn, scores) {
  const order = drawn.map((_, k) => k);
  const rank = (/** @type {number} */ k) => (drawn[k].sel ? 0 : drawn[k].dashed ? 2 : 1);
  order.sort((a, b) => rank(a) - rank(b) || scores[b] - scores[a] || a - b);
  const spots = placeLabels(
    order.map((k) => drawn[k]),
    LABEL_PX,
  );
  ctx.font = "11px sans-serif";
  return order.map((k, n) => {
    const { w, text, color, dashed, sel } = drawn[k];
    const [x, y] = spots[n];
    ctx.globalAlpha = dashed && !sel ? 0.85 : 1;
    ctx.fillStyle = color;
    ctx.fillRect(x - (sel ? 1.5 : 1), y, w, LABEL_PX);
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#ffffff";
    ctx.fillText(text, x + 2, y + 11);
    return { text, rect: [x, y, w, LABEL_PX] };
  });
}
