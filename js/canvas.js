// @ts-check
/**
 * The al_widget drawing canvas: shows one image; draws boxes or paints a class mask on it.
 * All geometry sent to Python is in image pixels; screen pixels exist only here.
 *
 * One ES module: anywidget loads it from a Blob URL, where imports of sibling files do not
 * resolve. Its parts, in this order (search for the name):
 *   createState     the one mutable `state` of a view: image size, boxes, mask, gesture under way
 *   readTraits      the settings Python syncs: mode, tool, brush size, class, colors, opacity
 *   createView      zoom and pan: fit, zoom at a point, pan, screen <-> image coordinates
 *   createHistory   the undo / redo stacks of box and mask steps
 *   createBoxTool   box mode: draw, select, move, resize, delete, accept predictions; draws boxes
 *   createMaskTool  mask mode: brush, eraser, polygon fill; the mask overlay; mask patches
 *   createKeymap    key -> action, from the `keymap` trait (filled by al_widget/widget/keys.py)
 *   passToApp       chords with Ctrl / Alt that neither uses, handed to JupyterLab's page-wide
 *                   shortcuts (Ctrl+S saves the notebook)
 *   panelKeys       the panel around the canvas: keyboard focus (click it), its keys sent to
 *                   Python while it has focus, JupyterLab's shortcuts kept away from it
 *   render          builds the DOM; routes model, pointer, wheel and key events to the parts
 * Where a gesture is handled: pointer events in render's onPointerDown / Move / Up, which pass
 * them on to the view (pan), the box tool or the mask tool; the wheel in onWheel; keys in
 * onKeyDown, through the keymap to render's `actions`; the panel's keys in panelKeys.
 * While the `finished` trait holds a message the canvas shows it and takes no edit.
 *
 * Sync with Python: Python sends the image and what it loaded with it (loaded_boxes,
 * loaded_drafts, loaded_mask) under a new image_id, and the view starts afresh from them. Each
 * finished edit goes to Python as one message ({kind: "boxes"}, or {kind: "mask_patch"} with the
 * class values of the rect a mask edit changed); edits are never written to the model's traits.
 * A view just displayed asks for the current boxes and mask ({kind: "fetch"}) and Python answers
 * ({kind: "state"}). Masks come from Python packed (see unpack in createMaskTool; an empty one is
 * all background).
 *
 * Very large images: width and height are the image's own size, and everything here (boxes,
 * mask, zoom, pan) is in its pixels; Python may send a smaller display copy of the pixels, drawn
 * stretched over W x H. The mask overlay is drawn at most OVERLAY_MAX_SIDE pixels on a side too
 * (one overlay pixel per k x k block of the mask), while the mask itself stays full size.
 */

/** @typedef {{ xyxy: number[], label: number }} Box */
/** @typedef {"boxes" | "drafts"} ListName */
/** @typedef {{ list: ListName, index: number }} Ref */
/** @typedef {{ boxes: Box[], drafts: Box[] }} BoxState */
/**
 * @typedef {{ kind: "boxes", before: BoxState, after: BoxState }
 *   | { kind: "mask", rect: number[], before: Uint8Array, after: Uint8Array }} Step
 */
/**
 * @typedef {{ kind: "create", start: number[], from: number[], xyxy: number[] | null, moved: boolean }
 *   | { kind: "move" | "resize", start: number[], from: number[], target: Ref, handle: string,
 *       orig: number[], xyxy: number[], moved: boolean }
 *   | { kind: "pan", start: number[], origin: number[] }
 *   | { kind: "paint", value: number, before: Rows, dirty: number[], last: number[] }} Drag
 */
/** @typedef {Map<number, Uint8Array>} Rows mask rows as they were before a gesture, by y */
/** @typedef {{ action: string, keys: string[], modes: string[], label: string }} KeyBinding */
/**
 * @typedef {{
 *   get(name: string): any,
 *   set(name: string, value: any): void,
 *   save_changes(): void,
 *   on(event: string, cb: (...args: any[]) => void): void,
 *   off(event?: string, cb?: (...args: any[]) => void): void,
 *   send(content: object, callbacks?: any, buffers?: ArrayBufferView[]): void,
 * }} Model
 */

const MIN_DRAG_PX = 3; // smaller drags are clicks
const HANDLE_PX = 5; // half-size of a resize handle
const CLOSE_PX = 8; // a polygon click this near the first point closes it
const DOUBLE_MS = 400;
const MAX_HISTORY = 200;
/** Undo steps keep at most this many bytes (a stroke over a 6000x8000 mask can hold 96 MB). */
const MAX_HISTORY_BYTES = 256 * 2 ** 20;
const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
/** The cursor over what a drag would take hold of (createBoxTool's grabAt); none: crosshair. */
/** @type {Record<string, string>} */
const GRAB_CURSORS = {
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
/** The longest side of the mask overlay; al_widget/widget/_encoding.py's DISPLAY_MAX_SIDE. */
const OVERLAY_MAX_SIDE = 2048;
/** A mask patch of more bytes than this goes to Python zlib-compressed. */
const PATCH_RAW_MAX = 65536;

/** @param {number} v @param {number} lo @param {number} hi */
const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
/** @param {number} v */
const round2 = (v) => Math.round(v * 100) / 100;
/** @param {Box[]} list @returns {Box[]} */
const cloneBoxes = (list) => list.map((b) => ({ xyxy: b.xyxy.slice(), label: b.label }));

/** @param {any} data @returns {Uint8Array} */
function bytesOf(data) {
  if (!data) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** @param {any} value @returns {Box[]} */
function boxesOf(value) {
  if (!Array.isArray(value)) return [];
  return value
    .filter((b) => b && Array.isArray(b.xyxy) && b.xyxy.length === 4)
    .map((b) => ({ xyxy: b.xyxy.map(Number), label: Number(b.label) | 0 }));
}

/**
 * Bytes pushed through a (De)CompressionStream ("deflate" is zlib's format, as Python's zlib).
 * @param {Uint8Array} bytes @param {CompressionStream | DecompressionStream} codec
 * @returns {Promise<Uint8Array>}
 */
async function recoded(bytes, codec) {
  const stream = new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (bytes)]).stream().pipeThrough(codec);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** @param {number[]} a @param {number[]} b @returns {number[]} */
function normRect(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
}

// ---------- state ----------

/**
 * @typedef {{
 *   W: number, H: number, imageId: number, synced: boolean,
 *   boxes: Box[], drafts: Box[], selected: Ref | null, mask: Uint8Array, maskReady: boolean,
 *   maskError: string,
 *   drag: Drag | null, polygon: number[][], pointer: number[] | null, panKey: boolean,
 *   lastClick: { t: number, x: number, y: number } | null,
 * }} State
 */

/**
 * The one mutable state of a view; the parts below read and change it, nothing else holds any.
 * W, H: image size. imageId: the load the edits belong to. synced: holds Python's current boxes
 * and mask for imageId (false from display until Python answers the fetch). boxes, drafts,
 * selected: box mode's shapes. mask: W*H class ids. maskReady: mask holds the class map loaded
 * (false while it is being inflated: no mask edit then). maskError: why it could not be read
 * (edits stay off: a patch would overwrite Python's copy with what this view does not show).
 * drag: the pointer gesture under way.
 * polygon: the polygon's points so far (image pixels). pointer: the last pointer position
 * (screen pixels). panKey: the pan key (space) is held. lastClick: for double-click detection.
 * @returns {State}
 */
function createState() {
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
    drag: null,
    polygon: [],
    pointer: null,
    panKey: false,
    lastClick: null,
  };
}

/**
 * Record a click at screen point (sx, sy); true when it is the second of a double click.
 * @param {State} state @param {number} sx @param {number} sy
 */
function isDoubleClick(state, sx, sy) {
  const now = performance.now();
  const last = state.lastClick;
  const isDouble = !!last && now - last.t < DOUBLE_MS && Math.hypot(sx - last.x, sy - last.y) < 5;
  state.lastClick = isDouble ? null : { t: now, x: sx, y: sy };
  return isDouble;
}

// ---------- traits ----------

/**
 * The settings Python syncs, read fresh on each use; set() changes one and saves it.
 * @param {Model} model
 */
