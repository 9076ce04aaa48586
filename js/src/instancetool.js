// @ts-check
/**
 * Instance mode: each object its own mask and class. Draw an object as a polygon or with the
 * brush, select it (cycling through overlapping ones), recolour, delete, reorder, accept model
 * drafts; each edit sends Python only the objects it changed.
 */

import { PATCH_RAW_MAX, recoded } from "./maskcodec.js";
import { objectsOf } from "./objectsin.js";
import { capsule, capsuleRect, polygonSpans } from "./raster.js";

/** @typedef {import("./types.js").Obj} Obj */
/** @typedef {import("./types.js").Drag} Drag */
/** @typedef {import("./types.js").Step} Step */
/** @typedef {import("./boxtool.js").ToolDeps} ToolDeps */

const MIN_DRAG_PX = 3; // a shorter brush drag is a click: it selects
const TINTS = [0, 0.45, -0.35, 0.7, -0.55]; // each object's fill: its class colour, lighter or darker
const SPRITE_MAX_SIDE = 1024; // an object drawn larger is drawn one pixel per k x k block

/**
 * The smallest rect holding the object's pixels and their bits, or null when it has none.
 * @param {number[]} rect @param {Uint8Array} bits @returns {{ rect: number[], bits: Uint8Array } | null}
 */
function tightened(rect, bits) {
  const w = rect[2] - rect[0];
  const h = rect[3] - rect[1];
  let [x0, y0, x1, y1] = [w, h, 0, 0];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!bits[y * w + x]) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x + 1);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y + 1);
    }
  }
  if (x1 <= x0) return null;
  const out = new Uint8Array((x1 - x0) * (y1 - y0));
  for (let y = y0; y < y1; y++) out.set(bits.subarray(y * w + x0, y * w + x1), (y - y0) * (x1 - x0));
  return { rect: [rect[0] + x0, rect[1] + y0, rect[0] + x1, rect[1] + y1], bits: out };
}

