// @ts-check
/**
 * The al_widget drawing canvas: shows one image; draws boxes or paints a class mask on it.
 * All geometry sent to Python is in image pixels; screen pixels exist only here.
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
 *   | { kind: "paint", value: number, before: Uint8Array, dirty: number[], last: number[] }} Drag
 */
/**
 * @typedef {{
 *   get(name: string): any,
 *   set(name: string, value: any): void,
 *   save_changes(): void,
 *   on(event: string, cb: () => void): void,
 *   off(event?: string, cb?: () => void): void,
 *   send(content: object, callbacks?: any, buffers?: ArrayBufferView[]): void,
 * }} Model
 */

const MIN_DRAG_PX = 3; // smaller drags are clicks
const HANDLE_PX = 5; // half-size of a resize handle
const CLOSE_PX = 8; // a polygon click this near the first point closes it
const DOUBLE_MS = 400;
const MAX_HISTORY = 200;
const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

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

/** @param {number[]} a @param {number[]} b @returns {number[]} */
function normRect(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
}

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
  stage.appendChild(canvas);
  root.append(stage, status);
  el.appendChild(root);

  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  const maskCanvas = document.createElement("canvas");
  const maskCtx = /** @type {CanvasRenderingContext2D} */ (maskCanvas.getContext("2d"));
  const probe = document.createElement("canvas");
  probe.width = probe.height = 1;
  const probeCtx = /** @type {CanvasRenderingContext2D} */ (
    probe.getContext("2d", { willReadFrequently: true })
  );

  let W = 0;
  let H = 0;
  let imageId = 0;
  /** @type {HTMLImageElement | null} */
  let img = null;
  /** @type {string | null} */
  let imgUrl = null;
  let cssW = 0;
  let cssH = 0;
  let dpr = 1;
  const view = { scale: 1, ox: 0, oy: 0, fitted: true };
  /** @type {Box[]} */
  let boxes = [];
  /** @type {Box[]} */
  let drafts = [];
  /** @type {Ref | null} */
  let selected = null;
  let mask = new Uint8Array(0);
  /** @type {ImageData | null} */
  let maskImage = null;
  /** @type {number[][]} */
  let rgb = [];
  /** @type {Step[]} */
  let undoStack = [];
  /** @type {Step[]} */
  let redoStack = [];
  /** @type {Drag | null} */
  let drag = null;
  let spaceDown = false;
  /** @type {number[] | null} */
  let pointer = null;
  /** @type {number[][]} */
  let polygon = [];
  /** @type {{ t: number, x: number, y: number } | null} */
  let lastClick = null;
  let frame = 0;
  let writing = false; // set while this view updates the model itself

  const mode = () => /** @type {string} */ (model.get("mode"));
  const tool = () => /** @type {string} */ (model.get("tool"));
  const brushSize = () => Math.max(1, Number(model.get("brush_size")) || 1);
  const activeClass = () => Number(model.get("active_class")) | 0;
  const opacity = () => clamp(Number(model.get("opacity")), 0, 1);

  // ---------- colors and the mask overlay ----------

  /** @param {string} css @returns {number[]} */
  function parseColor(css) {
    probeCtx.clearRect(0, 0, 1, 1);
    probeCtx.fillStyle = "#808080";
    probeCtx.fillStyle = css;
    probeCtx.fillRect(0, 0, 1, 1);
    const d = probeCtx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2]];
  }

  /** @param {number} label */
  function cssColor(label) {
    const colors = model.get("colors") || [];
    return colors[label] || "#808080";
  }

  /** @param {number} label */
  function className(label) {
    const classes = model.get("classes") || [];
    return classes[label] ?? String(label);
  }

  function parseColors() {
    rgb = (model.get("colors") || []).map(parseColor);
  }

  /** Recolor the overlay pixels in [x0, x1) x [y0, y1). */
  function paintOverlay(x0 = 0, y0 = 0, x1 = W, y1 = H) {
    if (!maskImage || x1 <= x0 || y1 <= y0) return;
    const px = maskImage.data;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = y * W + x;
        const v = mask[i];
        const c = v ? rgb[v] || [128, 128, 128] : null;
        const o = i * 4;
        if (c) {
          px[o] = c[0];
          px[o + 1] = c[1];
          px[o + 2] = c[2];
          px[o + 3] = 255;
        } else {
          px[o + 3] = 0;
        }
      }
    }
    maskCtx.putImageData(maskImage, 0, 0, x0, y0, x1 - x0, y1 - y0);
  }

  function maskFromTraits() {
    mask = new Uint8Array(W * H);
    const data = bytesOf(model.get("mask"));
    if (data.length === W * H) mask.set(data);
    maskCanvas.width = Math.max(W, 1);
    maskCanvas.height = Math.max(H, 1);
    maskImage = W * H > 0 ? maskCtx.createImageData(W, H) : null;
    paintOverlay();
  }

  function loadImage() {
    if (imgUrl) URL.revokeObjectURL(imgUrl);
    imgUrl = null;
    img = null;
    const data = bytesOf(model.get("image"));
    if (data.length === 0) return;
    const type = model.get("image_format") === "jpeg" ? "image/jpeg" : "image/png";
    const url = URL.createObjectURL(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (data)], { type }));
    imgUrl = url;
    const next = new Image();
    next.onload = () => {
      if (imgUrl === url) {
        img = next;
        requestDraw();
      }
    };
    next.src = url;
  }

  // ---------- traits -> local state ----------

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
    if (p.has("colors")) parseColors();
    if (p.has("reset")) {
      W = Math.max(0, Number(model.get("width")) | 0);
      H = Math.max(0, Number(model.get("height")) | 0);
      imageId = Number(model.get("image_id")) | 0;
      stage.dataset.imageId = String(imageId);
      drag = null;
      polygon = [];
      fit();
    }
    // Edits made here reach Python as messages; writeModel() keeps the model's copy current.
    if (p.has("reset") || p.has("boxes")) boxes = boxesOf(model.get("boxes"));
    if (p.has("reset") || p.has("drafts")) drafts = boxesOf(model.get("drafts"));
    if (p.has("reset") || p.has("boxes") || p.has("drafts")) selected = null;
    if (p.has("reset") || p.has("mask")) maskFromTraits();
    else if (p.has("colors")) paintOverlay();
    if (p.has("reset") || p.has("boxes") || p.has("drafts") || p.has("mask")) {
      // Python replaced the state: local history no longer applies to it.
      undoStack = [];
      redoStack = [];
    }
    if (p.has("image")) loadImage();
    if (p.has("ui") && (mode() !== "mask" || tool() !== "polygon")) polygon = [];
    updateCursor();
    requestDraw();
  }

  /** @type {[string, () => void][]} */
  const listeners = [
    ["change:image_id", () => schedule("reset")],
    ["change:width", () => schedule("reset")],
    ["change:height", () => schedule("reset")],
    ["change:image", () => schedule("image")],
    ["change:image_format", () => schedule("image")],
    ["change:boxes", () => writing || schedule("boxes")],
    ["change:drafts", () => writing || schedule("drafts")],
    ["change:mask", () => writing || schedule("mask")],
    ["change:colors", () => schedule("colors")],
    ["change:classes", () => schedule("ui")],
    ["change:mode", () => schedule("ui")],
    ["change:tool", () => schedule("ui")],
    ["change:brush_size", () => schedule("ui")],
    ["change:opacity", () => schedule("ui")],
    ["change:active_class", () => schedule("ui")],
  ];
  for (const [event, cb] of listeners) model.on(event, cb);

  // ---------- view ----------

  function fitScale() {
    return W && H && cssW && cssH ? Math.min(cssW / W, cssH / H) : 1;
  }

  function fit() {
    const s = fitScale();
    view.scale = s;
    view.ox = (cssW - W * s) / 2;
    view.oy = (cssH - H * s) / 2;
    view.fitted = true;
  }

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
    requestDraw();
  }

  function resize() {
    const r = stage.getBoundingClientRect();
    cssW = r.width;
    cssH = r.height;
    dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(cssW * dpr));
    canvas.height = Math.max(1, Math.round(cssH * dpr));
    if (view.fitted) fit();
    requestDraw();
  }
  const observer = new ResizeObserver(resize);
  observer.observe(stage);

  /** @param {number} sx @param {number} sy @returns {number[]} */
  const toImage = (sx, sy) => [(sx - view.ox) / view.scale, (sy - view.oy) / view.scale];
  /** @param {number} x @param {number} y @returns {number[]} */
  const toScreen = (x, y) => [x * view.scale + view.ox, y * view.scale + view.oy];
  /** @param {number[]} p @returns {number[]} */
  const clampPoint = (p) => [clamp(p[0], 0, W), clamp(p[1], 0, H)];
  /** @param {MouseEvent} e @returns {number[]} */
  function eventPos(e) {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  // ---------- drawing ----------

  function requestDraw() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.save();
    ctx.translate(view.ox, view.oy);
    ctx.scale(view.scale, view.scale);
    ctx.imageSmoothingEnabled = false;
    if (img) ctx.drawImage(img, 0, 0, W, H);
    stage.dataset.imageLoaded = img ? String(imageId) : "";
    if (mode() === "mask" && maskImage) {
      ctx.globalAlpha = opacity();
      ctx.drawImage(maskCanvas, 0, 0);
      ctx.globalAlpha = 1;
    }
    ctx.restore();
    if (mode() === "box") drawBoxes();
    if (mode() === "mask") {
      drawPolygon();
      drawBrushCursor();
    }
    updateStatus();
  }

  /** @param {ListName} list @param {number} index @returns {number[]} */
  function liveXyxy(list, index) {
    if (drag && (drag.kind === "move" || drag.kind === "resize") && drag.moved) {
      if (drag.target.list === list && drag.target.index === index) return drag.xyxy;
    }
    return (list === "boxes" ? boxes : drafts)[index].xyxy;
  }

  function drawBoxes() {
    /** @type {ListName[]} */
    const lists = ["drafts", "boxes"];
    for (const list of lists) {
      const items = list === "boxes" ? boxes : drafts;
      items.forEach((b, i) => {
        const isSel = !!selected && selected.list === list && selected.index === i;
        drawBox(liveXyxy(list, i), b.label, list === "drafts", isSel);
      });
    }
    if (drag && drag.kind === "create" && drag.xyxy) {
      drawBox(drag.xyxy, activeClass(), false, false);
    }
    if (selected) {
      ctx.fillStyle = "#ffffff";
      ctx.strokeStyle = "#000000";
      ctx.lineWidth = 1;
      for (const h of handlePoints(liveXyxy(selected.list, selected.index))) {
        ctx.fillRect(h.x - HANDLE_PX, h.y - HANDLE_PX, HANDLE_PX * 2, HANDLE_PX * 2);
        ctx.strokeRect(h.x - HANDLE_PX, h.y - HANDLE_PX, HANDLE_PX * 2, HANDLE_PX * 2);
      }
    }
  }

  /** @param {number[]} xyxy @param {number} label @param {boolean} dashed @param {boolean} sel */
  function drawBox(xyxy, label, dashed, sel) {
    const [x0, y0] = toScreen(xyxy[0], xyxy[1]);
    const [x1, y1] = toScreen(xyxy[2], xyxy[3]);
    const color = cssColor(label);
    ctx.globalAlpha = opacity() * 0.4;
    ctx.fillStyle = color;
    ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    ctx.globalAlpha = 1;
    ctx.setLineDash(dashed ? [6, 4] : []);
    ctx.lineWidth = sel ? 3 : 2;
    ctx.strokeStyle = color;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.setLineDash([]);
    const text = dashed ? `${className(label)} ?` : className(label);
    ctx.font = "11px sans-serif";
    const tw = ctx.measureText(text).width + 6;
    const ty = y0 >= 15 ? y0 - 15 : y0;
    ctx.fillStyle = color;
    ctx.fillRect(x0 - (sel ? 1.5 : 1), ty, tw, 15);
    ctx.fillStyle = "#ffffff";
    ctx.fillText(text, x0 + 2, ty + 11);
  }

  function drawPolygon() {
    if (polygon.length === 0) return;
    ctx.strokeStyle = cssColor(activeClass());
    ctx.lineWidth = 2;
    ctx.beginPath();
    polygon.forEach((p, i) => {
      const [sx, sy] = toScreen(p[0], p[1]);
      if (i === 0) ctx.moveTo(sx, sy);
      else ctx.lineTo(sx, sy);
    });
    if (pointer) ctx.lineTo(pointer[0], pointer[1]);
    ctx.stroke();
    const [fx, fy] = toScreen(polygon[0][0], polygon[0][1]);
    ctx.fillStyle = "#ffffff";
    ctx.beginPath();
    ctx.arc(fx, fy, 4, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
  }

  function drawBrushCursor() {
    if (!pointer || tool() === "polygon" || spaceDown) return;
    const r = Math.max((brushSize() / 2) * view.scale, 1);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(pointer[0], pointer[1], r, 0, Math.PI * 2);
    ctx.strokeStyle = "#000000";
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(pointer[0], pointer[1], r + 1, 0, Math.PI * 2);
    ctx.strokeStyle = tool() === "eraser" ? "#ffffff" : cssColor(activeClass());
    ctx.stroke();
  }

  function updateStatus() {
    const zoom = `${Math.round(view.scale * 100)}%`;
    const cls = className(activeClass());
    let text;
    if (mode() === "box") {
      text = `box · class ${cls} · ${boxes.length} boxes`;
      if (drafts.length) text += `, ${drafts.length} drafts (a: accept, A: all)`;
    } else if (mode() === "mask") {
      text = `mask · ${tool()}`;
      if (tool() !== "polygon") text += ` ${brushSize()}px`;
      text += ` · class ${cls}`;
    } else {
      text = "classify";
    }
    status.textContent = `${text} · zoom ${zoom} · ${undoStack.length} undo`;
  }

  function updateCursor() {
    const m = mode();
    stage.classList.toggle("alw-panning", spaceDown || (!!drag && drag.kind === "pan"));
    stage.classList.toggle("alw-box", m === "box");
    stage.classList.toggle("alw-polygon", m === "mask" && tool() === "polygon");
    stage.classList.toggle("alw-paint", m === "mask" && tool() !== "polygon" && !spaceDown);
  }

  // ---------- hit testing ----------

  /** @param {number[]} xyxy */
  function handlePoints(xyxy) {
    const [x0, y0] = toScreen(xyxy[0], xyxy[1]);
    const [x1, y1] = toScreen(xyxy[2], xyxy[3]);
    const xm = (x0 + x1) / 2;
    const ym = (y0 + y1) / 2;
    /** @type {Record<string, number[]>} */
    const at = { nw: [x0, y0], n: [xm, y0], ne: [x1, y0], e: [x1, ym] };
    Object.assign(at, { se: [x1, y1], s: [xm, y1], sw: [x0, y1], w: [x0, ym] });
    return HANDLES.map((name) => ({ name, x: at[name][0], y: at[name][1] }));
  }

  /** @param {number} sx @param {number} sy @returns {string | null} */
  function hitHandle(sx, sy) {
    if (!selected) return null;
    for (const h of handlePoints(liveXyxy(selected.list, selected.index))) {
      if (Math.abs(sx - h.x) <= HANDLE_PX + 2 && Math.abs(sy - h.y) <= HANDLE_PX + 2) return h.name;
    }
    return null;
  }

  /** The smallest box or draft under an image point (boxes win over drafts). */
  /** @param {number} x @param {number} y @returns {Ref | null} */
  function hitBox(x, y) {
    const tol = 2 / view.scale;
    /** @type {ListName[]} */
    const lists = ["boxes", "drafts"];
    for (const list of lists) {
      const items = list === "boxes" ? boxes : drafts;
      let best = -1;
      let bestArea = Infinity;
      items.forEach((b, i) => {
        const [x0, y0, x1, y1] = b.xyxy;
        if (x >= x0 - tol && x <= x1 + tol && y >= y0 - tol && y <= y1 + tol) {
          const area = (x1 - x0) * (y1 - y0);
          if (area < bestArea) {
            best = i;
            bestArea = area;
          }
        }
      });
      if (best >= 0) return { list, index: best };
    }
    return null;
  }

  // ---------- history and messages ----------

  function snapshot() {
    return { boxes: cloneBoxes(boxes), drafts: cloneBoxes(drafts) };
  }

  /** @param {Step} step */
  function pushStep(step) {
    undoStack.push(step);
    if (undoStack.length > MAX_HISTORY) undoStack.shift();
    redoStack = [];
  }

  /**
   * Update the model's copy of edited traits without sending them: Python already has them
   * from the message, and ignores these traits in state updates from the browser. A view
   * rendered later (the canvas displayed again) then starts from the current shapes.
   * @param {Record<string, any>} attrs
   */
  function writeModel(attrs) {
    writing = true;
    try {
      for (const [name, value] of Object.entries(attrs)) model.set(name, value);
    } finally {
      writing = false;
    }
  }

  function sendBoxes() {
    model.send({ kind: "boxes", image_id: imageId, boxes: cloneBoxes(boxes), drafts: cloneBoxes(drafts) });
    writeModel({ boxes: cloneBoxes(boxes), drafts: cloneBoxes(drafts) });
  }

  function sendMask() {
    model.send({ kind: "mask", image_id: imageId, width: W, height: H }, undefined, [mask.slice()]);
    writeModel({ mask: mask.slice() });
  }

  /** Apply a change to boxes / drafts as one undoable step and tell Python. */
  /** @param {() => void} change */
  function editBoxes(change) {
    const before = snapshot();
    change();
    pushStep({ kind: "boxes", before, after: snapshot() });
    sendBoxes();
    requestDraw();
  }

  /** @param {Step} step @param {"before" | "after"} side */
  function applyStep(step, side) {
    if (step.kind === "boxes") {
      boxes = cloneBoxes(step[side].boxes);
      drafts = cloneBoxes(step[side].drafts);
      selected = null;
      sendBoxes();
    } else {
      const [x0, y0, x1, y1] = step.rect;
      const src = step[side];
      const w = x1 - x0;
      for (let y = y0; y < y1; y++) mask.set(src.subarray((y - y0) * w, (y - y0 + 1) * w), y * W + x0);
      paintOverlay(x0, y0, x1, y1);
      sendMask();
    }
    requestDraw();
  }

  function undo() {
    cancelGesture();
    const step = undoStack.pop();
    if (!step) return;
    redoStack.push(step);
    applyStep(step, "before");
  }

  function redo() {
    cancelGesture();
    const step = redoStack.pop();
    if (!step) return;
    undoStack.push(step);
    applyStep(step, "after");
  }

  /** @param {Uint8Array} src @param {number[]} rect */
  function cropMask(src, rect) {
    const [x0, y0, x1, y1] = rect;
    const w = x1 - x0;
    const out = new Uint8Array(w * (y1 - y0));
    for (let y = y0; y < y1; y++) out.set(src.subarray(y * W + x0, y * W + x1), (y - y0) * w);
    return out;
  }

  /** Record the mask change inside rect (vs before) as one step and tell Python. */
  /** @param {Uint8Array} before @param {number[]} rect */
  function commitMask(before, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    const old = cropMask(before, rect);
    const now = cropMask(mask, rect);
    if (old.every((v, i) => v === now[i])) return;
    pushStep({ kind: "mask", rect, before: old, after: now });
    sendMask();
    requestDraw();
  }

  // ---------- box editing ----------

  /** @param {number[]} xyxy @returns {number[] | null} */
  function finalRect(xyxy) {
    const r = [
      round2(clamp(xyxy[0], 0, W)),
      round2(clamp(xyxy[1], 0, H)),
      round2(clamp(xyxy[2], 0, W)),
      round2(clamp(xyxy[3], 0, H)),
    ];
    return r[0] < r[2] && r[1] < r[3] ? r : null;
  }

  /** @param {Ref} ref */
  function acceptDraft(ref) {
    editBoxes(() => {
      const [d] = drafts.splice(ref.index, 1);
      boxes.push(d);
      selected = { list: "boxes", index: boxes.length - 1 };
    });
  }

  function acceptAll() {
    if (drafts.length === 0) return;
    editBoxes(() => {
      boxes.push(...drafts);
      drafts = [];
      selected = null;
    });
  }

  function deleteSelected() {
    if (!selected) return;
    const ref = selected;
    editBoxes(() => {
      (ref.list === "boxes" ? boxes : drafts).splice(ref.index, 1);
      selected = null;
    });
  }

  /** @param {number} sx @param {number} sy */
  function boxDown(sx, sy) {
    const p = toImage(sx, sy);
    const handle = hitHandle(sx, sy);
    if (handle && selected) {
      const orig = liveXyxy(selected.list, selected.index).slice();
      drag = { kind: "resize", start: [sx, sy], from: p, target: selected, handle, orig, xyxy: orig.slice(), moved: false };
      return;
    }
    const hit = hitBox(p[0], p[1]);
    if (hit) {
      selected = hit;
      const orig = liveXyxy(hit.list, hit.index).slice();
      drag = { kind: "move", start: [sx, sy], from: p, target: hit, handle: "", orig, xyxy: orig.slice(), moved: false };
    } else {
      selected = null;
      drag = { kind: "create", start: [sx, sy], from: clampPoint(p), xyxy: null, moved: false };
    }
    requestDraw();
  }

  /** @param {Drag} d @param {number[]} p image point */
  function boxDragTo(d, p) {
    if (d.kind === "create") {
      d.xyxy = normRect(d.from, clampPoint(p));
    } else if (d.kind === "move") {
      const [x0, y0, x1, y1] = d.orig;
      const dx = clamp(p[0] - d.from[0], -x0, W - x1);
      const dy = clamp(p[1] - d.from[1], -y0, H - y1);
      d.xyxy = [x0 + dx, y0 + dy, x1 + dx, y1 + dy];
    } else if (d.kind === "resize") {
      const q = clampPoint(p);
      const r = d.orig.slice();
      if (d.handle.includes("w")) r[0] = q[0];
      if (d.handle.includes("e")) r[2] = q[0];
      if (d.handle.includes("n")) r[1] = q[1];
      if (d.handle.includes("s")) r[3] = q[1];
      d.xyxy = normRect([r[0], r[1]], [r[2], r[3]]);
    }
  }

  /** @param {Drag} d @param {number} sx @param {number} sy */
  function boxUp(d, sx, sy) {
    if (d.kind === "create") {
      const rect = d.moved && d.xyxy ? finalRect(d.xyxy) : null;
      if (rect) {
        const label = activeClass();
        editBoxes(() => {
          boxes.push({ xyxy: rect, label });
          selected = { list: "boxes", index: boxes.length - 1 };
        });
      }
      return;
    }
    if (d.kind !== "move" && d.kind !== "resize") return;
    const now = performance.now();
    if (!d.moved) {
      const isDouble = lastClick && now - lastClick.t < DOUBLE_MS && Math.hypot(sx - lastClick.x, sy - lastClick.y) < 5;
      lastClick = isDouble ? null : { t: now, x: sx, y: sy };
      if (isDouble && d.target.list === "drafts") acceptDraft(d.target);
      return;
    }
    const rect = finalRect(d.xyxy);
    const target = d.target;
    if (!rect || rect.every((v, i) => v === round2(d.orig[i]))) return;
    editBoxes(() => {
      if (target.list === "drafts") {
        // Editing a draft accepts it.
        const [draft] = drafts.splice(target.index, 1);
        boxes.push({ xyxy: rect, label: draft.label });
        selected = { list: "boxes", index: boxes.length - 1 };
      } else {
        boxes[target.index] = { xyxy: rect, label: boxes[target.index].label };
        selected = target;
      }
    });
  }

  // ---------- mask editing ----------

  /** Paint the capsule of radius brush/2 around segment a-b; returns its pixel rect. */
  /** @param {number[]} a @param {number[]} b @param {number} value @returns {number[]} */
  function paintSegment(a, b, value) {
    const r = brushSize() / 2;
    const x0 = clamp(Math.floor(Math.min(a[0], b[0]) - r), 0, W);
    const y0 = clamp(Math.floor(Math.min(a[1], b[1]) - r), 0, H);
    const x1 = clamp(Math.ceil(Math.max(a[0], b[0]) + r), 0, W);
    const y1 = clamp(Math.ceil(Math.max(a[1], b[1]) + r), 0, H);
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

  /** @param {number[]} p */
  function paintDown(p) {
    const value = tool() === "eraser" ? 0 : activeClass();
    const d = { kind: /** @type {const} */ ("paint"), value, before: mask.slice(), dirty: [W, H, 0, 0], last: p };
    grow(d.dirty, paintSegment(p, p, value));
    drag = d;
    requestDraw();
  }

  /** Fill the closed polygon (pixel centres inside, even-odd) with the active class. */
  function fillPolygon() {
    const pts = polygon;
    polygon = [];
    if (pts.length < 3) return;
    const before = mask.slice();
    const value = activeClass();
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
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = clamp(Math.ceil(xs[k] - 0.5), 0, W);
        const to = clamp(Math.ceil(xs[k + 1] - 0.5), 0, W);
        if (to <= from) continue;
        mask.fill(value, y * W + from, y * W + to);
        grow(dirty, [from, y, to, y + 1]);
      }
    }
    paintOverlay(dirty[0], dirty[1], dirty[2], dirty[3]);
    commitMask(before, dirty);
    requestDraw();
  }

  /** @param {number} sx @param {number} sy */
  function polygonDown(sx, sy) {
    const p = clampPoint(toImage(sx, sy));
    const now = performance.now();
    const isDouble = lastClick && now - lastClick.t < DOUBLE_MS && Math.hypot(sx - lastClick.x, sy - lastClick.y) < 5;
    lastClick = isDouble ? null : { t: now, x: sx, y: sy };
    if (polygon.length >= 3) {
      const [fx, fy] = toScreen(polygon[0][0], polygon[0][1]);
      if (isDouble || Math.hypot(sx - fx, sy - fy) <= CLOSE_PX) {
        fillPolygon();
        return;
      }
    }
    if (isDouble) return;
    polygon.push(p);
    requestDraw();
  }

  // ---------- gestures ----------

  function cancelGesture() {
    if (drag && drag.kind === "paint") {
      mask.set(drag.before);
      paintOverlay();
    }
    drag = null;
    polygon = [];
    requestDraw();
  }

  /** @param {PointerEvent} e */
  function onPointerDown(e) {
    stage.focus({ preventScroll: true });
    const [sx, sy] = eventPos(e);
    pointer = [sx, sy];
    if (drag) return;
    if (e.button === 1 || (e.button === 0 && spaceDown)) {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      drag = { kind: "pan", start: [sx, sy], origin: [view.ox, view.oy] };
      updateCursor();
      return;
    }
    if (e.button !== 0 || !W || !H) return;
    canvas.setPointerCapture(e.pointerId);
    if (mode() === "box") boxDown(sx, sy);
    else if (mode() === "mask" && tool() === "polygon") polygonDown(sx, sy);
    else if (mode() === "mask") paintDown(toImage(sx, sy));
  }

  /** @param {PointerEvent} e */
  function onPointerMove(e) {
    const [sx, sy] = eventPos(e);
    pointer = [sx, sy];
    const d = drag;
    if (!d) {
      if (mode() === "mask") requestDraw();
      return;
    }
    if (d.kind === "pan") {
      view.ox = d.origin[0] + sx - d.start[0];
      view.oy = d.origin[1] + sy - d.start[1];
      view.fitted = false;
    } else if (d.kind === "paint") {
      const p = toImage(sx, sy);
      grow(d.dirty, paintSegment(d.last, p, d.value));
      d.last = p;
    } else {
      if (!d.moved && Math.hypot(sx - d.start[0], sy - d.start[1]) < MIN_DRAG_PX) return;
      d.moved = true;
      boxDragTo(d, toImage(sx, sy));
    }
    requestDraw();
  }

  /** @param {PointerEvent} e */
  function onPointerUp(e) {
    const d = drag;
    if (!d) return;
    drag = null;
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    const [sx, sy] = eventPos(e);
    if (d.kind === "paint") commitMask(d.before, d.dirty);
    else if (d.kind !== "pan") boxUp(d, sx, sy);
    updateCursor();
    requestDraw();
  }

  function onPointerCancel() {
    cancelGesture();
    updateCursor();
  }

  function onPointerLeave() {
    if (!drag) {
      pointer = null;
      requestDraw();
    }
  }

  /** @param {WheelEvent} e */
  function onWheel(e) {
    if (!W || !H) return;
    e.preventDefault();
    e.stopPropagation();
    const [sx, sy] = eventPos(e);
    const unit = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 0.0015;
    zoomAt(sx, sy, Math.exp(-e.deltaY * unit));
  }

  /** @param {string} name @param {any} value */
  function setTrait(name, value) {
    model.set(name, value);
    model.save_changes();
  }

  /** @param {number} step */
  function changeBrush(step) {
    const size = brushSize();
    const delta = Math.max(1, Math.round(size * 0.2));
    setTrait("brush_size", Math.max(1, size + step * delta));
  }

  /** @param {KeyboardEvent} e @returns {boolean} whether the canvas used the key */
  function handleKey(e) {
    const k = e.key;
    if ((e.ctrlKey || e.metaKey) && !e.altKey) {
      if (k === "z" || k === "Z") {
        if (e.shiftKey) redo();
        else undo();
        return true;
      }
      if (k === "y" || k === "Y") {
        redo();
        return true;
      }
      return false;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    switch (k) {
      case " ":
        spaceDown = true;
        updateCursor();
        requestDraw();
        return true;
      case "b":
        setTrait("tool", "brush");
        return true;
      case "e":
        setTrait("tool", "eraser");
        return true;
      case "p":
        setTrait("tool", "polygon");
        return true;
      case "[":
        changeBrush(-1);
        return true;
      case "]":
        changeBrush(1);
        return true;
      case "a":
        if (selected && selected.list === "drafts") acceptDraft(selected);
        return true;
      case "A":
        acceptAll();
        return true;
      case "Delete":
      case "Backspace":
        if (polygon.length) {
          polygon.pop();
          requestDraw();
        } else deleteSelected();
        return true;
      case "Escape":
        if (drag || polygon.length) cancelGesture();
        else selected = null;
        requestDraw();
        return true;
      case "r":
        fit();
        requestDraw();
        return true;
      default:
        return false;
    }
  }

  /** @param {KeyboardEvent} e */
  function onKeyDown(e) {
    // Heard on window in the capture phase, before anything on document: a panel's ipyevents
    // stops every key there while the mouse is over the panel, and JupyterLab reads shortcuts there.
    if (!(e.target instanceof Node) || !stage.contains(e.target)) return;
    if (handleKey(e)) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  /** @param {KeyboardEvent} e */
  function onKeyUp(e) {
    if (e.key === " ") {
      spaceDown = false;
      updateCursor();
      requestDraw();
      if (e.currentTarget === stage) {
        e.preventDefault();
        e.stopPropagation();
      }
    }
  }

  function onBlur() {
    spaceDown = false;
    updateCursor();
  }

  canvas.addEventListener("pointerdown", onPointerDown);
  canvas.addEventListener("pointermove", onPointerMove);
  canvas.addEventListener("pointerup", onPointerUp);
  canvas.addEventListener("pointercancel", onPointerCancel);
  canvas.addEventListener("pointerleave", onPointerLeave);
  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  window.addEventListener("keydown", onKeyDown, true);
  stage.addEventListener("keyup", onKeyUp);
  window.addEventListener("keyup", onKeyUp);
  window.addEventListener("blur", onBlur);

  // The panel around the canvas handles digits, Enter, S and Z (ipyevents): keep JupyterLab's
  // shortcuts quiet over all of it, not only over the stage. Lumino stops looking at the first
  // element carrying the attribute but matches a selector such as `:focus` below it first, so
  // a focused button needs it too. The view may be attached after render.
  /** @type {MutationObserver | null} */
  let attachWatch = null;
  /** @type {Element | null} */
  let quieted = null;
  /** @param {FocusEvent} e */
  function quietTarget(e) {
    if (e.target instanceof Element) e.target.setAttribute("data-lm-suppress-shortcuts", "true");
  }
  function quietPanel() {
    if (!el.isConnected) return false;
    quieted = el.closest(".alw-panel");
    if (quieted) {
      quieted.setAttribute("data-lm-suppress-shortcuts", "true");
      quieted.addEventListener("focusin", quietTarget);
    }
    return true;
  }
  if (!quietPanel()) {
    attachWatch = new MutationObserver(() => {
      if (quietPanel() && attachWatch) {
        attachWatch.disconnect();
        attachWatch = null;
      }
    });
    attachWatch.observe(document, { childList: true, subtree: true });
  }

  parseColors();
  schedule("reset");
  schedule("image");
  resize();

  return () => {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    observer.disconnect();
    if (attachWatch) attachWatch.disconnect();
    attachWatch = null;
    if (quieted) quieted.removeEventListener("focusin", quietTarget);
    quieted = null;
    window.removeEventListener("keydown", onKeyDown, true);
    window.removeEventListener("keyup", onKeyUp);
    window.removeEventListener("blur", onBlur);
    for (const [event, cb] of listeners) model.off(event, cb);
    if (imgUrl) URL.revokeObjectURL(imgUrl);
    imgUrl = null;
    root.remove();
  };
}

export default { render };