function readTraits(model) {
  return {
    mode: () => /** @type {string} */ (model.get("mode")),
    tool: () => /** @type {string} */ (model.get("tool")),
    brushSize: () => Math.max(1, Number(model.get("brush_size")) || 1),
    activeClass: () => Number(model.get("active_class")) | 0,
    /** The class the brush and polygon paint: never class 0, the background, when others exist. */
    paintClass() {
      const k = Number(model.get("active_class")) | 0;
      return k === 0 && (model.get("classes") || []).length > 1 ? 1 : k;
    },
    /** The message shown when there is nothing to edit; "" otherwise. */
    finished: () => String(model.get("finished") || ""),
    /** @returns {string[]} the chords of the panel around the canvas */
    panelKeys: () => model.get("panel_keys") || [],
    /** @returns {Record<string, string>} panel chords that may show the next image early */
    swapKeys: () => model.get("swap_keys") || {},
    opacity: () => clamp(Number(model.get("opacity")), 0, 1),
    /** The most boxes and drafts together that Python accepts for one image. */
    maxBoxes: () => Number(model.get("max_boxes")) || Infinity,
    /** @returns {string[]} */
    colors: () => model.get("colors") || [],
    /** @param {number} label */
    color: (label) => (model.get("colors") || [])[label] || "#808080",
    /** @param {number} label @returns {string} */
    className: (label) => (model.get("classes") || [])[label] ?? String(label),
    /** @param {string} name @param {any} value */
    set(name, value) {
      model.set(name, value);
      model.save_changes();
    },
  };
}
/** @typedef {ReturnType<typeof readTraits>} Traits */

// ---------- view: zoom and pan ----------

/**
 * Zoom and pan: the image is drawn at `scale` screen pixels per image pixel, its origin at
 * (ox, oy) in the stage. `fitted` until the user zooms or pans; a resize then refits.
 * @param {State} state @param {HTMLElement} stage @param {HTMLCanvasElement} canvas
 */