/** @param {string} css @returns {number[]} */
function rgbOf(css) {
  const m = /^#([0-9a-f]{6})$/i.exec(css);
  const v = m ? parseInt(m[1], 16) : 0x808080;
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * Instance mode over state.objects (bottom first) and state.picked (the selected object's id).
 * A brush drag paints into the selected object, or starts a new one of the active class when
 * none is selected; the eraser erases from the selected object only; a click selects the
 * object under the pointer (again: the next one under it), or none on empty space (so the next
 * stroke starts a new object). A closed polygon is a new object. Each edit is one undo step;
 * Python hears {kind: "instance"} for each object it made or changed (its rect's bits),
 * {kind: "instance_delete"} for each it removed and {kind: "instance_order"} when the order
 * changed otherwise. Painting into a draft, or recolouring it, accepts it.
 * @param {ToolDeps} deps
 */
export function createInstanceTool({ state, view, traits, history, ctx, send, redraw }) {
  /** @type {WeakMap<Obj, { key: string, canvas: HTMLCanvasElement }>} */
  const drawn = new WeakMap();
  let lastClass = traits.activeClass();

  /** Start from Python's objects (a new image, or its answer to a fetch). */
  /** @param {any} value */
  function load(value) {
    state.objects = objectsOf(value);
    state.picked = null;
    state.nextId = state.objects.reduce((m, o) => Math.max(m, o.id + 1), 1);
    lastClass = traits.activeClass();
  }

  const picked = () => state.objects.find((o) => o.id === state.picked) || null;

  /** @param {Obj} o */
  function sendObject(o) {
    const content = { kind: "instance", image_id: state.imageId, id: o.id, label: o.label, draft: o.draft, rect: o.rect };
    if (o.bits.length <= PATCH_RAW_MAX) send({ ...content, encoding: "raw" }, [o.bits]);
    else send({ ...content, encoding: "zlib" }, recoded(o.bits, new CompressionStream("deflate")).then((b) => [b]));
  }

  /** Tell Python how `now` differs from `was`: the objects made or changed, removed, the order. */
  /** @param {Obj[]} was @param {Obj[]} now */
  function sendChanges(was, now) {
    const before = new Map(was.map((o) => [o.id, o]));
    const ids = new Set(now.map((o) => o.id));
    for (const o of now) if (before.get(o.id) !== o) sendObject(o);
    for (const o of was) if (!ids.has(o.id)) send({ kind: "instance_delete", image_id: state.imageId, id: o.id });
    // Python keeps the objects it had in their order and puts new ones on top.
    const kept = was.filter((o) => ids.has(o.id)).map((o) => o.id);
    const expected = [...kept, ...now.filter((o) => !before.has(o.id)).map((o) => o.id)];
    const order = now.map((o) => o.id);
    if (order.some((id, i) => id !== expected[i])) {
      send({ kind: "instance_order", image_id: state.imageId, order });
    }
  }

  /** Make `next` the objects, as one undo step, and tell Python. */
  /** @param {Obj[]} next @param {number | null} pick */
  function commit(next, pick) {
    const was = state.objects;
    const old = new Set(was);
    const bytes = next.reduce((sum, o) => sum + (old.has(o) ? 0 : o.bits.length), 0);
    state.objects = next;
    state.picked = pick;
    state.nextId = next.reduce((m, o) => Math.max(m, o.id + 1), state.nextId);
    history.record({ kind: "objects", before: was, after: next, bytes });
    sendChanges(was, next);
    redraw();
  }

  /** Undo or redo an objects step. */
  /** @param {Step & { kind: "objects" }} step @param {"before" | "after"} side */
  function restore(step, side) {
    const was = state.objects;
    state.objects = step[side];
    if (!picked()) state.picked = null;
    sendChanges(was, state.objects);
  }

  /** @param {Obj} o @param {Partial<Obj>} change */
  const replaced = (o, change) => state.objects.map((x) => (x === o ? { ...x, ...change } : x));

  /** The ids of the objects holding image point p, topmost first. */
  /** @param {number[]} p @returns {number[]} */
  function objectsAt(p) {
    const x = Math.floor(p[0]);
    const y = Math.floor(p[1]);
    return state.objects
      .filter((o) => {
        const [x0, y0, x1] = o.rect;
        return x >= x0 && x < x1 && y >= y0 && y < o.rect[3] && o.bits[(y - y0) * (x1 - x0) + x - x0] === 1;
      })
      .map((o) => o.id)
      .reverse();
  }

  /** A click: select the object under (sx, sy), the next one there if selected; none elsewhere. */
  /** @param {number} sx @param {number} sy */
  function click(sx, sy) {
    const under = objectsAt(view.toImage(sx, sy));
    const at = state.picked === null ? -1 : under.indexOf(state.picked);
    state.picked = under.length ? under[(at + 1) % under.length] : null;
    const o = picked();
    if (o && o.label !== traits.activeClass()) {
      // The class picker shows the selected object's class; picking another recolours it.
      lastClass = o.label;
      traits.set("active_class", o.label);
    }
    redraw();
  }

  /** Pointer down with the brush or eraser: a stroke, or a click if the pointer does not move. */
  /** @param {number} sx @param {number} sy */
  function strokeDown(sx, sy) {
    const erase = traits.tool() === "eraser";
    const d = { id: 0, label: 0, rect: [0, 0, 0, 0], bits: new Uint8Array(0), last: [0, 0], dead: false };
    state.drag = { kind: "stroke", start: [sx, sy], moved: false, erase, target: picked(), ...d };
  }

  /** Grow the stroke's rect to hold `rect` too (its bits copied over). */
  /** @param {Drag & { kind: "stroke" }} d @param {number[]} rect */
  function grow(d, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    const r = d.rect;
    const empty = r[2] <= r[0] || r[3] <= r[1];
    const u = empty ? rect.slice() : [Math.min(r[0], rect[0]), Math.min(r[1], rect[1]), Math.max(r[2], rect[2]), Math.max(r[3], rect[3])];
    if (!empty && u.every((v, i) => v === r[i])) return;
    // Room to spare (tightened at the end): a long stroke reallocates a few times, not per move.
    const [mx, my] = [Math.max(32, (u[2] - u[0]) >> 2), Math.max(32, (u[3] - u[1]) >> 2)];
    [u[0], u[1], u[2], u[3]] = [Math.max(0, u[0] - mx), Math.max(0, u[1] - my), Math.min(state.W, u[2] + mx), Math.min(state.H, u[3] + my)];
    const w = u[2] - u[0];
    const bits = new Uint8Array(w * (u[3] - u[1]));
    const ow = r[2] - r[0];
    for (let y = r[1]; y < r[3] && !empty; y++) bits.set(d.bits.subarray((y - r[1]) * ow, (y - r[1] + 1) * ow), (y - u[1]) * w + r[0] - u[0]);
    d.rect = u;
    d.bits = bits;
  }

  /** Paint (or erase) the brush along a-b into the stroke's own copy of its object. */
  /** @param {Drag & { kind: "stroke" }} d @param {number[]} a @param {number[]} b */
  function paint(d, a, b) {
    const { W, H } = state;
    const r = traits.brushSize() / 2;
    if (!d.erase) grow(d, capsuleRect(a, b, r, W, H));
    const [x0, y0, x1, y1] = d.rect;
    const value = d.erase ? 0 : 1;
    capsule(a, b, r, W, H, (x, y) => {
      if (x >= x0 && x < x1 && y >= y0 && y < y1) d.bits[(y - y0) * (x1 - x0) + x - x0] = value;
    });
    d.last = b;
  }

  /** @param {Drag & { kind: "stroke" }} d @param {number} sx @param {number} sy */
  function strokeTo(d, sx, sy) {
    if (!d.moved) {
      if (Math.hypot(sx - d.start[0], sy - d.start[1]) < MIN_DRAG_PX) return;
      d.moved = true;
      const t = d.target;
      d.dead = d.erase && !t; // the eraser erases from the selected object only
      if (d.dead) return;
      d.id = t ? t.id : state.nextId;
      d.label = t ? t.label : traits.activeClass();
      if (t) [d.rect, d.bits] = [t.rect.slice(), t.bits.slice()];
      const p = view.toImage(d.start[0], d.start[1]);
      paint(d, p, p);
    }
    if (!d.dead) paint(d, d.last, view.toImage(sx, sy));
  }

  /** Pointer up: the stroke's object replaces its old self (or is new); no move: a click. */
  /** @param {Drag & { kind: "stroke" }} d @param {number} sx @param {number} sy */
  function strokeUp(d, sx, sy) {
    if (!d.moved) {
      click(sx, sy);
      return;
    }
    if (d.dead) return;
    const t = d.target;
    const shape = tightened(d.rect, d.bits);
    if (t && shape && shape.bits.length === t.bits.length && shape.rect.every((v, i) => v === t.rect[i]) && shape.bits.every((v, i) => v === t.bits[i])) return;
    if (!t && !shape) return;
    if (!shape) commit(state.objects.filter((o) => o !== t), null); // erased whole: gone
    else if (t) commit(replaced(t, { ...shape, draft: false }), t.id);
    else commit([...state.objects, { id: d.id, label: d.label, draft: false, ...shape }], d.id);
  }

  /** A closed polygon (state.polygon) is a new object of the active class, selected. */
  function fromPolygon() {
    const { W, H } = state;
    const pts = state.polygon;
    state.polygon = [];
    /** @type {number[][]} */
    const spans = [];
    polygonSpans(pts, W, H, (y, from, to) => spans.push([y, from, to]));
    if (!spans.length) return redraw();
    const x0 = Math.min(...spans.map((s) => s[1]));
    const x1 = Math.max(...spans.map((s) => s[2]));
    const y0 = spans[0][0];
    const y1 = spans[spans.length - 1][0] + 1;
    const bits = new Uint8Array((x1 - x0) * (y1 - y0));
    for (const [y, from, to] of spans) bits.fill(1, (y - y0) * (x1 - x0) + from - x0, (y - y0) * (x1 - x0) + to - x0);
    const id = state.nextId;
    commit([...state.objects, { id, label: traits.activeClass(), draft: false, rect: [x0, y0, x1, y1], bits }], id);
  }

  function deleteSelected() {
    const o = picked();
    if (o) commit(state.objects.filter((x) => x !== o), null);
  }

  function acceptSelected() {
    const o = picked();
    if (o && o.draft) commit(replaced(o, { draft: false }), o.id);
  }

  function acceptAll() {
    if (state.objects.some((o) => o.draft)) commit(state.objects.map((o) => (o.draft ? { ...o, draft: false } : o)), state.picked);
  }

  /** Delete every draft left (Shift+Del), as one undo step. */
  function rejectAll() {
    if (state.objects.some((o) => o.draft)) commit(state.objects.filter((o) => !o.draft), null);
  }

  /** Move the selected object one place up (+1) or down (-1) the stack of objects. */
  /** @param {number} step */
  function reorder(step) {
    const i = state.objects.findIndex((o) => o.id === state.picked);
    const j = i + step;
    if (i < 0 || j < 0 || j >= state.objects.length) return;
    const next = state.objects.slice();
    [next[i], next[j]] = [next[j], next[i]];
    commit(next, state.picked);
  }

  /** The active class changed (a digit, a class button): the selected object takes it. */
  function classChanged() {
    const k = traits.activeClass();
    if (k === lastClass) return;
    lastClass = k;
    const o = picked();
    if (o && o.label !== k) commit(replaced(o, { label: k, draft: false }), o.id);
  }

  /** Deselect: the next brush stroke starts a new object. */
  function startNew() {
    state.picked = null;
    redraw();
  }

  /** The object's pixels as drawn: its own fill (its class colour, tinted per object), the
   * edge in the class colour (dotted for a draft), white when selected; one pixel per k x k
   * block (any of its pixels set) past SPRITE_MAX_SIDE. Kept until it changes. */
  /** @param {Obj} o @param {Uint8Array} bits @param {number[]} rect */
  function sprite(o, bits, rect) {
    const sel = o.id === state.picked;
    const color = traits.color(o.label);
    const key = `${color}|${sel}|${o.draft}|${traits.opacity()}`;
    const kept = bits === o.bits ? drawn.get(o) : undefined;
    if (kept && kept.key === key) return kept.canvas;
    const bw = rect[2] - rect[0];
    const k = Math.ceil(Math.max(bw, rect[3] - rect[1]) / SPRITE_MAX_SIDE);
    const w = Math.ceil(bw / k);
    const h = Math.ceil((rect[3] - rect[1]) / k);
    const blocks = k === 1 ? bits : new Uint8Array(w * h);
    if (k > 1) for (let i = 0; i < bits.length; i++) if (bits[i]) blocks[Math.floor(Math.floor(i / bw) / k) * w + Math.floor((i % bw) / k)] = 1;
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(w, 1);
    canvas.height = Math.max(h, 1);
    const c2 = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    const img = c2.createImageData(canvas.width, canvas.height);
    const edge = sel ? [255, 255, 255] : rgbOf(color);
    const t = TINTS[o.id % TINTS.length];
    const fill = rgbOf(color).map((v) => Math.round(t >= 0 ? v + (255 - v) * t : v * (1 + t)));
    const alpha = Math.round(traits.opacity() * (o.draft ? 0.3 : 0.55) * 255);
    const on = (/** @type {number} */ x, /** @type {number} */ y) => x >= 0 && y >= 0 && x < w && y < h && blocks[y * w + x] === 1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!blocks[y * w + x]) continue;
        const isEdge = !on(x - 1, y) || !on(x + 1, y) || !on(x, y - 1) || !on(x, y + 1);
        const solid = isEdge && (!o.draft || (x + y) % 4 < 2);
        const rgb = solid ? edge : fill;
        img.data.set([rgb[0], rgb[1], rgb[2], solid ? 255 : alpha], 4 * (y * w + x));
      }
    }
    c2.putImageData(img, 0, 0);
    if (bits === o.bits) drawn.set(o, { key, canvas });
    return canvas;
  }

  /** Draw the objects, bottom first, in image pixels (the caller set the view's transform). */
  function drawObjects() {
    const d = state.drag && state.drag.kind === "stroke" && state.drag.moved && !state.drag.dead ? state.drag : null;
    const live = d ? { id: d.id, label: d.label, draft: false, rect: d.rect, bits: d.bits } : null;
    const list = live && !d?.target ? [...state.objects, live] : state.objects;
    for (const o of list) {
      const shown = live && o.id === live.id ? live : o;
      if (shown.rect[2] <= shown.rect[0]) continue;
      const [x0, y0, x1, y1] = shown.rect;
      ctx.drawImage(sprite(o, shown.bits, shown.rect), x0, y0, x1 - x0, y1 - y0);
    }
  }

  /**
   * Each object's class tag at its top left (a draft's with its confidence and "?"), in screen
   * pixels; returns each tag's text and screen rect [x, y, w, h].
   * @returns {{ text: string, rect: number[] }[]}
   */
  function drawTags() {
    ctx.font = "11px sans-serif";
    const tags = [];
    for (const o of state.objects) {
      const [x, y] = view.toScreen(o.rect[0], o.rect[1]);
      const score = o.score === undefined ? "" : ` ${o.score.toFixed(2)}`;
      const text = o.draft ? `${traits.className(o.label)}${score} ?` : traits.className(o.label);
      const tw = ctx.measureText(text).width + 6;
      const top = y >= 15 ? y - 15 : y;
      ctx.fillStyle = o.id === state.picked ? "#ffffff" : traits.color(o.label);
      ctx.fillRect(x, top, tw, 15);
      ctx.fillStyle = o.id === state.picked ? "#000000" : "#ffffff";
      ctx.fillText(text, x + 3, top + 11);
      tags.push({ text, rect: [x, top, tw, 15] });
    }
    return tags;
  }

  return {
    load,
    restore,
    strokeDown,
    strokeTo,
    strokeUp,
    fromPolygon,
    deleteSelected,
    acceptSelected,
    acceptAll,
    rejectAll,
    reorder,
    classChanged,
    startNew,
    drawObjects,
    drawTags,
  };
}
/** @typedef {ReturnType<typeof createInstanceTool>} InstanceTool */
