// @ts-check
/**
 * Box mode: draw, select, move, resize, delete boxes, accept predictions (drafts); draws the
 * boxes and sends each finished edit to Python.
 */

import { drawLabels, isShown, labelText } from "./drafts.js";
import { isDoubleClick } from "./state.js";
import { clamp, cloneBoxes, normRect, round2 } from "./util.js";

/** @typedef {import("./types.js").Box} Box */
/** @typedef {import("./types.js").BoxState} BoxState */
/** @typedef {import("./types.js").Drag} Drag */
/** @typedef {import("./types.js").ListName} ListName */
/** @typedef {import("./types.js").Ref} Ref */
/** @typedef {import("./types.js").State} State */
/** @typedef {import("./view.js").View} View */
/** @typedef {import("./traits.js").Traits} Traits */
/** @typedef {import("./history.js").History} History */

const HANDLE_PX = 5; // half-size of a resize handle
const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
/** The cursor over what a drag would take hold of (createBoxTool's grabAt); none: crosshair. */
/** @type {Record<string, string>} */
export const GRAB_CURSORS = {
  move: "move",
  n: "ns-resize",
  s: "ns-resize",
  e: "ew-resize",
  w: "ew-resize",
  nw: "nwse-resize",
  se: "nwse-resize",
  ne: "nesw-resize",
  sw: "nesw-resize",
};

/**
 * @typedef {{
 *   state: State, view: View, traits: Traits, history: History,
 *   ctx: CanvasRenderingContext2D,
 *   send: (content: object, buffers?: ArrayBufferView[] | Promise<ArrayBufferView[]>) => void,
 *   redraw: () => void,
 * }} ToolDeps
 */

/**
 * Box mode: drag to draw a box (anywhere but on the selected box: boxes nest), click to select
 * (again: the next box under the pointer), drag the selected box or a handle to move or resize
 * it, delete it, accept predicted boxes (drafts: dashed, with their confidence) by key, double
 * click or by editing them, or reject them all. Drafts below the draft threshold are hidden:
 * not drawn, not selectable, not accepted by "accept all" (drafts.js).
 * Each finished edit is one undo step and one {kind: "boxes"} message.
 * @param {ToolDeps} deps
 */