function createView(state, stage, canvas) {
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

// ---------- undo history ----------

/**
 * The undo and redo stacks of one image's edits (box steps and mask steps alike); a new step
 * clears redo, and the oldest steps go past `max` steps or `maxBytes` of mask pixels (the
 * newest step is always kept). Applying a step is the tools' job.
 * @param {number} max steps kept @param {number} maxBytes mask bytes kept
 */
function createHistory(max, maxBytes) {
  /** @type {Step[]} */
  let undoStack = [];
  /** @type {Step[]} */
  let redoStack = [];
  /** @param {Step} step */
  const bytes = (step) => (step.kind === "mask" ? step.before.length + step.after.length : 0);
  return {
    /** @param {Step} step */
    record(step) {
      undoStack.push(step);
      redoStack = [];
      let held = undoStack.reduce((sum, s) => sum + bytes(s), 0);
      while (undoStack.length > 1 && (undoStack.length > max || held > maxBytes)) {
        held -= bytes(/** @type {Step} */ (undoStack.shift()));
      }
    },
    /** @returns {Step | null} the step to undo, now on the redo stack */
    undo() {
      const step = undoStack.pop();
      if (step) redoStack.push(step);
      return step || null;
    },
    /** @returns {Step | null} the step to redo, now on the undo stack */
    redo() {
      const step = redoStack.pop();
      if (step) undoStack.push(step);
      return step || null;
    },
    clear() {
      undoStack = [];
      redoStack = [];
    },
    size: () => undoStack.length,
  };
}
/** @typedef {ReturnType<typeof createHistory>} History */

// ---------- box tool ----------

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
 * it, delete it, accept predicted boxes (drafts: dashed) by key, double click or by editing them.
 * Each finished edit is one undo step and one {kind: "boxes"} message.
 * @param {ToolDeps} deps
 */
function createBoxTool({ state, view, traits, history, ctx, send, redraw }) {
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

  /** @param {Ref} ref */
  function acceptDraft(ref) {
    edit(() => {
      const [d] = state.drafts.splice(ref.index, 1);
      state.boxes.push(d);
      state.selected = { list: "boxes", index: state.boxes.length - 1 };
    });
  }

  function acceptSelected() {
    if (state.selected && state.selected.list === "drafts") acceptDraft(state.selected);
  }

  function acceptAll() {
    if (state.drafts.length === 0) return;
    edit(() => {
      state.boxes.push(...state.drafts);
      state.drafts = [];
      state.selected = null;
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

  /** @param {number[]} xyxy @param {number} label @param {boolean} dashed @param {boolean} sel */
  function drawBox(xyxy, label, dashed, sel) {
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
    const text = dashed ? `${traits.className(label)} ?` : traits.className(label);
    ctx.font = "11px sans-serif";
    const tw = ctx.measureText(text).width + 6;
    const ty = y0 >= 15 ? y0 - 15 : y0;
    ctx.fillStyle = color;
    ctx.fillRect(x0 - (sel ? 1.5 : 1), ty, tw, 15);
    ctx.fillStyle = "#ffffff";
    ctx.fillText(text, x0 + 2, ty + 11);
  }

  /** Draw drafts, boxes, the box being drawn and the selection's handles (screen pixels). */
  function draw() {
    /** @type {ListName[]} */
    const lists = ["drafts", "boxes"];
    const sel = state.selected;
    for (const list of lists) {
      const items = list === "boxes" ? state.boxes : state.drafts;
      items.forEach((b, i) => {
        const isSel = !!sel && sel.list === list && sel.index === i;
        drawBox(liveXyxy(list, i), b.label, list === "drafts", isSel);
      });
    }
    const d = state.drag;
    if (d && d.kind === "create" && d.xyxy) drawBox(d.xyxy, traits.activeClass(), false, false);
    if (sel) {
      ctx.fillStyle = "#ffffff";
      ctx.strokeStyle = "#000000";
      ctx.lineWidth = 1;
      for (const h of handlePoints(liveXyxy(sel.list, sel.index))) {
        ctx.fillRect(h.x - HANDLE_PX, h.y - HANDLE_PX, HANDLE_PX * 2, HANDLE_PX * 2);
        ctx.strokeRect(h.x - HANDLE_PX, h.y - HANDLE_PX, HANDLE_PX * 2, HANDLE_PX * 2);
      }
    }
  }

  return { load, restore, grabAt, down, dragTo, up, acceptSelected, acceptAll, deleteSelected, draw, full };
}

// ---------- mask tool ----------

/**
 * Mask mode: the brush paints the active class (never class 0, the background: the eraser
 * paints that; nor 255, pixels not labeled, drawn striped) along the pointer; the
 * polygon tool places points and fills the closed polygon. The class map is state.mask; an
 * offscreen canvas holds its colored overlay, one overlay pixel per k x k block of the map (k = 1
 * unless a side passes OVERLAY_MAX_SIDE; a block shows its last painted pixel's class). Each
 * finished stroke or fill is one undo step and one {kind: "mask_patch"} message carrying the
 * class values of the rect it changed (so does each undo and redo); patches go out in order.
 * @param {ToolDeps} deps
 */
function createMaskTool({ state, view, traits, history, ctx, send, redraw }) {
  /** The mask value of pixels not labeled (al_widget.Mask.IGNORE); no tool paints it. */
  const IGNORE = 255;
  const VOID_LIGHT = [224, 224, 192]; // VOC's color of void
  const VOID_DARK = [64, 64, 64];
  const overlay = document.createElement("canvas");
  const overlayCtx = /** @type {CanvasRenderingContext2D} */ (overlay.getContext("2d"));
  /** Mask pixels per overlay pixel, along each axis. */
  let k = 1;
  /** Counts loads: an inflated map is used only if no load came after its own. */
  let loads = 0;
  const probe = document.createElement("canvas");
  probe.width = probe.height = 1;
  const probeCtx = /** @type {CanvasRenderingContext2D} */ (
    probe.getContext("2d", { willReadFrequently: true })
  );
  /** @type {ImageData | null} */
  let overlayImage = null;
  /** @type {number[][]} */
  let rgb = [];

  /** @param {string} css @returns {number[]} */
  function parseColor(css) {
    probeCtx.clearRect(0, 0, 1, 1);
    probeCtx.fillStyle = "#808080";
    probeCtx.fillStyle = css;
    probeCtx.fillRect(0, 0, 1, 1);
    const d = probeCtx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2]];
  }

  /** Read the class colors anew (the overlay is repainted by the caller). */
  function recolor() {
    rgb = traits.colors().map(parseColor);
  }

  /** Recolor the overlay pixels over the mask pixels [x0, x1) x [y0, y1). */
  function paintOverlay(x0 = 0, y0 = 0, x1 = state.W, y1 = state.H) {
    if (!overlayImage || x1 <= x0 || y1 <= y0) return;
    const { W, H, mask } = state;
    const ow = overlayImage.width;
    const px = overlayImage.data;
    const [ox0, oy0] = [Math.floor(x0 / k), Math.floor(y0 / k)];
    const [ox1, oy1] = [Math.ceil(x1 / k), Math.ceil(y1 / k)];
    const shown = new Uint8Array(ox1 - ox0); // per overlay pixel of a row: its block's class
    for (let oy = oy0; oy < oy1; oy++) {
      shown.fill(0);
      for (let y = oy * k; y < Math.min(H, (oy + 1) * k); y++) {
        const row = y * W;
        for (let x = ox0 * k; x < Math.min(W, ox1 * k); x++) {
          const v = mask[row + x];
          if (v) shown[Math.floor(x / k) - ox0] = v;
        }
      }
      for (let ox = ox0; ox < ox1; ox++) setOverlayPixel(px, (oy * ow + ox) * 4, shown[ox - ox0]);
    }
    overlayCtx.putImageData(overlayImage, 0, 0, ox0, oy0, ox1 - ox0, oy1 - oy0);
  }

  /** @param {Uint8ClampedArray} px @param {number} o the pixel's offset @param {number} v class */
  function setOverlayPixel(px, o, v) {
    if (v === IGNORE) {
      // Not labeled (VOC's void): diagonal stripes, 4 overlay pixels wide, in no class's color.
      const at = o / 4;
      const ow = /** @type {ImageData} */ (overlayImage).width;
      const c = ((at % ow) + Math.floor(at / ow)) % 8 < 4 ? VOID_LIGHT : VOID_DARK;
      px[o] = c[0];
      px[o + 1] = c[1];
      px[o + 2] = c[2];
      px[o + 3] = 255;
    } else if (v) {
      const c = rgb[v] || [128, 128, 128];
      px[o] = c[0];
      px[o + 1] = c[1];
      px[o + 2] = c[2];
      px[o + 3] = 255;
    } else {
      px[o + 3] = 0;
    }
  }

  /**
   * Fill state.mask (all background before) and the overlay from Python's inflated payload
   * (al_widget/widget/_encoding.py's compress_mask): the W*H map itself, or its runs in
   * row-major order: n little-endian uint32 lengths, then their n class ids (5n bytes). A run
   * is one fill, and paints the overlay pixels it touches as paintOverlay would.
   * @param {Uint8Array} payload
   */
  function unpack(payload) {
    const { W, H, mask } = state;
    if (payload.length === W * H) {
      mask.set(payload);
      paintOverlay();
      return;
    }
    const n = payload.length / 5;
    if (!Number.isInteger(n)) throw new Error(`${payload.length} bytes: neither ${W}*${H} nor runs`);
    const lengths = new DataView(payload.buffer, payload.byteOffset, 4 * n);
    const px = /** @type {ImageData} */ (overlayImage).data;
    const ow = /** @type {ImageData} */ (overlayImage).width;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const end = at + lengths.getUint32(4 * i, true);
      const v = payload[4 * n + i];
      if (end > W * H) throw new Error(`its runs pass the ${W}*${H} pixels`);
      if (v) {
        mask.fill(v, at, end);
        for (let y = Math.floor(at / W); y * W < end; y++) {
          const [x0, x1] = [Math.max(at - y * W, 0), Math.min(end - y * W, W)];
          const row = Math.floor(y / k) * ow;
          for (let ox = Math.floor(x0 / k); ox <= Math.floor((x1 - 1) / k); ox++) {
            setOverlayPixel(px, (row + ox) * 4, v);
          }
        }
      }
      at = end;
    }
    if (at !== W * H) throw new Error(`its runs cover ${at} pixels, not ${W}*${H}`);
    overlayCtx.putImageData(/** @type {ImageData} */ (overlayImage), 0, 0);
  }

  /**
   * Start from this class map (a new image or Python's answer): zlib-compressed (see unpack),
   * or empty for all background. Inflating takes a while: mask edits wait (state.maskReady).
   * @param {any} data
   */
  function load(data) {
    const { W, H } = state;
    const mine = ++loads;
    state.mask = new Uint8Array(W * H);
    k = Math.max(1, Math.ceil(Math.max(W, H) / OVERLAY_MAX_SIDE));
    const [ow, oh] = [Math.max(1, Math.ceil(W / k)), Math.max(1, Math.ceil(H / k))];
    overlay.width = ow;
    overlay.height = oh;
    overlayImage = W * H > 0 ? overlayCtx.createImageData(ow, oh) : null;
    overlayCtx.clearRect(0, 0, ow, oh);
    state.maskError = "";
    const packed = bytesOf(data);
    state.maskReady = packed.length === 0;
    if (state.maskReady) return;
    recoded(packed, new DecompressionStream("deflate")).then(
      (map) => {
        if (mine !== loads) return;
        unpack(map);
        state.maskReady = true;
        redraw();
      },
    ).catch((err) => {
      if (mine !== loads) return;
      state.maskError = `the mask could not be read (${err}): reload the image`;
      console.error(`al_widget canvas: ${state.maskError}`);
      redraw();
    });
  }

  /** Tell Python the class values in rect; a large rect goes zlib-compressed (send keeps order). */
  /** @param {number[]} rect @param {Uint8Array} values */
  function sendPatch(rect, values) {
    const content = { kind: "mask_patch", image_id: state.imageId, rect };
    if (values.length <= PATCH_RAW_MAX) {
      send({ ...content, encoding: "raw" }, [values]);
      return;
    }
    const packed = recoded(values, new CompressionStream("deflate")).then((bytes) => [bytes]);
    send({ ...content, encoding: "zlib" }, packed);
  }

  /** @param {Uint8Array} src @param {number[]} rect */
  function cropMask(src, rect) {
    const [x0, y0, x1, y1] = rect;
    const W = state.W;
    const w = x1 - x0;
    const out = new Uint8Array(w * (y1 - y0));
    for (let y = y0; y < y1; y++) out.set(src.subarray(y * W + x0, y * W + x1), (y - y0) * w);
    return out;
  }

  /**
   * Keep rows y0..y1 of the mask in `before` as they are now, unless kept already: a gesture
   * keeps only the rows it changes (not a copy of a 48 MB map at each stroke's start).
   * @param {Rows} before @param {number} y0 @param {number} y1
   */
  function keepRows(before, y0, y1) {
    const W = state.W;
    for (let y = y0; y < y1; y++) {
      if (!before.has(y)) before.set(y, state.mask.slice(y * W, (y + 1) * W));
    }
  }

  /** The mask inside rect as it was before the gesture that kept `before`. */
  /** @param {Rows} before @param {number[]} rect */
  function cropBefore(before, rect) {
    const [x0, y0, x1, y1] = rect;
    const old = cropMask(state.mask, rect);
    for (let y = y0; y < y1; y++) {
      const row = before.get(y);
      if (row) old.set(row.subarray(x0, x1), (y - y0) * (x1 - x0));
    }
    return old;
  }

  /** Record the mask change inside rect (vs before) as one step and tell Python. */
  /** @param {Rows} before @param {number[]} rect */
  function commit(before, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    const old = cropBefore(before, rect);
    const now = cropMask(state.mask, rect);
    if (sameBytes(old, now)) return;
    history.record({ kind: "mask", rect, before: old, after: now });
    sendPatch(rect, now);
    redraw();
  }

  /** Undo or redo a mask step: put its before or after pixels back. */
  /** @param {Step & { kind: "mask" }} step @param {"before" | "after"} side */
  function restore(step, side) {
    const [x0, y0, x1, y1] = step.rect;
    const src = step[side];
    const w = x1 - x0;
    for (let y = y0; y < y1; y++) {
      state.mask.set(src.subarray((y - y0) * w, (y - y0 + 1) * w), y * state.W + x0);
    }
    paintOverlay(x0, y0, x1, y1);
    sendPatch(step.rect, src);
  }

  /** Paint the capsule of radius brush/2 around segment a-b; returns its pixel rect. */
  /**
   * @param {number[]} a @param {number[]} b @param {number} value
   * @param {Rows} before where the rows it changes are kept first
   * @returns {number[]}
   */
  function paintSegment(a, b, value, before) {
    const { W, H, mask } = state;
    const r = traits.brushSize() / 2;
    const x0 = clamp(Math.floor(Math.min(a[0], b[0]) - r), 0, W);
    const y0 = clamp(Math.floor(Math.min(a[1], b[1]) - r), 0, H);
    const x1 = clamp(Math.ceil(Math.max(a[0], b[0]) + r), 0, W);
    const y1 = clamp(Math.ceil(Math.max(a[1], b[1]) + r), 0, H);
    keepRows(before, y0, y1);
    keepRows(before, clamp(Math.floor(b[1]), 0, H), clamp(Math.floor(b[1]) + 1, 0, H));
    const vx = b[0] - a[0];
    const vy = b[1] - a[1];
    const len2 = vx * vx + vy * vy;
    const r2 = r * r;
    for (let y = y0; y < y1; y++) {
      const cy = y + 0.5;
      for (let x = x0; x < x1; x++) {
        const cx = x + 0.5;
        const t = len2 > 0 ? clamp(((cx - a[0]) * vx + (cy - a[1]) * vy) / len2, 0, 1) : 0;
        const dx = cx - (a[0] + t * vx);
        const dy = cy - (a[1] + t * vy);
        if (dx * dx + dy * dy <= r2) mask[y * W + x] = value;
      }
    }
    // A thin brush still paints the pixel under the pointer.
    const px = Math.floor(b[0]);
    const py = Math.floor(b[1]);
    if (px >= 0 && px < W && py >= 0 && py < H) mask[py * W + px] = value;
    const rect = [Math.min(x0, px), Math.min(y0, py), Math.max(x1, px + 1), Math.max(y1, py + 1)];
    const clipped = [clamp(rect[0], 0, W), clamp(rect[1], 0, H), clamp(rect[2], 0, W), clamp(rect[3], 0, H)];
    paintOverlay(clipped[0], clipped[1], clipped[2], clipped[3]);
    return clipped;
  }

  /** @param {number[]} dirty @param {number[]} rect */
  function grow(dirty, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    dirty[0] = Math.min(dirty[0], rect[0]);
    dirty[1] = Math.min(dirty[1], rect[1]);
    dirty[2] = Math.max(dirty[2], rect[2]);
    dirty[3] = Math.max(dirty[3], rect[3]);
  }

  /** Pointer down with the brush or eraser at image point p: start a stroke. */
  /** @param {number[]} p */
  function paintDown(p) {
    const value = traits.tool() === "eraser" ? 0 : traits.paintClass();
    const { W, H } = state;
    const d = { kind: /** @type {const} */ ("paint"), value, before: new Map(), dirty: [W, H, 0, 0], last: p };
    grow(d.dirty, paintSegment(p, p, value, d.before));
    state.drag = d;
    redraw();
  }

  /** @param {Drag & { kind: "paint" }} d @param {number[]} p image point */
  function paintTo(d, p) {
    grow(d.dirty, paintSegment(d.last, p, d.value, d.before));
    d.last = p;
  }

  /** @param {Drag & { kind: "paint" }} d */
  function paintUp(d) {
    commit(d.before, d.dirty);
  }

  /** Undo the stroke under way (Escape, a lost pointer). */
  /** @param {Drag & { kind: "paint" }} d */
  function cancelStroke(d) {
    for (const [y, row] of d.before) state.mask.set(row, y * state.W);
    paintOverlay(d.dirty[0], d.dirty[1], d.dirty[2], d.dirty[3]);
  }

  /** Fill the closed polygon (pixel centres inside, even-odd) with the active class. */
  function fillPolygon() {
    const { W, H, mask } = state;
    const pts = state.polygon;
    state.polygon = [];
    if (pts.length < 3) return;
    /** @type {Rows} */
    const before = new Map();
    const value = traits.paintClass();
    const ys = pts.map((p) => p[1]);
    const rowStart = clamp(Math.floor(Math.min(...ys)), 0, H);
    const rowEnd = clamp(Math.ceil(Math.max(...ys)), 0, H);
    const dirty = [W, H, 0, 0];
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
        if (to <= from) continue;
        keepRows(before, y, y + 1);
        mask.fill(value, y * W + from, y * W + to);
        grow(dirty, [from, y, to, y + 1]);
      }
    }
    paintOverlay(dirty[0], dirty[1], dirty[2], dirty[3]);
    commit(before, dirty);
    redraw();
  }

  /** A polygon click: add a point; the first point or a double click closes and fills. */
  /** @param {number} sx @param {number} sy */
  function polygonDown(sx, sy) {
    const p = view.clampPoint(view.toImage(sx, sy));
    const isDouble = isDoubleClick(state, sx, sy);
    const pts = state.polygon;
    if (pts.length >= 3) {
      const [fx, fy] = view.toScreen(pts[0][0], pts[0][1]);
      if (isDouble || Math.hypot(sx - fx, sy - fy) <= CLOSE_PX) {
        fillPolygon();
        return;
      }
    }
    if (isDouble) return;
    pts.push(p);
    redraw();
  }

  /** Remove the polygon's last point. */
  function popPoint() {
    state.polygon.pop();
    redraw();
  }

  /** Draw the overlay; ctx is in image pixels here. */
  function drawOverlay() {
    if (!overlayImage) return;
    ctx.globalAlpha = traits.opacity();
    ctx.drawImage(overlay, 0, 0, overlay.width * k, overlay.height * k);
    ctx.globalAlpha = 1;
  }

  /** Draw the polygon under way and the brush outline (screen pixels). */
  function drawTools() {
    drawPolygon();
    drawBrushCursor();
  }

  function drawPolygon() {
    const pts = state.polygon;
    if (pts.length === 0) return;
    ctx.strokeStyle = traits.color(traits.paintClass());
    ctx.lineWidth = 2;
    ctx.beginPath();
    pts.forEach((p, i) => {
      const [sx, sy] = view.toScreen(p[0], p[1]);
      if (i === 0) ctx.moveTo(sx, sy);
      else ctx.lineTo(sx, sy);
    });
    if (state.pointer) ctx.lineTo(state.pointer[0], state.pointer[1]);
    ctx.stroke();
    const [fx, fy] = view.toScreen(pts[0][0], pts[0][1]);
    ctx.fillStyle = "#ffffff";
    ctx.beginPath();
    ctx.arc(fx, fy, 4, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
  }

  function drawBrushCursor() {
    const pointer = state.pointer;
    if (!pointer || traits.tool() === "polygon" || state.panKey) return;
    const r = Math.max((traits.brushSize() / 2) * view.scale, 1);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(pointer[0], pointer[1], r, 0, Math.PI * 2);
    ctx.strokeStyle = "#000000";
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(pointer[0], pointer[1], r + 1, 0, Math.PI * 2);
    ctx.strokeStyle = traits.tool() === "eraser" ? "#ffffff" : traits.color(traits.paintClass());
    ctx.stroke();
  }

  return {
    recolor,
    paintOverlay,
    load,
    restore,
    paintDown,
    paintTo,
    paintUp,
    cancelStroke,
    polygonDown,
    popPoint,
    drawOverlay,
    drawTools,
  };
}

