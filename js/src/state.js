// @ts-check
/**
 * The one mutable `state` of a view (image size, boxes, mask, gesture under way) and the
 * double-click check that keeps its last click.
 */

/** @typedef {import("./types.js").State} State */

const DOUBLE_MS = 400;

/**
 * The one mutable state of a view; the parts below read and change it, nothing else holds any.
 * W, H: image size. imageId: the load the edits belong to. synced: holds Python's current boxes
 * and mask for imageId (false from display until Python answers the fetch). boxes, drafts,
 * selected: box mode's shapes. mask: W*H class ids. maskReady: mask holds the class map loaded
 * (false while it is being inflated: no mask edit then). maskError: why it could not be read
 * (edits stay off: a patch would overwrite Python's copy with what this view does not show).
 * maskDraft: the mask is the model's draft, drawn hatched, until accepted or painted over.
 * drag: the pointer gesture under way.
 * polygon: the polygon's points so far (image pixels). polygonStart: its first point (the very
 * array, so a polygon begun anew or a first point moved leaves it stale) and where the click that
 * placed it was, before being clamped onto the image: clicking there again closes the polygon.
 * pointer: the last pointer position (screen pixels). panKey: the pan key (space) is held.
 * lastClick: for double-click detection.
 * objects: instance mode's objects, bottom first; picked: the selected one's id; nextId: the id
 * a new object takes.
 * @returns {State}
 */
export function createState() {
  return {
    W: 0,
    H: 0,
    imageId: 0,
    synced: false,
    boxes: [],
    drafts: [],
    selected: null,
    mask: new Uint8Array(0),
    maskReady: true,
    maskError: "",
    maskDraft: false,
    drag: null,
    polygon: [],
    polygonStart: null,
    pointer: null,
    panKey: false,
    lastClick: null,
    objects: [],
    picked: null,
    nextId: 1,
  };
}

/**
 * Record a click at screen point (sx, sy); true when it is the second of a double click.
 * @param {State} state @param {number} sx @param {number} sy
 */
export function isDoubleClick(state, sx, sy) {
  const now = performance.now();
  const last = state.lastClick;
  const isDouble = !!last && now - last.t < DOUBLE_MS && Math.hypot(sx - last.x, sy - last.y) < 5;
  state.lastClick = isDouble ? null : { t: now, x: sx, y: sy };
  return isDouble;
}