export function createBoxTool({ state, view, traits, history, ctx, send, redraw }) {
  /** Start from these boxes and drafts (a new image, Python's answer, undo or redo). */
  /** @param {Box[]} boxes @param {Box[]} drafts */
  function load(boxes, drafts) {
    state.boxes = cloneBoxes(boxes);
    state.drafts = cloneBoxes(drafts);
    state.selected = null;
  }

  function snapshot() {
    return { boxes: cloneBoxes(state.boxes), drafts: cloneBoxes(state.drafts) };
  }

  function sendBoxes() {
    const { imageId, boxes, drafts } = state;
    send({ kind: "boxes", image_id: imageId, boxes: cloneBoxes(boxes), drafts: cloneBoxes(drafts) });
  }

  /** Apply a change to boxes / drafts as one undoable step and tell Python. */
  /** @param {() => void} change */
  function edit(change) {
    const before = snapshot();
    change();
    history.record({ kind: "boxes", before, after: snapshot() });
    sendBoxes();
    redraw();
  }

  /** Undo or redo to a recorded box state. */
  /** @param {BoxState} boxState */
  function restore(boxState) {
    load(boxState.boxes, boxState.drafts);
    sendBoxes();
  }

  /** @param {number[]} xyxy @returns {number[] | null} */
  function finalRect(xyxy) {
    const { W, H } = state;
    const r = [
      round2(clamp(xyxy[0], 0, W)),
      round2(clamp(xyxy[1], 0, H)),
      round2(clamp(xyxy[2], 0, W)),
      round2(clamp(xyxy[3], 0, H)),
    ];
    return r[0] < r[2] && r[1] < r[3] ? r : null;
  }

  /** Whether the image holds as many boxes and drafts as Python accepts: no new box then. */
  function full() {
    return state.boxes.length + state.drafts.length >= traits.maxBoxes();
  }

  /** @param {Box} draft */
  const shown = (draft) => isShown(draft, traits.draftThreshold());

  /** @param {Ref} ref */
  function acceptDraft(ref) {
    edit(() => {
      const [d] = state.drafts.splice(ref.index, 1);
      state.boxes.push({ xyxy: d.xyxy, label: d.label });
      state.selected = { list: "boxes", index: state.boxes.length - 1 };
    });
  }

  function acceptSelected() {
    if (state.selected && state.selected.list === "drafts") acceptDraft(state.selected);
  }

  /** Accept every draft shown (those below the threshold stay drafts). */
  function acceptAll() {
    if (!state.drafts.some(shown)) return;
    edit(() => {
      state.boxes.push(...state.drafts.filter(shown).map((d) => ({ xyxy: d.xyxy, label: d.label })));
      state.drafts = state.drafts.filter((d) => !shown(d));
      state.selected = null;
    });
  }

  /** Reject every draft left, shown or hidden: one undo step. */
  function rejectAll() {
    if (state.drafts.length === 0) return;
    edit(() => {
      state.drafts = [];
      if (state.selected && state.selected.list === "drafts") state.selected = null;
    });
  }

  function deleteSelected() {
    if (!state.selected) return;
    const ref = state.selected;
    edit(() => {
      (ref.list === "boxes" ? state.boxes : state.drafts).splice(ref.index, 1);
      state.selected = null;
    });
  }

  /** The box's corners as drawn: moved or resized live while it is being dragged. */
  /** @param {ListName} list @param {number} index @returns {number[]} */
  function liveXyxy(list, index) {
    const d = state.drag;
    if (d && (d.kind === "move" || d.kind === "resize") && d.moved) {
      if (d.target.list === list && d.target.index === index) return d.xyxy;
    }
    return (list === "boxes" ? state.boxes : state.drafts)[index].xyxy;
  }

  /** @param {number[]} xyxy */
  function handlePoints(xyxy) {
    const [x0, y0] = view.toScreen(xyxy[0], xyxy[1]);
    const [x1, y1] = view.toScreen(xyxy[2], xyxy[3]);
    const xm = (x0 + x1) / 2;
    const ym = (y0 + y1) / 2;
    /** @type {Record<string, number[]>} */
    const at = { nw: [x0, y0], n: [xm, y0], ne: [x1, y0], e: [x1, ym] };
    Object.assign(at, { se: [x1, y1], s: [xm, y1], sw: [x0, y1], w: [x0, ym] });
    return HANDLES.map((name) => ({ name, x: at[name][0], y: at[name][1] }));
  }

  /** @param {number} sx @param {number} sy @returns {string | null} */
  function hitHandle(sx, sy) {
    const sel = state.selected;
    if (!sel) return null;
    for (const h of handlePoints(liveXyxy(sel.list, sel.index))) {
      if (Math.abs(sx - h.x) <= HANDLE_PX + 2 && Math.abs(sy - h.y) <= HANDLE_PX + 2) return h.name;
    }
    return null;
  }

  /** @param {Ref | null} a @param {Ref | null} b */
  const sameRef = (a, b) => !!a && !!b && a.list === b.list && a.index === b.index;

  /**
   * Every box and draft under an image point, in the order clicks there select them: boxes
   * before drafts, the smaller first.
   * @param {number[]} p @returns {Ref[]}
   */
  function hitAll(p) {
    const [x, y] = p;
    const tol = 2 / view.scale;
    /** @type {ListName[]} */
    const lists = ["boxes", "drafts"];
    /** @type {Ref[]} */
    const found = [];
    for (const list of lists) {
      const items = list === "boxes" ? state.boxes : state.drafts;
      /** @type {{ index: number, area: number }[]} */
      const hits = [];
      items.forEach((b, index) => {
        if (list === "drafts" && !shown(b)) return;
        const [x0, y0, x1, y1] = b.xyxy;
        if (x >= x0 - tol && x <= x1 + tol && y >= y0 - tol && y <= y1 + tol) {
          hits.push({ index, area: (x1 - x0) * (y1 - y0) });
        }
      });
      hits.sort((a, b) => a.area - b.area || a.index - b.index);
      for (const h of hits) found.push({ list, index: h.index });
    }
    return found;
  }

  /**
   * What a drag from screen point (sx, sy) takes hold of: the name of a handle of the selected
   * box, "move" on the selected box itself, "" elsewhere (the drag draws a box).
   * @param {number} sx @param {number} sy @returns {string}
   */
  function grabAt(sx, sy) {
    const sel = state.selected;
    if (!sel) return "";
    const handle = hitHandle(sx, sy);
    if (handle) return handle;
    return hitAll(view.toImage(sx, sy)).some((r) => sameRef(r, sel)) ? "move" : "";
  }

  /**
   * Pointer down at screen point (sx, sy): a handle of the selected box resizes it, the selected
   * box itself moves; anywhere else (inside another box or draft too: boxes nest) starts a new
   * box, or a click if the pointer does not move (see click).
   * @param {number} sx @param {number} sy
   */
  function down(sx, sy) {
    const p = view.toImage(sx, sy);
    const sel = state.selected;
    const grab = grabAt(sx, sy);
    if (sel && grab) {
      const orig = liveXyxy(sel.list, sel.index).slice();
      const kind = grab === "move" ? "move" : "resize";
      const handle = grab === "move" ? "" : grab;
      state.drag = { kind, start: [sx, sy], from: p, target: sel, handle, orig, xyxy: orig.slice(), moved: false };
    } else {
      state.drag = { kind: "create", start: [sx, sy], from: view.clampPoint(p), xyxy: null, moved: false };
    }
    redraw();
  }

  /**
   * A click at screen point (sx, sy) selects the first box or draft under it (see hitAll), or
   * the one after the selected one there, so each of a stack can be reached; a click on nothing
   * deselects. A double click on the selected draft accepts it.
   * @param {number} sx @param {number} sy
   */
  function click(sx, sy) {
    const under = hitAll(view.toImage(sx, sy));
    const sel = state.selected;
    const at = under.findIndex((r) => sameRef(r, sel));
    if (isDoubleClick(state, sx, sy) && sel && sel.list === "drafts" && at >= 0) {
      acceptDraft(sel);
      return;
    }
    state.selected = under.length ? under[(at + 1) % under.length] : null;
    redraw();
  }

  /** @param {Drag} d @param {number[]} p image point */
  function dragTo(d, p) {
    const { W, H } = state;
    if (d.kind === "create") {
      d.xyxy = normRect(d.from, view.clampPoint(p));
    } else if (d.kind === "move") {
      const [x0, y0, x1, y1] = d.orig;
      const dx = clamp(p[0] - d.from[0], -x0, W - x1);
      const dy = clamp(p[1] - d.from[1], -y0, H - y1);
      d.xyxy = [x0 + dx, y0 + dy, x1 + dx, y1 + dy];
    } else if (d.kind === "resize") {
      const q = view.clampPoint(p);
      const r = d.orig.slice();
      if (d.handle.includes("w")) r[0] = q[0];
      if (d.handle.includes("e")) r[2] = q[0];
      if (d.handle.includes("n")) r[1] = q[1];
      if (d.handle.includes("s")) r[3] = q[1];
      d.xyxy = normRect([r[0], r[1]], [r[2], r[3]]);
    }
  }

  /** Pointer up: finish the box drawn, moved or resized; a pointer that did not move clicks. */
  /** @param {Drag} d @param {number} sx @param {number} sy */
  function up(d, sx, sy) {
    if (d.kind !== "pan" && d.kind !== "paint" && !d.moved) {
      click(sx, sy);
      return;
    }
    if (d.kind === "create") {
      const rect = d.xyxy ? finalRect(d.xyxy) : null;
      if (rect && !full()) {
        const label = traits.activeClass();
        edit(() => {
          state.boxes.push({ xyxy: rect, label });
          // Not selected: the next drag inside it draws a box in it (a person, then the camera
          // they hold); a click selects it.
          state.selected = null;
        });
      }
      return;
    }
    if (d.kind !== "move" && d.kind !== "resize") return;
    const rect = finalRect(d.xyxy);
    const target = d.target;
    if (!rect || rect.every((v, i) => v === round2(d.orig[i]))) return;
    edit(() => {
      if (target.list === "drafts") {
        // Editing a draft accepts it.
        const [draft] = state.drafts.splice(target.index, 1);
        state.boxes.push({ xyxy: rect, label: draft.label });
        state.selected = { list: "boxes", index: state.boxes.length - 1 };
      } else {
        state.boxes[target.index] = { xyxy: rect, label: state.boxes[target.index].label };
        state.selected = target;
      }
    });
  }

  /**
   * Draw a box's fill and outline; returns its screen corners and label for drawLabels.
   * @param {number[]} xyxy @param {Box} box @param {boolean} dashed @param {boolean} sel
   * @returns {import("./drafts.js").Drawn}
   */
  function drawBox(xyxy, box, dashed, sel) {
    const label = box.label;
    const [x0, y0] = view.toScreen(xyxy[0], xyxy[1]);
    const [x1, y1] = view.toScreen(xyxy[2], xyxy[3]);
    const color = traits.color(label);
    ctx.globalAlpha = traits.opacity() * 0.4;
    ctx.fillStyle = color;
    ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    ctx.globalAlpha = 1;
    ctx.setLineDash(dashed ? [6, 4] : []);
    ctx.lineWidth = sel ? 3 : 2;
    ctx.strokeStyle = color;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.setLineDash([]);
    const text = labelText(traits.className(label), box, dashed);
    ctx.font = "11px sans-serif";
    return { x0, y0, x1, y1, w: ctx.measureText(text).width + 6, text, color, dashed, sel };
  }

  /** Draw drafts, boxes, the box being drawn and the selection's handles (screen pixels); returns the labels drawn. */
  function draw() {
    /** @type {ListName[]} */
    const lists = ["drafts", "boxes"];
    if (state.selected && state.selected.list === "drafts" && !shown(state.drafts[state.selected.index])) {
      state.selected = null; // hidden by the threshold: no longer selectable
    }
    const sel = state.selected;
    /** @type {import("./drafts.js").Drawn[]} */
    const drawn = [];
    /** @type {number[]} */
    const scores = [];
    for (const list of lists) {
      const items = list === "boxes" ? state.boxes : state.drafts;
      items.forEach((b, i) => {
        if (list === "drafts" && !shown(b)) return;
        const isSel = !!sel && sel.list === list && sel.index === i;
        drawn.push(drawBox(liveXyxy(list, i), b, list === "drafts", isSel));
        scores.push(typeof b.score === "number" ? b.score : 1);
      });
    }
    const d = state.drag;
    if (d && d.kind === "create" && d.xyxy) {
      drawn.push(drawBox(d.xyxy, { xyxy: d.xyxy, label: traits.activeClass() }, false, false));
      scores.push(1);
    }
    const labels = drawLabels(ctx, drawn, scores);
    if (sel) {
      ctx.fillStyle = "#ffffff";
      ctx.strokeStyle = "#000000";
      ctx.lineWidth = 1;
      for (const h of handlePoints(liveXyxy(sel.list, sel.index))) {
        ctx.fillRect(h.x - HANDLE_PX, h.y - HANDLE_PX, HANDLE_PX * 2, HANDLE_PX * 2);
        ctx.strokeRect(h.x - HANDLE_PX, h.y - HANDLE_PX, HANDLE_PX * 2, HANDLE_PX * 2);
      }
    }
    return labels;
  }

  return { load, restore, grabAt, down, dragTo, up, acceptSelected, acceptAll, rejectAll, deleteSelected, draw, full };
}
/** @typedef {ReturnType<typeof createBoxTool>} BoxTool */