// ---------- key map ----------

/**
 * The chord of a key event, as al_widget/widget/keys.py's chord() writes it: "Ctrl+" (Ctrl or
 * Meta), "Alt+", "Shift+", then KeyboardEvent.key. A letter is lower case and takes "Shift+"
 * when Shift is held; other printable keys carry Shift in their key already and never take it.
 * @param {{ key: string, ctrlKey: boolean, metaKey: boolean, altKey: boolean, shiftKey: boolean }} e
 */
function chordOf(e) {
  const mods = [];
  if (e.ctrlKey || e.metaKey) mods.push("Ctrl");
  if (e.altKey) mods.push("Alt");
  let key = e.key;
  const isLetter = key.length === 1 && key.toLowerCase() !== key.toUpperCase();
  if (e.shiftKey && (isLetter || key.length > 1)) mods.push("Shift");
  if (isLetter) key = key.toLowerCase();
  return [...mods, key].join("+");
}

/**
 * Key -> binding, from the `keymap` trait: [{action, keys, modes, label}], the canvas rows of
 * al_widget/widget/keys.py's table. update() takes a new value of the trait.
 */
function createKeymap() {
  /** @type {KeyBinding[]} */
  let bindings = [];
  /** @type {Map<string, KeyBinding>} */
  let byChord = new Map();
  return {
    /** @param {any} value */
    update(value) {
      bindings = (Array.isArray(value) ? value : []).filter(
        (b) => b && typeof b.action === "string" && Array.isArray(b.keys) && Array.isArray(b.modes),
      );
      byChord = new Map();
      for (const b of bindings) for (const k of b.keys) byChord.set(String(k), b);
    },
    /** @param {KeyboardEvent} e @returns {KeyBinding | null} */
    lookup(e) {
      return byChord.get(chordOf(e)) || null;
    },
    /** Whether e releases a key of `action`, whatever modifiers changed meanwhile. */
    /** @param {KeyboardEvent} e @param {string} action */
    releases(e, action) {
      const base = chordOf({ key: e.key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false });
      const b = bindings.find((x) => x.action === action);
      return !!b && b.keys.some((k) => k === base || k.endsWith(`+${base}`));
    },
    /** @param {string} action @returns {string} the key as the user reads it */
    label(action) {
      const b = bindings.find((x) => x.action === action);
      return b ? String(b.label) : "";
    },
  };
}

// ---------- the panel's keys ----------

/** @param {EventTarget | null} t whether typing there writes text */
function isTextField(t) {
  if (!(t instanceof HTMLElement)) return false;
  if (t.isContentEditable || t instanceof HTMLTextAreaElement) return true;
  return t instanceof HTMLInputElement && !["button", "checkbox", "radio", "range"].includes(t.type);
}

/** Keydowns already handed on by passToApp (a canvas and its panel both hear each one). */
const passed = new WeakSet();

/**
 * Hand a chord with Ctrl, Meta (Cmd) or Alt that neither the canvas nor the panel uses on to the
 * application's own shortcuts (Ctrl+S saves the notebook, Ctrl+Shift+C opens the command
 * palette...), which data-lm-suppress-shortcuts otherwise keeps away from the panel. A copy of
 * the event is dispatched at document.body, so only the shortcuts JupyterLab binds to the whole
 * page can match it: those bound to the notebook's focused cell (Ctrl+Enter runs it, Ctrl+A
 * selects all cells) stay quiet, as keys without a modifier do. If a shortcut took the copy, the
 * browser's own default for the key (its save-page dialog) is kept off; otherwise the browser
 * acts on the key as anywhere else. No-op for a key without those modifiers.
 * @param {KeyboardEvent} e a keydown heard in the canvas or the panel
 */
function passToApp(e) {
  if (!(e.ctrlKey || e.metaKey || e.altKey) || passed.has(e) || !document.body) return;
  passed.add(e);
  const { key, code, location, repeat, ctrlKey, metaKey, altKey, shiftKey } = e;
  const init = { key, code, location, repeat, ctrlKey, metaKey, altKey, shiftKey };
  const copy = new KeyboardEvent("keydown", { ...init, bubbles: true, cancelable: true, composed: true });
  // Lumino reads the legacy keyCode, which the constructor leaves at 0.
  for (const name of ["keyCode", "which"]) Object.defineProperty(copy, name, { value: e.keyCode });
  passed.add(copy);
  document.body.dispatchEvent(copy);
  if (copy.defaultPrevented) e.preventDefault();
}

/**
 * The panel around the canvas (the closest .alw-panel; the view may be attached after render)
 * takes the keyboard by focus, not by pointer: it is focusable, a click in it (or on the canvas)
 * gives it focus, and while focus is inside it every key of the `panel_keys` trait goes to
 * Python as {kind: "key"} and does nothing else, wherever the pointer is. A focused dropdown
 * inside keeps no printable key (it would pick an option); a text field keeps its typing. The
 * canvas's own keys are heard first (render's onKeyDown). JupyterLab's shortcuts stay quiet over
 * the panel: Lumino stops looking at the first element carrying data-lm-suppress-shortcuts but
 * matches a selector such as `:focus` below it first, so a focused element needs it too. Chords
 * with Ctrl or Alt that the panel does not use go to the page-wide ones (passToApp).
 * Returns a cleanup.
 * Keys and clicks that move on to the next image (submit, skip, no objects: the buttons with a
 * class alw-act-<action>) name the image shown when they were made (`imageId()`), so Python
 * ignores a second one for the same image: a double click or a key repeat, never a fast labeler.
 * A key or click that moves on may show the next image at once (`early(action)`, see render's
 * showEarly); the message then says so (`early`) and names the image painted (`painted`), which
 * Python keeps on screen.
 * Labeling keys and clicks (the chords of `swap_keys`, the alw-act- buttons) pass `allowed(t,
 * what)` first: an image takes none until it has been on screen for `dwell_ms` (render's
 * gate); a sooner one is dropped there, with a cue, and never sent as a label. A keydown with
 * `repeat` set (a key held down) never acts.
 * @param {HTMLElement} el @param {Traits} traits @param {(content: object) => void} send
 * @param {() => { image_id: number, shown: string }} identity
 * @param {(action: string) => string} early the key of the image painted early, or ""
 * @param {(t: number, what: string) => boolean} allowed
 */
function panelKeys(el, traits, send, identity, early, allowed) {
  /** @type {MutationObserver | null} */
  let attachWatch = null;
  /** @type {HTMLElement | null} */
  let panel = null;
  /** @param {Event} e a focusin */
  function quietTarget(e) {
    if (e.target instanceof Element) e.target.setAttribute("data-lm-suppress-shortcuts", "true");
  }
  /** @param {KeyboardEvent} e */
  function onKeyDown(e) {
    if (!panel || e.defaultPrevented || !(e.target instanceof Node) || !panel.contains(e.target)) return;
    const chord = chordOf(e);
    const mine = traits.panelKeys().includes(chord);
    if (!mine) passToApp(e);
    if (isTextField(e.target) || e.defaultPrevented) return;
    if (!mine) {
      const plain = e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey;
      if (plain && e.target instanceof HTMLSelectElement) e.preventDefault();
      return;
    }
    // Heard on window in the capture phase: nothing below (a button's Enter, a dropdown's
    // type-ahead, the notebook) acts on a panel key.
    e.preventDefault();
    e.stopPropagation();
    if (e.repeat) return; // a key held down: its repeats never label, nor do anything else
    const { key, shiftKey, ctrlKey, altKey, metaKey } = e;
    const action = traits.swapKeys()[chord];
    if (action && !allowed(e.timeStamp, chord)) return;
    const made = identity(); // before the swap: the image the key was pressed on
    const painted = action ? early(action) : "";
    send({ kind: "key", key, shiftKey, ctrlKey, altKey, metaKey, ...made, ...moved(painted) });
  }
  /** @param {string} painted @returns {{ early: boolean, painted?: string }} */
  function moved(painted) {
    return painted ? { early: true, painted } : { early: false };
  }
  /** @param {MouseEvent} e a click in the panel, heard before the button's own handler */
  function onClick(e) {
    const button = e.target instanceof Element ? e.target.closest("[class*='alw-act-']") : null;
    if (!button || !panel || !panel.contains(button)) return;
    const match = /alw-act-([a-z_]+)/.exec(button.className);
    if (!match) return;
    e.preventDefault();
    e.stopPropagation();
    const action = match[1];
    if (!allowed(e.timeStamp, button.textContent?.trim() || action)) return;
    const made = identity();
    send({ kind: "action", action, ...made, ...moved(early(action)) });
  }
  function attach() {
    if (!el.isConnected) return false;
    panel = /** @type {HTMLElement | null} */ (el.closest(".alw-panel"));
    if (panel) {
      if (!panel.hasAttribute("tabindex")) panel.tabIndex = 0;
      panel.setAttribute("data-lm-suppress-shortcuts", "true");
      panel.addEventListener("focusin", quietTarget);
      panel.addEventListener("click", onClick, true);
    }
    return true;
  }
  if (!attach()) {
    attachWatch = new MutationObserver(() => {
      if (attach() && attachWatch) {
        attachWatch.disconnect();
        attachWatch = null;
      }
    });
    attachWatch.observe(document, { childList: true, subtree: true });
  }
  window.addEventListener("keydown", onKeyDown, true);
  return () => {
    if (attachWatch) attachWatch.disconnect();
    attachWatch = null;
    window.removeEventListener("keydown", onKeyDown, true);
    if (panel) {
      panel.removeEventListener("focusin", quietTarget);
      panel.removeEventListener("click", onClick, true);
    }
    panel = null;
  };
}

// ---------- render: wiring ----------

/** @param {{ model: Model, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "alw-canvas";
  const stage = document.createElement("div");
  stage.className = "alw-stage";
  stage.tabIndex = 0;
  stage.setAttribute("data-lm-suppress-shortcuts", "true");
  const canvas = document.createElement("canvas");
  const status = document.createElement("div");
  status.className = "alw-status";
  const cue = document.createElement("div"); // a key dropped by the dwell, said for a moment
  cue.className = "alw-dropped";
  cue.hidden = true;
  cue.setAttribute("role", "status");
  stage.append(canvas, cue);
  root.append(stage, status);
  el.appendChild(root);
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));

  const state = createState();
  const traits = readTraits(model);
  const view = createView(state, stage, canvas);
  const history = createHistory(MAX_HISTORY, MAX_HISTORY_BYTES);
  const keymap = createKeymap();
  /**
   * Messages to Python leave in the order they were made: a key that submits the image never
   * overtakes the patch of the stroke before it, still being compressed.
   * @type {Promise<void>}
   */
  let outbox = Promise.resolve();
  /** @param {object} content @param {ArrayBufferView[] | Promise<ArrayBufferView[]>} [buffers] */
  const post = (content, buffers) => {
    outbox = outbox
      .then(async () => model.send(content, undefined, await buffers))
      .catch((err) => console.error("al_widget canvas: a message to Python was not sent", err));
  };
  /** @param {object} content @param {ArrayBufferView[] | Promise<ArrayBufferView[]>} [buffers] */
  const send = (content, buffers) => {
    state.synced = true; // this view's edit now is Python's state
    post(content, buffers);
  };
  const deps = { state, view, traits, history, ctx, send, redraw: requestDraw };
  const boxTool = createBoxTool(deps);
  const maskTool = createMaskTool(deps);
  /** @type {HTMLImageElement | ImageBitmap | null} */
  let img = null;
  /**
   * Images Python sent ahead, by key: their size and decoding (then decoded); the oldest go.
   * @type {Map<string, { width: number, height: number, ready: Promise<ImageBitmap | null>,
   *   bitmap: ImageBitmap | null }>}
   */
  const ahead = new Map();
  /** The key of the image shown early (a key that moves on, before Python answers), or "". */
  let earlyKey = "";
  /** Which image `img` holds: its key ("#" and the image_id when it has none). */
  let imgToken = "";
  /** While the next image decodes, the one before stays on screen: no blank frame between two. */
  let imgPending = false;
  /** The image on screen (`imgToken` when a frame drew it) and since when (performance.now()). */
  let onScreen = { token: "", at: 0 };
  let droppedCount = 0;
  /** @type {{ panel: HTMLElement, active: boolean[] } | null} the picker before an early move */
  let pickerBefore = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let cueTimer;
  const AHEAD_KEEP = 6;
  /** @type {string | null} */
  let imgUrl = null;
  let frame = 0;

  // ---------- the image and what Python loaded with it ----------

  /** Start afresh from the model: a new image_id, with the boxes, drafts and mask it loaded. */
  function startImage() {
    earlyKey = "";
    pickerBefore = null; // Python answered: its picker is the picker now
    state.W = Math.max(0, Number(model.get("width")) | 0);
    state.H = Math.max(0, Number(model.get("height")) | 0);
    state.imageId = Number(model.get("image_id")) | 0;
    stage.dataset.imageId = String(state.imageId);
    state.drag = null;
    state.polygon = [];
    boxTool.load(boxesOf(model.get("loaded_boxes")), boxesOf(model.get("loaded_drafts")));
    maskTool.load(model.get("loaded_mask"));
    history.clear();
    view.fit();
  }

  /** An image Python sent ahead: start decoding it now, off the labeler's path. */
  /** @param {any} content @param {DataView} buffer */
  function keepAhead(content, buffer) {
    const type = content.format === "jpeg" ? "image/jpeg" : "image/png";
    const key = String(content.key);
    ahead.delete(key);
    const blob = new Blob([/** @type {DataView<ArrayBuffer>} */ (buffer)], { type });
    const entry = {
      width: Number(content.width) | 0,
      height: Number(content.height) | 0,
      ready: createImageBitmap(blob).catch(() => null),
      /** @type {ImageBitmap | null} */
      bitmap: null,
    };
    entry.ready.then((b) => {
      entry.bitmap = b;
      markAhead();
    });
    ahead.set(key, entry);
    for (const old of ahead.keys()) {
      if (ahead.size <= AHEAD_KEEP) break;
      if (old !== model.get("image_key")) ahead.delete(old);
    }
    if (key === model.get("image_key") && (!img || imgPending) && !earlyKey) loadImage();
  }

  /** Say on the stage which image sent ahead is decoded and due next (tests and benchmarks wait). */
  function markAhead() {
    const key = String(model.get("ahead_key") || "");
    const entry = ahead.get(key);
    stage.dataset.aheadReady = entry && entry.bitmap ? key : "";
  }

  /**
   * Show the model's image. Until it is decoded the image before stays drawn (`imgPending`:
   * draw() leaves the frame as it is), so no blank frame comes between two images.
   */
  function loadImage() {
    if (imgUrl) URL.revokeObjectURL(imgUrl);
    imgUrl = null;
    const key = String(model.get("image_key") || "");
    const token = key || `#${state.imageId}`;
    const data = bytesOf(model.get("image"));
    /** @param {HTMLImageElement | ImageBitmap | null} next */
    const use = (next) => {
      img = next;
      imgToken = next ? token : "";
      imgPending = false;
      requestDraw();
    };
    if (key && data.length === 0) {
      const entry = ahead.get(key);
      if (entry && entry.bitmap) {
        use(entry.bitmap);
        return;
      }
      imgPending = true;
      // A view displayed after the image was sent ahead asks for it again (keepAhead comes back).
      if (!entry) model.send({ kind: "need", key });
      else
        entry.ready.then((b) => {
          if (model.get("image_key") === key && !imgUrl && !earlyKey && imgPending) use(b);
        });
      return;
    }
    if (data.length === 0) {
      use(null);
      return;
    }
    imgPending = true;
    const type = model.get("image_format") === "jpeg" ? "image/jpeg" : "image/png";
    const url = URL.createObjectURL(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (data)], { type }));
    imgUrl = url;
    const next = new Image();
    next.onload = () => {
      if (imgUrl === url) use(next);
    };
    next.onerror = () => {
      if (imgUrl === url) use(null);
    };
    next.src = url;
  }

  /** @returns {HTMLElement | null} the panel around this view, if any */
  const panelEl = () => /** @type {HTMLElement | null} */ (el.closest(".alw-panel"));

  /**
   * After a panel key or button that moves on, show the next image (Python's `ahead_key`,
   * decoded) at once, before Python answers with it: only where Python cannot refuse the action
   * (see canvas.SWAP_ACTIONS) and the image is decoded. Nothing can be edited until Python's
   * answer, which loads that image (Python keeps the one painted) or says to stay.
   * @param {string} action @returns {string} the key of the image shown early, or ""
   */
  function showEarly(action) {
    const entry = ahead.get(String(model.get("ahead_key") || ""));
    if (!entry || !entry.bitmap || earlyKey || traits.finished() || state.drag) return "";
    const mode = traits.mode();
    const boxes = state.boxes.length;
    const drafts = state.drafts.length;
    const panel = panelEl();
    // Classify: a submit takes the class the picker shows (the model's, or the one picked).
    const picked = !!panel && !!panel.querySelector(".alw-picker button.mod-active");
    const allowed =
      action === "label"
        ? mode === "classify"
        : action === "skip" ||
          (action === "no_objects" && mode === "box" && !boxes && !drafts) ||
          (action === "submit" &&
            (mode === "mask" ||
              (mode === "box" && boxes > 0 && !drafts) ||
              (mode === "classify" && picked)));
    if (!allowed) return "";
    earlyKey = String(model.get("ahead_key"));
    imgToken = earlyKey;
    imgPending = false;
    state.W = entry.width;
    state.H = entry.height;
    state.polygon = [];
    state.selected = null;
    boxTool.load([], []);
    maskTool.load(null);
    history.clear();
    view.fit();
    if (imgUrl) URL.revokeObjectURL(imgUrl);
    imgUrl = null;
    img = entry.bitmap;
    requestDraw();
    movePanel(panel, earlyKey);
    return earlyKey;
  }

  /**
   * The rest of the panel moves with the image shown early, in this task, so in the frame that
   * draws it: the header line (Info) and the queue strip (QueueStrip) hold what Python sent
   * ahead for that key and show it on the "alw-early" event dispatched here (their views are
   * other widgets; the event names the key, each checks it is theirs for that key); the class
   * picker, a plain ipywidgets ToggleButtons, is set here from `ahead_picker` (Python sets the
   * same value when it answers, which leaves the buttons as they are). "alw-stay" undoes it all.
   * @param {HTMLElement | null} panel @param {string} key
   */
  function movePanel(panel, key) {
    if (!panel) return;
    const pick = model.get("ahead_picker");
    const buttons = [...panel.querySelectorAll(".alw-picker button")];
    pickerBefore = { panel, active: buttons.map((b) => b.classList.contains("mod-active")) };
    if (typeof pick === "number") {
      buttons.forEach((b, k) => b.classList.toggle("mod-active", k === pick));
    }
    panel.dispatchEvent(new CustomEvent("alw-early", { detail: { key }, bubbles: true }));
  }

  /** Python did not move on: the panel's parts go back to what their models hold. */
  function movePanelBack() {
    if (!pickerBefore) return;
    const { panel, active } = pickerBefore;
    pickerBefore = null;
    const buttons = [...panel.querySelectorAll(".alw-picker button")];
    buttons.forEach((b, k) => b.classList.toggle("mod-active", !!active[k]));
    panel.dispatchEvent(new CustomEvent("alw-stay", { bubbles: true }));
  }

  /**
   * Whether a labeling key or click made at `t` (its event's timeStamp) may act: the image it
   * would act on has been drawn, and on screen for `dwell_ms` (a key sooner than that was meant
   * for the image before: a double press, or a key the first one's early paint overtook). A
   * dropped one is shown (a cue over the image), counted and reported to Python as "dropped",
   * never sent as a label. A finished canvas lets keys through (Python says there is nothing to
   * label), and so does a dwell of 0 (the check is off).
   * @param {number} t @param {string} what the key or button, as the cue names it
   */
  function gate(t, what) {
    const dwell = Math.max(0, Number(model.get("dwell_ms")) || 0);
    if (traits.finished() || dwell === 0) return true;
    const token = earlyKey || String(model.get("image_key") || "") || `#${state.imageId}`;
    if (onScreen.token === token && t - onScreen.at >= dwell) return true;
    droppedCount += 1;
    stage.dataset.dropped = String(droppedCount);
    cue.textContent = `${what} ignored: this image was on screen for less than ${dwell} ms`;
    cue.hidden = false;
    clearTimeout(cueTimer);
    cueTimer = setTimeout(() => {
      cue.hidden = true;
    }, 900);
    post({ kind: "dropped", key: what.slice(0, 32) });
    return false;
  }

  /** Python's answer to this view's fetch: the current boxes, drafts and mask. */
  /** @param {any} content @param {DataView[]} [buffers] */
  function onMessage(content, buffers) {
    if (content && content.kind === "image" && buffers && buffers[0]) {
      keepAhead(content, buffers[0]);
      return;
    }
    if (content && content.kind === "stay") {
      // Python did not move on after a key this view showed the next image early for.
      if (earlyKey) {
        movePanelBack();
        startImage();
        loadImage();
        requestDraw();
      }
      return;
    }
    if (!content || content.kind !== "state" || state.synced) return;
    if (content.image_id !== state.imageId) return;
    cancelGesture();
    boxTool.load(boxesOf(content.boxes), boxesOf(content.drafts));
    maskTool.load(buffers && buffers[0]);
    history.clear();
    state.synced = true;
    requestDraw();
  }

  // ---------- traits -> view ----------

  /** @type {Set<string>} */
  const pending = new Set();
  /** @param {string} what */
  function schedule(what) {
    if (pending.size === 0) queueMicrotask(applyTraits);
    pending.add(what);
  }

  function applyTraits() {
    const p = new Set(pending);
    pending.clear();
    if (p.has("colors")) maskTool.recolor();
    if (p.has("keymap")) keymap.update(model.get("keymap"));
    if (p.has("reset")) {
      startImage();
      state.synced = true; // Python's state is what it just loaded
    } else if (p.has("colors")) maskTool.paintOverlay();
    if (p.has("image")) loadImage();
    if (p.has("ui") && (traits.mode() !== "mask" || traits.tool() !== "polygon")) state.polygon = [];
    updateCursor();
    requestDraw();
  }

  /** @type {[string, (...args: any[]) => void][]} */
  const listeners = [
    ["change:image_id", () => schedule("reset")],
    ["change:width", () => schedule("reset")],
    ["change:height", () => schedule("reset")],
    ["change:image", () => schedule("image")],
    ["change:image_format", () => schedule("image")],
    ["change:image_key", () => schedule("image")],
    ["change:colors", () => schedule("colors")],
    ["change:keymap", () => schedule("keymap")],
    ["change:classes", () => schedule("ui")],
    ["change:mode", () => schedule("ui")],
    ["change:tool", () => schedule("ui")],
    ["change:brush_size", () => schedule("ui")],
    ["change:opacity", () => schedule("ui")],
    ["change:active_class", () => schedule("ui")],
    ["change:finished", () => schedule("ui")],
    ["change:ahead_key", markAhead],
    ["msg:custom", onMessage],
  ];
  for (const [event, cb] of listeners) model.on(event, cb);

  // ---------- drawing ----------

  function requestDraw() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    // The next image is decoding: leave the frame as it is (the image before), never blank.
    if (imgPending && img) return;
    if (img && imgToken !== onScreen.token) onScreen = { token: imgToken, at: performance.now() };
    const mode = traits.mode();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    ctx.save();
    ctx.translate(view.ox, view.oy);
    ctx.scale(view.scale, view.scale);
    ctx.imageSmoothingEnabled = false;
    if (img) ctx.drawImage(img, 0, 0, state.W, state.H);
    // Tests and benchmarks wait on this: the image is drawn with Python's current shapes.
    const shapes = state.synced && state.maskReady;
    const drawn = earlyKey ? `early-${earlyKey}` : String(state.imageId);
    stage.dataset.imageLoaded = img && (shapes || earlyKey) ? drawn : "";
    stage.dataset.imageKey = img ? imgToken : ""; // benchmarks read which image a frame shows
    if (mode === "mask") maskTool.drawOverlay();
    ctx.restore();
    if (mode === "box") boxTool.draw();
    if (mode === "mask") maskTool.drawTools();
    drawFinished();
    updateStatus();
  }

  /** Nothing to edit: dim the image and say so in its middle. */
  function drawFinished() {
    const message = traits.finished();
    stage.dataset.finished = message ? "true" : "";
    if (!message) return;
    ctx.fillStyle = "rgba(20, 20, 20, 0.7)";
    ctx.fillRect(0, 0, view.cssW, view.cssH);
    ctx.fillStyle = "#ffffff";
    ctx.font = "bold 16px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(`\u2713 ${message}`, view.cssW / 2, view.cssH / 2);
    ctx.textAlign = "start";
  }

  function updateStatus() {
    const zoom = `${Math.round(view.scale * 100)}%`;
    const mode = traits.mode();
    const cls = traits.className(mode === "mask" ? traits.paintClass() : traits.activeClass());
    let text;
    if (traits.finished()) {
      status.textContent = traits.finished();
      return;
    }
    if (mode === "box") {
      /** @param {number} n @param {string} one @param {string} many */
      const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
      text = `box · class ${cls} · ${count(state.boxes.length, "box", "boxes")}`;
      if (state.drafts.length) {
        const accept = `${keymap.label("accept")}: accept, ${keymap.label("accept_all")}: all`;
        text += `, ${count(state.drafts.length, "draft", "drafts")} (${accept})`;
      }
      if (boxTool.full()) text += ` · full: at most ${traits.maxBoxes()}, delete one to draw`;
    } else if (mode === "mask") {
      const eraser = traits.tool() === "eraser";
      text = `mask · ${traits.tool()}`;
      if (traits.tool() !== "polygon") text += ` ${traits.brushSize()}px`;
      text += eraser ? ` · paints ${traits.className(0)} (the background)` : ` · class ${cls}`;
      if (state.maskError) text = state.maskError;
      else if (!state.maskReady) text += " · reading the mask…";
    } else {
      // Classification: nothing is drawn, so zoom and undo mean nothing here.
      status.textContent = "classify: press a class's digit, or click its button";
      return;
    }
    status.textContent = `${text} · zoom ${zoom} · ${history.size()} undo`;
  }

  function updateCursor() {
    const m = traits.mode();
    const polygon = m === "mask" && traits.tool() === "polygon";
    const panning = state.panKey || (!!state.drag && state.drag.kind === "pan");
    stage.classList.toggle("alw-panning", panning);
    if (panning || m !== "box" || !state.selected) canvas.style.cursor = ""; // not showGrab's
    stage.classList.toggle("alw-box", m === "box");
    stage.classList.toggle("alw-polygon", polygon);
    stage.classList.toggle("alw-paint", m === "mask" && !polygon && !state.panKey);
  }

  // ---------- undo, redo, cancel ----------

  /** @param {Step} step @param {"before" | "after"} side */
  function applyStep(step, side) {
    if (step.kind === "boxes") boxTool.restore(step[side]);
    else maskTool.restore(step, side);
    requestDraw();
  }

  function undo() {
    cancelGesture();
    const step = history.undo();
    if (step) applyStep(step, "before");
  }

  function redo() {
    cancelGesture();
    const step = history.redo();
    if (step) applyStep(step, "after");
  }

  function cancelGesture() {
    if (state.drag && state.drag.kind === "paint") maskTool.cancelStroke(state.drag);
    state.drag = null;
    state.polygon = [];
    requestDraw();
  }

  // ---------- pointer and wheel ----------

  /** @param {PointerEvent} e */
  function onPointerDown(e) {
    stage.focus({ preventScroll: true });
    const [sx, sy] = view.eventPos(e);
    state.pointer = [sx, sy];
    if (state.drag) return;
    if (e.button === 1 || (e.button === 0 && state.panKey)) {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      state.drag = view.startPan(sx, sy);
      updateCursor();
      return;
    }
    if (e.button !== 0 || !state.W || !state.H || traits.finished() || earlyKey) return;
    const mode = traits.mode();
    if (mode === "mask" && !state.maskReady) return; // the loaded mask is still being read
    canvas.setPointerCapture(e.pointerId);
    if (mode === "box") boxTool.down(sx, sy);
    else if (mode === "mask" && traits.tool() === "polygon") maskTool.polygonDown(sx, sy);
    else if (mode === "mask") maskTool.paintDown(view.toImage(sx, sy));
  }

  /** @param {PointerEvent} e */
  function onPointerMove(e) {
    const [sx, sy] = view.eventPos(e);
    state.pointer = [sx, sy];
    const d = state.drag;
    if (!d) {
      if (traits.mode() === "mask") requestDraw();
      showGrab(sx, sy);
      return;
    }
    if (d.kind === "pan") {
      view.panTo(d, sx, sy);
    } else if (d.kind === "paint") {
      maskTool.paintTo(d, view.toImage(sx, sy));
    } else {
      if (!d.moved && Math.hypot(sx - d.start[0], sy - d.start[1]) < MIN_DRAG_PX) return;
      d.moved = true;
      boxTool.dragTo(d, view.toImage(sx, sy));
    }
    requestDraw();
  }

  /** @param {PointerEvent} e */
  function onPointerUp(e) {
    const d = state.drag;
    if (!d) return;
    state.drag = null;
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    const [sx, sy] = view.eventPos(e);
    if (d.kind === "paint") maskTool.paintUp(d);
    else if (d.kind !== "pan") boxTool.up(d, sx, sy);
    updateCursor();
    showGrab(sx, sy);
    requestDraw();
  }

  /** Box mode: the cursor over (sx, sy) says whether a drag there moves, resizes or draws. */
  /** @param {number} sx @param {number} sy */
  function showGrab(sx, sy) {
    const box = traits.mode() === "box" && !state.panKey && !earlyKey && !traits.finished();
    canvas.style.cursor = (box && GRAB_CURSORS[boxTool.grabAt(sx, sy)]) || "";
  }

  function onPointerCancel() {
    cancelGesture();
    updateCursor();
  }

  function onPointerLeave() {
    if (!state.drag) {
      state.pointer = null;
      requestDraw();
    }
  }

  /** @param {WheelEvent} e */
  function onWheel(e) {
    if (!state.W || !state.H) return;
    e.preventDefault();
    e.stopPropagation();
    const [sx, sy] = view.eventPos(e);
    const unit = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 0.0015;
    view.zoomAt(sx, sy, Math.exp(-e.deltaY * unit));
    requestDraw();
  }

  function onResize() {
    view.resize();
    requestDraw();
  }
  const observer = new ResizeObserver(onResize);
  observer.observe(stage);

  // ---------- keys ----------

  /** @param {number} step */
  function changeBrush(step) {
    const size = traits.brushSize();
    const delta = Math.max(1, Math.round(size * 0.2));
    traits.set("brush_size", Math.max(1, size + step * delta));
  }

  /** What each canvas action of the key table does; keys.py's `action` ids. */
  /** @type {Record<string, () => void>} */
  const actions = {
    undo,
    redo,
    delete: () => (state.polygon.length ? maskTool.popPoint() : boxTool.deleteSelected()),
    accept: () => boxTool.acceptSelected(),
    accept_all: () => boxTool.acceptAll(),
    brush: () => traits.set("tool", "brush"),
    eraser: () => traits.set("tool", "eraser"),
    polygon: () => traits.set("tool", "polygon"),
    brush_smaller: () => changeBrush(-1),
    brush_larger: () => changeBrush(1),
    cancel: () => {
      if (state.drag || state.polygon.length) cancelGesture();
      else state.selected = null;
      requestDraw();
    },
    reset_view: () => {
      view.fit();
      requestDraw();
    },
    pan: () => {
      state.panKey = true;
      updateCursor();
      requestDraw();
    },
  };

  /** @param {KeyboardEvent} e */
  function onKeyDown(e) {
    // Heard on window in the capture phase, before anything on document, where JupyterLab reads
    // its shortcuts.
    if (!(e.target instanceof Node) || !stage.contains(e.target)) return;
    const binding = keymap.lookup(e);
    if (!binding) {
      if (!traits.panelKeys().includes(chordOf(e))) passToApp(e);
      return;
    }
    // A canvas key stays in the canvas in every mode; it acts only in the modes it lists.
    e.preventDefault();
    e.stopPropagation();
    if ((traits.finished() || earlyKey) && binding.action !== "reset_view") return;
    if (binding.modes.includes(traits.mode())) actions[binding.action]?.();
    if (state.pointer && !state.drag) showGrab(state.pointer[0], state.pointer[1]); // selection changed
  }

  /** @param {KeyboardEvent} e */
  function onKeyUp(e) {
    if (!keymap.releases(e, "pan")) return;
    state.panKey = false;
    updateCursor();
    requestDraw();
    if (e.currentTarget === stage) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  function onBlur() {
    state.panKey = false;
    updateCursor();
  }

  /** @param {Event} e */
  const noMenu = (e) => e.preventDefault();
  /** @type {[EventTarget, string, (e: any) => void, (boolean | AddEventListenerOptions)?][]} */
  const domListeners = [
    [canvas, "pointerdown", onPointerDown],
    [canvas, "pointermove", onPointerMove],
    [canvas, "pointerup", onPointerUp],
    [canvas, "pointercancel", onPointerCancel],
    [canvas, "pointerleave", onPointerLeave],
    [canvas, "wheel", onWheel, { passive: false }],
    [canvas, "contextmenu", noMenu],
    [window, "keydown", onKeyDown, true],
    [stage, "keyup", onKeyUp],
    [window, "keyup", onKeyUp],
    [window, "blur", onBlur],
  ];
  for (const [target, type, fn, opts] of domListeners) target.addEventListener(type, fn, opts);
  const unpanel = panelKeys(
    el,
    traits,
    post,
    () => ({ image_id: state.imageId, shown: earlyKey || String(model.get("image_key") || "") }),
    showEarly,
    gate,
  );

  // ---------- start ----------

  keymap.update(model.get("keymap"));
  maskTool.recolor();
  startImage();
  loadImage();
  onResize();
  updateCursor();
  // This view may be displayed after edits made in another: ask Python for the current state.
  model.send({ kind: "fetch" });

  return () => {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    clearTimeout(cueTimer);
    observer.disconnect();
    unpanel();
    for (const [target, type, fn, opts] of domListeners) target.removeEventListener(type, fn, opts);
    for (const [event, cb] of listeners) model.off(event, cb);
    if (imgUrl) URL.revokeObjectURL(imgUrl);
    imgUrl = null;
    root.remove();
  };
}

export default { render };
