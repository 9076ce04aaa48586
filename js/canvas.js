// Built from js/src/ by scripts/build_js.sh (esbuild): edit those files, not this one.

// src/drafts.js
var LABEL_PX = 15;
function isShown(draft, threshold) {
  if (typeof draft.score !== "number") return true;
  return threshold !== null && draft.score >= threshold;
}
function labelText(name, box, isDraft) {
  if (!isDraft) return name;
  return typeof box.score === "number" ? `${name} ${box.score.toFixed(2)}` : `${name} ?`;
}
var overlaps = (a, b) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
function placeLabels(boxes, h) {
  const placed = [];
  return boxes.map((b) => {
    const spots = [
      [b.x0, b.y0 - h],
      [b.x0, b.y0],
      [b.x0, b.y1],
      [b.x1 - b.w, b.y0 - h],
      [b.x1 - b.w, b.y1 - h]
    ];
    for (let k = 1; k <= 20; k++) spots.push([b.x0, b.y0 + k * h]);
    const free = (s) => s[1] >= 0 && !placed.some((p) => overlaps(p, [s[0], s[1], b.w, h]));
    const spot = spots.find(free) || (b.y0 >= h ? spots[0] : spots[1]);
    placed.push([spot[0], spot[1], b.w, h]);
    return spot;
  });
}
function drawLabels(ctx, drawn, scores) {
  const order = drawn.map((_, k) => k);
  const rank = (k) => drawn[k].sel ? 0 : drawn[k].dashed ? 2 : 1;
  order.sort((a, b) => rank(a) - rank(b) || scores[b] - scores[a] || a - b);
  const spots = placeLabels(
    order.map((k) => drawn[k]),
    LABEL_PX
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

// src/state.js
var DOUBLE_MS = 400;
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
    maskDraft: false,
    drag: null,
    polygon: [],
    polygonStart: null,
    pointer: null,
    panKey: false,
    lastClick: null,
    objects: [],
    picked: null,
    nextId: 1
  };
}
function isDoubleClick(state, sx, sy) {
  const now = performance.now();
  const last = state.lastClick;
  const isDouble = !!last && now - last.t < DOUBLE_MS && Math.hypot(sx - last.x, sy - last.y) < 5;
  state.lastClick = isDouble ? null : { t: now, x: sx, y: sy };
  return isDouble;
}

// src/util.js
var clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
var round2 = (v) => Math.round(v * 100) / 100;
var cloneBoxes = (list) => list.map(withScore);
function withScore(b) {
  const copy = { xyxy: b.xyxy.slice(), label: b.label };
  return typeof b.score === "number" && Number.isFinite(b.score) ? { ...copy, score: b.score } : copy;
}
function bytesOf(data) {
  if (!data) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
function boxesOf(value) {
  if (!Array.isArray(value)) return [];
  return value.filter((b) => b && Array.isArray(b.xyxy) && b.xyxy.length === 4).map((b) => withScore({ xyxy: b.xyxy.map(Number), label: Number(b.label) | 0, score: b.score }));
}
function normRect(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
}

// src/boxtool.js
var HANDLE_PX = 5;
var HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
var GRAB_CURSORS = {
  move: "move",
  n: "ns-resize",
  s: "ns-resize",
  e: "ew-resize",
  w: "ew-resize",
  nw: "nwse-resize",
  se: "nwse-resize",
  ne: "nesw-resize",
  sw: "nesw-resize"
};
function createBoxTool({ state, view, traits, history, ctx, send, redraw }) {
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
  function edit(change) {
    const before = snapshot();
    change();
    history.record({ kind: "boxes", before, after: snapshot() });
    sendBoxes();
    redraw();
  }
  function restore(boxState) {
    load(boxState.boxes, boxState.drafts);
    sendBoxes();
  }
  function finalRect(xyxy) {
    const { W, H } = state;
    const r = [
      round2(clamp(xyxy[0], 0, W)),
      round2(clamp(xyxy[1], 0, H)),
      round2(clamp(xyxy[2], 0, W)),
      round2(clamp(xyxy[3], 0, H))
    ];
    return r[0] < r[2] && r[1] < r[3] ? r : null;
  }
  function full() {
    return state.boxes.length + state.drafts.length >= traits.maxBoxes();
  }
  const shown = (draft) => isShown(draft, traits.draftThreshold());
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
  function acceptAll() {
    if (!state.drafts.some(shown)) return;
    edit(() => {
      state.boxes.push(...state.drafts.filter(shown).map((d) => ({ xyxy: d.xyxy, label: d.label })));
      state.drafts = state.drafts.filter((d) => !shown(d));
      state.selected = null;
    });
  }
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
  function liveXyxy(list, index) {
    const d = state.drag;
    if (d && (d.kind === "move" || d.kind === "resize") && d.moved) {
      if (d.target.list === list && d.target.index === index) return d.xyxy;
    }
    return (list === "boxes" ? state.boxes : state.drafts)[index].xyxy;
  }
  function handlePoints(xyxy) {
    const [x0, y0] = view.toScreen(xyxy[0], xyxy[1]);
    const [x1, y1] = view.toScreen(xyxy[2], xyxy[3]);
    const xm = (x0 + x1) / 2;
    const ym = (y0 + y1) / 2;
    const at = { nw: [x0, y0], n: [xm, y0], ne: [x1, y0], e: [x1, ym] };
    Object.assign(at, { se: [x1, y1], s: [xm, y1], sw: [x0, y1], w: [x0, ym] });
    return HANDLES.map((name) => ({ name, x: at[name][0], y: at[name][1] }));
  }
  function hitHandle(sx, sy) {
    const sel = state.selected;
    if (!sel) return null;
    for (const h of handlePoints(liveXyxy(sel.list, sel.index))) {
      if (Math.abs(sx - h.x) <= HANDLE_PX + 2 && Math.abs(sy - h.y) <= HANDLE_PX + 2) return h.name;
    }
    return null;
  }
  const sameRef = (a, b) => !!a && !!b && a.list === b.list && a.index === b.index;
  function hitAll(p) {
    const [x, y] = p;
    const tol = 2 / view.scale;
    const lists = ["boxes", "drafts"];
    const found = [];
    for (const list of lists) {
      const items = list === "boxes" ? state.boxes : state.drafts;
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
  function grabAt(sx, sy) {
    const sel = state.selected;
    if (!sel) return "";
    const handle = hitHandle(sx, sy);
    if (handle) return handle;
    return hitAll(view.toImage(sx, sy)).some((r) => sameRef(r, sel)) ? "move" : "";
  }
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
  function up(d, sx, sy) {
    if (d.kind !== "pan" && d.kind !== "paint" && !d.moved) {
      click(sx, sy);
      return;
    }
    if (d.kind === "create") {
      const rect2 = d.xyxy ? finalRect(d.xyxy) : null;
      if (rect2 && !full()) {
        const label = traits.activeClass();
        edit(() => {
          state.boxes.push({ xyxy: rect2, label });
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
        const [draft] = state.drafts.splice(target.index, 1);
        state.boxes.push({ xyxy: rect, label: draft.label });
        state.selected = { list: "boxes", index: state.boxes.length - 1 };
      } else {
        state.boxes[target.index] = { xyxy: rect, label: state.boxes[target.index].label };
        state.selected = target;
      }
    });
  }
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
  function draw() {
    const lists = ["drafts", "boxes"];
    if (state.selected && state.selected.list === "drafts" && !shown(state.drafts[state.selected.index])) {
      state.selected = null;
    }
    const sel = state.selected;
    const drawn = [];
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

// src/keymap.js
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
function createKeymap() {
  let bindings = [];
  let byChord = /* @__PURE__ */ new Map();
  return {
    /** @param {any} value */
    update(value) {
      bindings = (Array.isArray(value) ? value : []).filter(
        (b) => b && typeof b.action === "string" && Array.isArray(b.keys) && Array.isArray(b.modes)
      );
      byChord = /* @__PURE__ */ new Map();
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
    }
  };
}

// src/panelkeys.js
function isTextField(t) {
  if (!(t instanceof HTMLElement)) return false;
  if (t.isContentEditable || t instanceof HTMLTextAreaElement) return true;
  return t instanceof HTMLInputElement && !["button", "checkbox", "radio", "range"].includes(t.type);
}
var passed = /* @__PURE__ */ new WeakSet();
function passToApp(e) {
  if (!(e.ctrlKey || e.metaKey || e.altKey) || passed.has(e) || !document.body) return;
  passed.add(e);
  const { key, code, location, repeat, ctrlKey, metaKey, altKey, shiftKey } = e;
  const init = { key, code, location, repeat, ctrlKey, metaKey, altKey, shiftKey };
  const copy = new KeyboardEvent("keydown", { ...init, bubbles: true, cancelable: true, composed: true });
  for (const name of ["keyCode", "which"]) Object.defineProperty(copy, name, { value: e.keyCode });
  passed.add(copy);
  document.body.dispatchEvent(copy);
  if (copy.defaultPrevented) e.preventDefault();
}
function panelKeys(el, traits, send, identity, early, allowed) {
  let attachWatch = null;
  let panel = null;
  function quietTarget(e) {
    if (e.target instanceof Element) e.target.setAttribute("data-lm-suppress-shortcuts", "true");
  }
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
    e.preventDefault();
    e.stopPropagation();
    if (e.repeat) return;
    const { key, shiftKey, ctrlKey, altKey, metaKey } = e;
    const action = traits.swapKeys()[chord];
    if (action && !allowed(e.timeStamp, chord)) return;
    const made = identity();
    const painted = action ? early(action) : "";
    send({ kind: "key", key, shiftKey, ctrlKey, altKey, metaKey, ...made, ...moved(painted) });
  }
  function moved(painted) {
    return painted ? { early: true, painted } : { early: false };
  }
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
    panel = /** @type {HTMLElement | null} */
    el.closest(".alw-panel");
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
function createGate({ model, traits, source, stage, cue, post }) {
  let droppedCount = 0;
  let cueTimer;
  function allowed(t, what) {
    const dwell = Math.max(0, Number(model.get("dwell_ms")) || 0);
    if (traits.finished() || dwell === 0) return true;
    const { early, onScreen } = source.shown;
    const token = early || source.current();
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
  return { allowed, close: () => clearTimeout(cueTimer) };
}

// src/canvaskeys.js
function createCanvasKeys(deps) {
  const { state, traits, view, keymap, source, boxTool, maskTool, instTool, painter, edits, showGrab } = deps;
  const inst = () => traits.mode() === "instance";
  const stage = deps.stage;
  const requestDraw = painter.request;
  const updateCursor = painter.updateCursor;
  function changeBrush(step) {
    const size = traits.brushSize();
    const delta = Math.max(1, Math.round(size * 0.2));
    traits.set("brush_size", Math.max(1, size + step * delta));
  }
  const actions = {
    undo: edits.undo,
    redo: edits.redo,
    delete: () => state.polygon.length ? maskTool.popPoint() : inst() ? instTool.deleteSelected() : boxTool.deleteSelected(),
    accept: () => inst() ? instTool.acceptSelected() : traits.mode() === "mask" ? maskTool.acceptDraft() : boxTool.acceptSelected(),
    accept_all: () => inst() ? instTool.acceptAll() : boxTool.acceptAll(),
    reject_all: () => inst() ? instTool.rejectAll() : boxTool.rejectAll(),
    new_object: () => instTool.startNew(),
    raise_object: () => instTool.reorder(1),
    lower_object: () => instTool.reorder(-1),
    brush: () => traits.set("tool", "brush"),
    eraser: () => traits.set("tool", "eraser"),
    polygon: () => traits.set("tool", "polygon"),
    brush_smaller: () => changeBrush(-1),
    brush_larger: () => changeBrush(1),
    cancel: () => {
      if (state.drag || state.polygon.length) edits.cancelGesture();
      else state.selected = state.picked = null;
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
    }
  };
  function keyDown(e) {
    if (!(e.target instanceof Node) || !stage.contains(e.target)) return;
    if (e.key === "Enter" && inst() && state.polygon.length >= 3 && !traits.finished()) {
      e.preventDefault();
      e.stopPropagation();
      instTool.fromPolygon();
      return;
    }
    const binding = keymap.lookup(e);
    if (!binding) {
      if (!traits.panelKeys().includes(chordOf(e))) passToApp(e);
      return;
    }
    e.preventDefault();
    e.stopPropagation();
    if ((traits.finished() || source.shown.early) && binding.action !== "reset_view") return;
    if (binding.modes.includes(traits.mode())) actions[binding.action]?.();
    if (state.pointer && !state.drag) showGrab(state.pointer[0], state.pointer[1]);
  }
  function keyUp(e) {
    if (!keymap.releases(e, "pan")) return;
    state.panKey = false;
    updateCursor();
    requestDraw();
    if (e.currentTarget === stage) {
      e.preventDefault();
      e.stopPropagation();
    }
  }
  function blur() {
    state.panKey = false;
    updateCursor();
  }
  return { keyDown, keyUp, blur };
}

// src/edits.js
function createEdits({ state, history, boxTool, maskTool, instTool, redraw }) {
  function applyStep(step, side) {
    if (step.kind === "boxes") boxTool.restore(step[side]);
    else if (step.kind === "objects") instTool.restore(step, side);
    else maskTool.restore(step, side);
    redraw();
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
    redraw();
  }
  return { undo, redo, cancelGesture };
}

// src/history.js
var MAX_HISTORY = 200;
var MAX_HISTORY_BYTES = 256 * 2 ** 20;
function createHistory(max, maxBytes) {
  let undoStack = [];
  let redoStack = [];
  const bytes = (step) => step.kind === "mask" ? step.before.length + step.after.length : step.kind === "objects" ? step.bytes : 0;
  return {
    /** @param {Step} step */
    record(step) {
      undoStack.push(step);
      redoStack = [];
      let held = undoStack.reduce((sum, s) => sum + bytes(s), 0);
      while (undoStack.length > 1 && (undoStack.length > max || held > maxBytes)) {
        held -= bytes(
          /** @type {Step} */
          undoStack.shift()
        );
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
    size: () => undoStack.length
  };
}

// src/imagesource.js
var AHEAD_KEEP = 6;
function createImageSource({ model, state, stage, redraw }) {
  const ahead = /* @__PURE__ */ new Map();
  const shown = {
    /** @type {HTMLImageElement | ImageBitmap | null} */
    img: null,
    /** Which image `img` holds: its key ("#" and the image_id when it has none). */
    token: "",
    /** While the next image decodes, the one before stays on screen: no blank frame between two. */
    pending: false,
    /** The key of the image shown early (a key that moves on, before Python answers), or "". */
    early: "",
    /** The image on screen (`token` when a frame drew it) and since when (performance.now()). */
    onScreen: { token: "", at: 0 },
    /** @type {string | null} the object URL of the model's image bytes */
    url: null
  };
  const current = () => String(model.get("image_key") || "") || `#${state.imageId}`;
  function revoke() {
    if (shown.url) URL.revokeObjectURL(shown.url);
    shown.url = null;
  }
  function keepAhead(content, buffer) {
    const type = content.format === "jpeg" ? "image/jpeg" : "image/png";
    const key = String(content.key);
    ahead.delete(key);
    const blob = new Blob([
      /** @type {DataView<ArrayBuffer>} */
      buffer
    ], { type });
    const entry = {
      width: Number(content.width) | 0,
      height: Number(content.height) | 0,
      ready: createImageBitmap(blob).catch(() => null),
      bitmap: null
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
    if (key === model.get("image_key") && (!shown.img || shown.pending) && !shown.early) load();
  }
  function markAhead() {
    const key = String(model.get("ahead_key") || "");
    const entry = ahead.get(key);
    stage.dataset.aheadReady = entry && entry.bitmap ? key : "";
  }
  function load() {
    revoke();
    const key = String(model.get("image_key") || "");
    const token = key || `#${state.imageId}`;
    const data = bytesOf(model.get("image"));
    const use = (next3) => {
      shown.img = next3;
      shown.token = next3 ? token : "";
      shown.pending = false;
      redraw();
    };
    if (key && data.length === 0) {
      const entry = ahead.get(key);
      if (entry && entry.bitmap) {
        use(entry.bitmap);
        return;
      }
      shown.pending = true;
      if (!entry) model.send({ kind: "need", key });
      else
        entry.ready.then((b) => {
          if (model.get("image_key") === key && !shown.url && !shown.early && shown.pending) use(b);
        });
      return;
    }
    if (data.length === 0) {
      use(null);
      return;
    }
    shown.pending = true;
    const type = model.get("image_format") === "jpeg" ? "image/jpeg" : "image/png";
    const url = URL.createObjectURL(new Blob([
      /** @type {Uint8Array<ArrayBuffer>} */
      data
    ], { type }));
    shown.url = url;
    const next2 = new Image();
    next2.onload = () => {
      if (shown.url === url) use(next2);
    };
    next2.onerror = () => {
      if (shown.url === url) use(null);
    };
    next2.src = url;
  }
  function next() {
    const entry = ahead.get(String(model.get("ahead_key") || ""));
    return entry && entry.bitmap ? entry : null;
  }
  function showEarly(entry) {
    shown.early = String(model.get("ahead_key"));
    shown.token = shown.early;
    shown.pending = false;
    revoke();
    shown.img = entry.bitmap;
    return shown.early;
  }
  return { shown, current, keepAhead, markAhead, load, next, showEarly, revoke };
}

// src/maskcodec.js
var PATCH_RAW_MAX = 65536;
async function recoded(bytes, codec) {
  const stream = new Blob([
    /** @type {Uint8Array<ArrayBuffer>} */
    bytes
  ]).stream().pipeThrough(codec);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
function eachRun(payload, W, H, fill) {
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
function cropMask(src, W, rect) {
  const [x0, y0, x1, y1] = rect;
  const w = x1 - x0;
  const out = new Uint8Array(w * (y1 - y0));
  for (let y = y0; y < y1; y++) out.set(src.subarray(y * W + x0, y * W + x1), (y - y0) * w);
  return out;
}
function keepRows(mask, W, before, y0, y1) {
  for (let y = y0; y < y1; y++) {
    if (!before.has(y)) before.set(y, mask.slice(y * W, (y + 1) * W));
  }
}
function cropBefore(mask, W, before, rect) {
  const [x0, y0, x1, y1] = rect;
  const old = cropMask(mask, W, rect);
  for (let y = y0; y < y1; y++) {
    const row = before.get(y);
    if (row) old.set(row.subarray(x0, x1), (y - y0) * (x1 - x0));
  }
  return old;
}

// src/objectsin.js
function objectsOf(value) {
  if (!Array.isArray(value)) return [];
  const out = [];
  for (const o of value) {
    const rect = o && Array.isArray(o.rect) && o.rect.length === 4 ? o.rect.map(Number) : null;
    if (!rect || !Array.isArray(o.runs) || rect[2] <= rect[0] || rect[3] <= rect[1]) continue;
    const bits = new Uint8Array((rect[2] - rect[0]) * (rect[3] - rect[1]));
    let at = 0;
    o.runs.forEach((n, i) => {
      const end = Math.min(at + (Number(n) | 0), bits.length);
      if (i % 2) bits.fill(1, at, end);
      at = end;
    });
    const obj = { id: Number(o.id) | 0, label: Number(o.label) | 0, draft: !!o.draft, rect, bits };
    if (obj.draft && typeof o.score === "number" && Number.isFinite(o.score)) obj.score = o.score;
    out.push(obj);
  }
  return out;
}

// src/raster.js
function capsuleRect(a, b, r, W, H) {
  const px = Math.floor(b[0]);
  const py = Math.floor(b[1]);
  const x0 = Math.min(Math.floor(Math.min(a[0], b[0]) - r), px);
  const y0 = Math.min(Math.floor(Math.min(a[1], b[1]) - r), py);
  const x1 = Math.max(Math.ceil(Math.max(a[0], b[0]) + r), px + 1);
  const y1 = Math.max(Math.ceil(Math.max(a[1], b[1]) + r), py + 1);
  return [clamp(x0, 0, W), clamp(y0, 0, H), clamp(x1, 0, W), clamp(y1, 0, H)];
}
function capsule(a, b, r, W, H, fn) {
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
function polygonSpans(pts, W, H, fn) {
  if (pts.length < 3) return;
  const ys = pts.map((p) => p[1]);
  const rowStart = clamp(Math.floor(Math.min(...ys)), 0, H);
  const rowEnd = clamp(Math.ceil(Math.max(...ys)), 0, H);
  for (let y = rowStart; y < rowEnd; y++) {
    const cy = y + 0.5;
    const xs = [];
    for (let i = 0; i < pts.length; i++) {
      const [ax, ay] = pts[i];
      const [bx, by] = pts[(i + 1) % pts.length];
      if (ay <= cy && cy < by || by <= cy && cy < ay) xs.push(ax + (cy - ay) / (by - ay) * (bx - ax));
    }
    xs.sort((u, v) => u - v);
    for (let j = 0; j + 1 < xs.length; j += 2) {
      const from = clamp(Math.ceil(xs[j] - 0.5), 0, W);
      const to = clamp(Math.ceil(xs[j + 1] - 0.5), 0, W);
      if (to > from) fn(y, from, to);
    }
  }
}

// src/instancetool.js
var MIN_DRAG_PX = 3;
var TINTS = [0, 0.45, -0.35, 0.7, -0.55];
var SPRITE_MAX_SIDE = 1024;
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
function rgbOf(css) {
  const m = /^#([0-9a-f]{6})$/i.exec(css);
  const v = m ? parseInt(m[1], 16) : 8421504;
  return [v >> 16 & 255, v >> 8 & 255, v & 255];
}
function createInstanceTool({ state, view, traits, history, ctx, send, redraw }) {
  const drawn = /* @__PURE__ */ new WeakMap();
  let lastClass = traits.activeClass();
  function load(value) {
    state.objects = objectsOf(value);
    state.picked = null;
    state.nextId = state.objects.reduce((m, o) => Math.max(m, o.id + 1), 1);
    lastClass = traits.activeClass();
  }
  const picked = () => state.objects.find((o) => o.id === state.picked) || null;
  function sendObject(o) {
    const content = { kind: "instance", image_id: state.imageId, id: o.id, label: o.label, draft: o.draft, rect: o.rect };
    if (o.bits.length <= PATCH_RAW_MAX) send({ ...content, encoding: "raw" }, [o.bits]);
    else send({ ...content, encoding: "zlib" }, recoded(o.bits, new CompressionStream("deflate")).then((b) => [b]));
  }
  function sendChanges(was, now) {
    const before = new Map(was.map((o) => [o.id, o]));
    const ids = new Set(now.map((o) => o.id));
    for (const o of now) if (before.get(o.id) !== o) sendObject(o);
    for (const o of was) if (!ids.has(o.id)) send({ kind: "instance_delete", image_id: state.imageId, id: o.id });
    const kept = was.filter((o) => ids.has(o.id)).map((o) => o.id);
    const expected = [...kept, ...now.filter((o) => !before.has(o.id)).map((o) => o.id)];
    const order = now.map((o) => o.id);
    if (order.some((id, i) => id !== expected[i])) {
      send({ kind: "instance_order", image_id: state.imageId, order });
    }
  }
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
  function restore(step, side) {
    const was = state.objects;
    state.objects = step[side];
    if (!picked()) state.picked = null;
    sendChanges(was, state.objects);
  }
  const replaced = (o, change) => state.objects.map((x) => x === o ? { ...x, ...change } : x);
  function objectsAt(p) {
    const x = Math.floor(p[0]);
    const y = Math.floor(p[1]);
    return state.objects.filter((o) => {
      const [x0, y0, x1] = o.rect;
      return x >= x0 && x < x1 && y >= y0 && y < o.rect[3] && o.bits[(y - y0) * (x1 - x0) + x - x0] === 1;
    }).map((o) => o.id).reverse();
  }
  function click(sx, sy) {
    const under = objectsAt(view.toImage(sx, sy));
    const at = state.picked === null ? -1 : under.indexOf(state.picked);
    state.picked = under.length ? under[(at + 1) % under.length] : null;
    const o = picked();
    if (o && o.label !== traits.activeClass()) {
      lastClass = o.label;
      traits.set("active_class", o.label);
    }
    redraw();
  }
  function strokeDown(sx, sy) {
    const erase = traits.tool() === "eraser";
    const d = { id: 0, label: 0, rect: [0, 0, 0, 0], bits: new Uint8Array(0), last: [0, 0], dead: false };
    state.drag = { kind: "stroke", start: [sx, sy], moved: false, erase, target: picked(), ...d };
  }
  function grow(d, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    const r = d.rect;
    const empty = r[2] <= r[0] || r[3] <= r[1];
    const u = empty ? rect.slice() : [Math.min(r[0], rect[0]), Math.min(r[1], rect[1]), Math.max(r[2], rect[2]), Math.max(r[3], rect[3])];
    if (!empty && u.every((v, i) => v === r[i])) return;
    const [mx, my] = [Math.max(32, u[2] - u[0] >> 2), Math.max(32, u[3] - u[1] >> 2)];
    [u[0], u[1], u[2], u[3]] = [Math.max(0, u[0] - mx), Math.max(0, u[1] - my), Math.min(state.W, u[2] + mx), Math.min(state.H, u[3] + my)];
    const w = u[2] - u[0];
    const bits = new Uint8Array(w * (u[3] - u[1]));
    const ow = r[2] - r[0];
    for (let y = r[1]; y < r[3] && !empty; y++) bits.set(d.bits.subarray((y - r[1]) * ow, (y - r[1] + 1) * ow), (y - u[1]) * w + r[0] - u[0]);
    d.rect = u;
    d.bits = bits;
  }
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
  function strokeTo(d, sx, sy) {
    if (!d.moved) {
      if (Math.hypot(sx - d.start[0], sy - d.start[1]) < MIN_DRAG_PX) return;
      d.moved = true;
      const t = d.target;
      d.dead = d.erase && !t;
      if (d.dead) return;
      d.id = t ? t.id : state.nextId;
      d.label = t ? t.label : traits.activeClass();
      if (t) [d.rect, d.bits] = [t.rect.slice(), t.bits.slice()];
      const p = view.toImage(d.start[0], d.start[1]);
      paint(d, p, p);
    }
    if (!d.dead) paint(d, d.last, view.toImage(sx, sy));
  }
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
    if (!shape) commit(state.objects.filter((o) => o !== t), null);
    else if (t) commit(replaced(t, { ...shape, draft: false }), t.id);
    else commit([...state.objects, { id: d.id, label: d.label, draft: false, ...shape }], d.id);
  }
  function fromPolygon() {
    const { W, H } = state;
    const pts = state.polygon;
    state.polygon = [];
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
    if (state.objects.some((o) => o.draft)) commit(state.objects.map((o) => o.draft ? { ...o, draft: false } : o), state.picked);
  }
  function rejectAll() {
    if (state.objects.some((o) => o.draft)) commit(state.objects.filter((o) => !o.draft), null);
  }
  function reorder(step) {
    const i = state.objects.findIndex((o) => o.id === state.picked);
    const j = i + step;
    if (i < 0 || j < 0 || j >= state.objects.length) return;
    const next = state.objects.slice();
    [next[i], next[j]] = [next[j], next[i]];
    commit(next, state.picked);
  }
  function classChanged() {
    const k = traits.activeClass();
    if (k === lastClass) return;
    lastClass = k;
    const o = picked();
    if (o && o.label !== k) commit(replaced(o, { label: k, draft: false }), o.id);
  }
  function startNew() {
    state.picked = null;
    redraw();
  }
  function sprite(o, bits, rect) {
    const sel = o.id === state.picked;
    const color = traits.color(o.label);
    const key = `${color}|${sel}|${o.draft}|${traits.opacity()}`;
    const kept = bits === o.bits ? drawn.get(o) : void 0;
    if (kept && kept.key === key) return kept.canvas;
    const bw = rect[2] - rect[0];
    const k = Math.ceil(Math.max(bw, rect[3] - rect[1]) / SPRITE_MAX_SIDE);
    const w = Math.ceil(bw / k);
    const h = Math.ceil((rect[3] - rect[1]) / k);
    const blocks = k === 1 ? bits : new Uint8Array(w * h);
    if (k > 1) {
      for (let i = 0; i < bits.length; i++) if (bits[i]) blocks[Math.floor(Math.floor(i / bw) / k) * w + Math.floor(i % bw / k)] = 1;
    }
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(w, 1);
    canvas.height = Math.max(h, 1);
    const c2 = (
      /** @type {CanvasRenderingContext2D} */
      canvas.getContext("2d")
    );
    const img = c2.createImageData(canvas.width, canvas.height);
    const edge = sel ? [255, 255, 255] : rgbOf(color);
    const t = TINTS[o.id % TINTS.length];
    const fill = rgbOf(color).map((v) => Math.round(t >= 0 ? v + (255 - v) * t : v * (1 + t)));
    const alpha = Math.round(traits.opacity() * (o.draft ? 0.3 : 0.55) * 255);
    const on = (x, y) => x >= 0 && y >= 0 && x < w && y < h && blocks[y * w + x] === 1;
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
  function drawTags() {
    ctx.font = "11px sans-serif";
    const tags = [];
    for (const o of state.objects) {
      const [x, y] = view.toScreen(o.rect[0], o.rect[1]);
      const score = o.score === void 0 ? "" : ` ${o.score.toFixed(2)}`;
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
    drawTags
  };
}

// src/maskoverlay.js
var OVERLAY_MAX_SIDE = 2048;
function createMaskOverlay(state, traits) {
  const IGNORE = 255;
  const VOID_LIGHT = [224, 224, 192];
  const VOID_DARK = [64, 64, 64];
  const overlay = document.createElement("canvas");
  const overlayCtx = (
    /** @type {CanvasRenderingContext2D} */
    overlay.getContext("2d")
  );
  let k = 1;
  const probe = document.createElement("canvas");
  probe.width = probe.height = 1;
  const probeCtx = (
    /** @type {CanvasRenderingContext2D} */
    probe.getContext("2d", { willReadFrequently: true })
  );
  let overlayImage = null;
  let rgb = [];
  function parseColor(css) {
    probeCtx.clearRect(0, 0, 1, 1);
    probeCtx.fillStyle = "#808080";
    probeCtx.fillStyle = css;
    probeCtx.fillRect(0, 0, 1, 1);
    const d = probeCtx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2]];
  }
  function recolor() {
    rgb = traits.colors().map(parseColor);
  }
  function paint(x0 = 0, y0 = 0, x1 = state.W, y1 = state.H) {
    if (!overlayImage || x1 <= x0 || y1 <= y0) return;
    const { W, H, mask } = state;
    const ow = overlayImage.width;
    const px = overlayImage.data;
    const [ox0, oy0] = [Math.floor(x0 / k), Math.floor(y0 / k)];
    const [ox1, oy1] = [Math.ceil(x1 / k), Math.ceil(y1 / k)];
    const shown = new Uint8Array(ox1 - ox0);
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
  function setOverlayPixel(px, o, v) {
    if (v === IGNORE) {
      const at = o / 4;
      const ow = (
        /** @type {ImageData} */
        overlayImage.width
      );
      const c = (at % ow + Math.floor(at / ow)) % 8 < 4 ? VOID_LIGHT : VOID_DARK;
      px[o] = c[0];
      px[o + 1] = c[1];
      px[o + 2] = c[2];
      px[o + 3] = 255;
    } else if (v && state.maskDraft && isGap(o)) {
      px[o + 3] = 0;
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
  function isGap(o) {
    const at = o / 4;
    const ow = (
      /** @type {ImageData} */
      overlayImage.width
    );
    return (at % ow + Math.floor(at / ow)) % 6 >= 3;
  }
  function reset(W, H) {
    k = Math.max(1, Math.ceil(Math.max(W, H) / OVERLAY_MAX_SIDE));
    const [ow, oh] = [Math.max(1, Math.ceil(W / k)), Math.max(1, Math.ceil(H / k))];
    overlay.width = ow;
    overlay.height = oh;
    overlayImage = W * H > 0 ? overlayCtx.createImageData(ow, oh) : null;
    overlayCtx.clearRect(0, 0, ow, oh);
  }
  function paintRun(at, end, v) {
    const W = state.W;
    const px = (
      /** @type {ImageData} */
      overlayImage.data
    );
    const ow = (
      /** @type {ImageData} */
      overlayImage.width
    );
    for (let y = Math.floor(at / W); y * W < end; y++) {
      const [x0, x1] = [Math.max(at - y * W, 0), Math.min(end - y * W, W)];
      const row = Math.floor(y / k) * ow;
      for (let ox = Math.floor(x0 / k); ox <= Math.floor((x1 - 1) / k); ox++) {
        setOverlayPixel(px, (row + ox) * 4, v);
      }
    }
  }
  function flush() {
    overlayCtx.putImageData(
      /** @type {ImageData} */
      overlayImage,
      0,
      0
    );
  }
  function draw(ctx) {
    if (!overlayImage) return;
    ctx.globalAlpha = traits.opacity();
    ctx.drawImage(overlay, 0, 0, overlay.width * k, overlay.height * k);
    ctx.globalAlpha = 1;
  }
  return { recolor, paint, reset, paintRun, flush, draw };
}

// src/masktool.js
var CLOSE_PX = 8;
function createMaskTool({ state, view, traits, history, ctx, send, redraw }) {
  const overlay = createMaskOverlay(state, traits);
  let loads = 0;
  function unpack(payload) {
    const { W, H, mask } = state;
    if (payload.length === W * H) {
      mask.set(payload);
      overlay.paint();
      return;
    }
    eachRun(payload, W, H, (at, end, v) => {
      mask.fill(v, at, end);
      overlay.paintRun(at, end, v);
    });
    overlay.flush();
  }
  function load(data) {
    const { W, H } = state;
    const mine = ++loads;
    state.mask = new Uint8Array(W * H);
    overlay.reset(W, H);
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
      }
    ).catch((err) => {
      if (mine !== loads) return;
      state.maskError = `the mask could not be read (${err}): reload the image`;
      console.error(`al_widget canvas: ${state.maskError}`);
      redraw();
    });
  }
  function painted() {
    if (!state.maskReady) return false;
    const m = state.mask;
    const words = m.byteOffset % 4 === 0 ? m.length >> 2 : 0;
    const wide = new Uint32Array(m.buffer, m.byteOffset, words);
    for (let i = 0; i < words; i++) if (wide[i]) return true;
    for (let i = words * 4; i < m.length; i++) if (m[i]) return true;
    return false;
  }
  function sendPatch(rect, values) {
    const content = { kind: "mask_patch", image_id: state.imageId, rect };
    if (values.length <= PATCH_RAW_MAX) {
      send({ ...content, encoding: "raw" }, [values]);
      return;
    }
    const packed = recoded(values, new CompressionStream("deflate")).then((bytes) => [bytes]);
    send({ ...content, encoding: "zlib" }, packed);
  }
  function commit(before, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    const old = cropBefore(state.mask, state.W, before, rect);
    const now = cropMask(state.mask, state.W, rect);
    if (sameBytes(old, now)) return;
    adopt();
    history.record({ kind: "mask", rect, before: old, after: now });
    sendPatch(rect, now);
    redraw();
  }
  function restore(step, side) {
    const [x0, y0, x1, y1] = step.rect;
    const src = step[side];
    const w = x1 - x0;
    for (let y = y0; y < y1; y++) {
      state.mask.set(src.subarray((y - y0) * w, (y - y0 + 1) * w), y * state.W + x0);
    }
    overlay.paint(x0, y0, x1, y1);
    sendPatch(step.rect, src);
  }
  function brushRadius() {
    const r = traits.brushSize() / 2;
    return traits.brushScreen() ? r / view.scale : r;
  }
  function paintSegment(a, b, value, before) {
    const { W, H, mask } = state;
    const r = brushRadius();
    const rect = capsuleRect(a, b, r, W, H);
    keepRows(state.mask, state.W, before, rect[1], rect[3]);
    capsule(a, b, r, W, H, (x, y) => {
      mask[y * W + x] = value;
    });
    overlay.paint(rect[0], rect[1], rect[2], rect[3]);
    return rect;
  }
  function grow(dirty, rect) {
    if (rect[2] <= rect[0] || rect[3] <= rect[1]) return;
    dirty[0] = Math.min(dirty[0], rect[0]);
    dirty[1] = Math.min(dirty[1], rect[1]);
    dirty[2] = Math.max(dirty[2], rect[2]);
    dirty[3] = Math.max(dirty[3], rect[3]);
  }
  function acceptDraft() {
    if (!state.maskDraft || !state.maskReady) return;
    adopt();
    send({ kind: "mask_accept", image_id: state.imageId });
    redraw();
  }
  function adopt() {
    if (!state.maskDraft) return;
    state.maskDraft = false;
    overlay.paint();
  }
  function paintDown(p) {
    const value = traits.tool() === "eraser" ? 0 : traits.paintClass();
    const { W, H } = state;
    const d = { kind: (
      /** @type {const} */
      "paint"
    ), value, before: /* @__PURE__ */ new Map(), dirty: [W, H, 0, 0], last: p };
    grow(d.dirty, paintSegment(p, p, value, d.before));
    state.drag = d;
    redraw();
  }
  function paintTo(d, p) {
    grow(d.dirty, paintSegment(d.last, p, d.value, d.before));
    d.last = p;
  }
  function paintUp(d) {
    commit(d.before, d.dirty);
  }
  function cancelStroke(d) {
    for (const [y, row] of d.before) state.mask.set(row, y * state.W);
    overlay.paint(d.dirty[0], d.dirty[1], d.dirty[2], d.dirty[3]);
  }
  function fillPolygon() {
    const { W, H, mask } = state;
    const pts = state.polygon;
    state.polygon = [];
    const before = /* @__PURE__ */ new Map();
    const value = traits.paintClass();
    const dirty = [W, H, 0, 0];
    polygonSpans(pts, W, H, (y, from, to) => {
      keepRows(state.mask, state.W, before, y, y + 1);
      mask.fill(value, y * W + from, y * W + to);
      grow(dirty, [from, y, to, y + 1]);
    });
    if (dirty[2] <= dirty[0]) return;
    overlay.paint(dirty[0], dirty[1], dirty[2], dirty[3]);
    commit(before, dirty);
    redraw();
  }
  function polygonDown(sx, sy, close = fillPolygon) {
    const click = view.toImage(sx, sy);
    const p = view.clampPoint(click);
    const isDouble = isDoubleClick(state, sx, sy);
    const pts = state.polygon;
    if (pts.length >= 3 && (isDouble || onStart(sx, sy))) {
      close();
      return;
    }
    if (isDouble) return;
    if (!pts.length) state.polygonStart = { point: p, click };
    pts.push(p);
    redraw();
  }
  function onStart(sx, sy) {
    const first = state.polygon[0];
    const start = state.polygonStart;
    const spots = start && start.point === first ? [first, start.click] : [first];
    return spots.some(([x, y]) => {
      const [fx, fy] = view.toScreen(x, y);
      return Math.hypot(sx - fx, sy - fy) <= CLOSE_PX;
    });
  }
  function popPoint() {
    state.polygon.pop();
    redraw();
  }
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
    const r = Math.max(brushRadius() * view.scale, 1);
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
    recolor: overlay.recolor,
    paintOverlay: () => overlay.paint(),
    drawOverlay: () => overlay.draw(ctx),
    load,
    painted,
    acceptDraft,
    restore,
    paintDown,
    paintTo,
    paintUp,
    cancelStroke,
    polygonDown,
    popPoint,
    drawTools
  };
}

// src/outbox.js
function createOutbox(model, state) {
  let outbox = Promise.resolve();
  const post = (content, buffers) => {
    outbox = outbox.then(async () => model.send(content, void 0, await buffers)).catch((err) => console.error("al_widget canvas: a message to Python was not sent", err));
  };
  const send = (content, buffers) => {
    state.synced = true;
    post(content, buffers);
  };
  return { post, send };
}

// src/paint.js
function createStage(el) {
  const root = document.createElement("div");
  root.className = "alw-canvas";
  const stage = document.createElement("div");
  stage.className = "alw-stage";
  stage.tabIndex = 0;
  stage.setAttribute("data-lm-suppress-shortcuts", "true");
  const canvas = document.createElement("canvas");
  const status = document.createElement("div");
  status.className = "alw-status";
  const cue = document.createElement("div");
  cue.className = "alw-dropped";
  cue.hidden = true;
  cue.setAttribute("role", "status");
  stage.append(canvas, cue);
  root.append(stage, status);
  el.appendChild(root);
  const ctx = (
    /** @type {CanvasRenderingContext2D} */
    canvas.getContext("2d")
  );
  return { root, stage, canvas, status, cue, ctx };
}
function createPainter(deps) {
  const { state, traits, view, history, keymap, source, boxTool, maskTool, instTool, polyEdit } = deps;
  const { ctx, canvas, stage, status } = deps;
  const shown = source.shown;
  let frame = 0;
  function request() {
    if (!frame) frame = requestAnimationFrame(draw);
  }
  function draw() {
    frame = 0;
    if (shown.pending && shown.img) return;
    if (shown.img && shown.token !== shown.onScreen.token) {
      shown.onScreen = { token: shown.token, at: performance.now() };
    }
    const mode = traits.mode();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    ctx.save();
    ctx.translate(view.ox, view.oy);
    ctx.scale(view.scale, view.scale);
    ctx.imageSmoothingEnabled = false;
    if (shown.img) ctx.drawImage(shown.img, 0, 0, state.W, state.H);
    const shapes = state.synced && state.maskReady;
    const drawn = shown.early ? `early-${shown.early}` : String(state.imageId);
    stage.dataset.imageLoaded = shown.img && (shapes || shown.early) ? drawn : "";
    stage.dataset.imageKey = shown.img ? shown.token : "";
    if (mode === "mask") maskTool.drawOverlay();
    if (mode === "instance") instTool.drawObjects();
    ctx.restore();
    let labels = mode === "box" ? boxTool.draw() : [];
    if (mode === "instance") labels = instTool.drawTags();
    stage.dataset.labels = mode === "box" || mode === "instance" ? JSON.stringify(labels) : "";
    if (mode === "mask" || mode === "instance") maskTool.drawTools();
    if (mode === "instance" && traits.tool() === "polygon") polyEdit.draw();
    drawFinished();
    updateStatus();
  }
  function drawFinished() {
    const message = traits.finished();
    stage.dataset.finished = message ? "true" : "";
    if (!message) return;
    ctx.fillStyle = "rgba(20, 20, 20, 0.7)";
    ctx.fillRect(0, 0, view.cssW, view.cssH);
    ctx.fillStyle = "#ffffff";
    ctx.font = "bold 16px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(`✓ ${message}`, view.cssW / 2, view.cssH / 2);
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
      const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
      text = `box · class ${cls} · ${count(state.boxes.length, "box", "boxes")}`;
      const threshold = traits.draftThreshold();
      const open = state.drafts.filter((d) => isShown(d, threshold)).length;
      if (open) {
        const accept = `${keymap.label("accept")}: accept, ${keymap.label("accept_all")}: all`;
        text += `, ${count(open, "draft", "drafts")} (${accept}, ${keymap.label("reject_all")}: reject all)`;
      }
      if (open < state.drafts.length) {
        const below = threshold === null ? "no drafts yet" : `below ${threshold.toFixed(2)}`;
        text += `, ${state.drafts.length - open} hidden (${below})`;
      }
      if (boxTool.full()) text += ` · full: at most ${traits.maxBoxes()}, delete one to draw`;
    } else if (mode === "instance") {
      const n = state.objects.length;
      const drafts = state.objects.filter((o) => o.draft).length;
      text = `instance · ${traits.tool()}`;
      if (traits.tool() !== "polygon") text += ` ${traits.brushSize()}px`;
      text += ` · class ${cls} · ${n} ${n === 1 ? "object" : "objects"}`;
      if (drafts) {
        const accept = `${keymap.label("accept")}: accept, ${keymap.label("accept_all")}: all`;
        text += `, ${drafts} ${drafts === 1 ? "draft" : "drafts"} (${accept}, ${keymap.label("reject_all")}: reject all)`;
      }
      if (traits.tool() === "polygon") text += " · click its corners, or drag a box";
      else text += state.picked === null ? " · a stroke starts a new object" : ` · object ${state.picked} selected`;
    } else if (mode === "mask") {
      const eraser = traits.tool() === "eraser";
      text = `mask · ${traits.tool()}`;
      if (traits.tool() !== "polygon") text += ` ${traits.brushSize()}px${traits.brushScreen() ? " on screen" : ""}`;
      text += eraser ? ` · paints ${traits.className(0)} (the background)` : ` · class ${cls}`;
      if (state.maskDraft) text += ` · the model's mask is a draft (${keymap.label("accept")}: accept; painting over it accepts it)`;
      if (state.maskError) text = state.maskError;
      else if (!state.maskReady) text += " · reading the mask…";
    } else {
      status.textContent = "classify: press a class's digit, or click its button";
      return;
    }
    status.textContent = `${text} · zoom ${zoom} · ${history.size()} undo`;
  }
  function updateCursor() {
    const m = traits.mode();
    const drawing = m === "mask" || m === "instance";
    const polygon = drawing && traits.tool() === "polygon";
    const panning = state.panKey || !!state.drag && state.drag.kind === "pan";
    stage.classList.toggle("alw-panning", panning);
    if (panning || m !== "box" || !state.selected) canvas.style.cursor = "";
    stage.classList.toggle("alw-box", m === "box");
    stage.classList.toggle("alw-polygon", polygon);
    stage.classList.toggle("alw-paint", drawing && !polygon && !state.panKey);
  }
  function close() {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
  }
  return { request, updateCursor, close };
}

// src/panelglue.js
function mayMoveEarly(action, mode, boxes, drafts, panel) {
  const picked = !!panel && !!panel.querySelector(".alw-picker button.mod-active");
  return action === "label" ? mode === "classify" : action === "skip" || // Undecided drafts are dropped, not stored: they no longer stop a submit.
  action === "no_objects" && mode === "box" && !boxes || action === "no_objects" && mode === "instance" && !boxes && !drafts || action === "submit" && (mode === "mask" && !drafts && boxes > 0 || mode === "box" && boxes > 0 || mode === "classify" && picked);
}
function createPanelGlue(el, model) {
  let pickerBefore = null;
  const panel = () => (
    /** @type {HTMLElement | null} */
    el.closest(".alw-panel")
  );
  function move(at, key) {
    if (!at) return;
    const pick = model.get("ahead_picker");
    const buttons = [...at.querySelectorAll(".alw-picker button")];
    const active = buttons.map((b) => b.classList.contains("mod-active"));
    if (typeof pick === "number") {
      buttons.forEach((b, k) => b.classList.toggle("mod-active", k === pick));
    }
    forget();
    const watch = new MutationObserver(() => {
      if (pickerBefore) pickerBefore.drawn = true;
    });
    const picker = at.querySelector(".alw-picker");
    if (picker) watch.observe(picker, { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
    pickerBefore = { panel: at, active, watch, drawn: false };
    at.dispatchEvent(new CustomEvent("alw-early", { detail: { key }, bubbles: true }));
  }
  function forget() {
    if (!pickerBefore) return false;
    const drawn = pickerBefore.drawn || pickerBefore.watch.takeRecords().length > 0;
    pickerBefore.watch.disconnect();
    pickerBefore = null;
    return drawn;
  }
  function back() {
    if (!pickerBefore) return;
    const { panel: at, active } = pickerBefore;
    const buttons = [...at.querySelectorAll(".alw-picker button")];
    if (!forget()) buttons.forEach((b, k) => b.classList.toggle("mod-active", !!active[k]));
    at.dispatchEvent(new CustomEvent("alw-stay", { bubbles: true }));
  }
  function settle(pick) {
    const at = pickerBefore && pickerBefore.panel;
    if (!forget() && at && typeof pick === "number") {
      const buttons = [...at.querySelectorAll(".alw-picker button")];
      buttons.forEach((b, k) => b.classList.toggle("mod-active", k === pick));
    }
  }
  function picked() {
    const at = panel();
    const buttons = at ? [...at.querySelectorAll(".alw-picker button")] : [];
    return buttons.length ? buttons.findIndex((b) => b.classList.contains("mod-active")) : null;
  }
  return { panel, move, back, settle, picked };
}

// src/polyedit.js
var GRAB_PX = 6;
var MIN_DRAG_PX2 = 3;
function toSegment(p, a, b) {
  const vx = b[0] - a[0];
  const vy = b[1] - a[1];
  const len2 = vx * vx + vy * vy;
  const t = len2 > 0 ? Math.min(Math.max(((p[0] - a[0]) * vx + (p[1] - a[1]) * vy) / len2, 0), 1) : 0;
  return Math.hypot(p[0] - (a[0] + t * vx), p[1] - (a[1] + t * vy));
}
function createPolygonEdit({ state, view, traits, ctx, maskTool, instTool, redraw }) {
  function grab(s) {
    const pts = state.polygon.map((p) => view.toScreen(p[0], p[1]));
    const at = pts.findIndex((p) => Math.hypot(s[0] - p[0], s[1] - p[1]) <= GRAB_PX);
    if (at >= 0) return at;
    const n = pts.length;
    for (let i = 0; i + 1 < n || n >= 3 && i < n; i++) {
      if (toSegment(s, pts[i], pts[(i + 1) % n]) <= GRAB_PX) return -2 - i;
    }
    return -1;
  }
  function down(sx, sy) {
    const start = [sx, sy];
    if (!state.polygon.length) {
      const from = view.clampPoint(view.toImage(sx, sy));
      state.drag = { kind: "polybox", start, moved: false, from, to: from };
      return;
    }
    const hold = grab(start);
    if (hold === -1) {
      maskTool.polygonDown(sx, sy, instTool.fromPolygon);
      return;
    }
    let index = hold;
    if (hold <= -2) {
      index = -1 - hold;
      state.polygon.splice(index, 0, view.clampPoint(view.toImage(sx, sy)));
    }
    state.drag = { kind: "vertex", start, moved: hold <= -2, index };
    redraw();
  }
  function dragTo(d, sx, sy) {
    if (!d.moved && Math.hypot(sx - d.start[0], sy - d.start[1]) < MIN_DRAG_PX2) return;
    d.moved = true;
    const p = view.clampPoint(view.toImage(sx, sy));
    if (d.kind === "vertex") state.polygon[d.index] = p;
    else d.to = p;
  }
  function up(d, sx, sy) {
    if (d.kind === "polybox" && !d.moved) maskTool.polygonDown(sx, sy, instTool.fromPolygon);
    else if (d.kind === "polybox") {
      const [x0, y0, x1, y1] = normRect(d.from, d.to);
      if (x1 > x0 && y1 > y0) state.polygon = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    } else if (!d.moved && d.index === 0 && state.polygon.length >= 3) instTool.fromPolygon();
    redraw();
  }
  function draw() {
    const d = state.drag;
    ctx.strokeStyle = traits.color(traits.activeClass());
    ctx.lineWidth = 2;
    if (d && d.kind === "polybox" && d.moved) {
      const [ax, ay] = view.toScreen(d.from[0], d.from[1]);
      const [bx, by] = view.toScreen(d.to[0], d.to[1]);
      ctx.strokeRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
    }
    ctx.fillStyle = "#ffffff";
    ctx.lineWidth = 1;
    for (const p of state.polygon) {
      const [x, y] = view.toScreen(p[0], p[1]);
      ctx.fillRect(x - 3, y - 3, 6, 6);
      ctx.strokeRect(x - 3, y - 3, 6, 6);
    }
  }
  return { down, dragTo, up, draw };
}

// src/pointer.js
var MIN_DRAG_PX3 = 3;
function createPointer(deps) {
  const { state, traits, view, source, boxTool, maskTool, instTool, polyEdit, painter, edits, canvas, stage } = deps;
  const requestDraw = painter.request;
  const updateCursor = painter.updateCursor;
  function down(e) {
    stage.focus({ preventScroll: true });
    const [sx, sy] = view.eventPos(e);
    state.pointer = [sx, sy];
    if (state.drag) return;
    if (e.button === 1 || e.button === 0 && state.panKey) {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      state.drag = view.startPan(sx, sy);
      updateCursor();
      return;
    }
    if (e.button !== 0 || !state.W || !state.H || traits.finished() || source.shown.early) return;
    const mode = traits.mode();
    if (mode === "mask" && !state.maskReady) return;
    canvas.setPointerCapture(e.pointerId);
    if (mode === "box") boxTool.down(sx, sy);
    else if (mode === "mask" && traits.tool() === "polygon") maskTool.polygonDown(sx, sy);
    else if (mode === "mask") maskTool.paintDown(view.toImage(sx, sy));
    else if (mode === "instance" && traits.tool() === "polygon") polyEdit.down(sx, sy);
    else if (mode === "instance") instTool.strokeDown(sx, sy);
  }
  function move(e) {
    const [sx, sy] = view.eventPos(e);
    state.pointer = [sx, sy];
    const d = state.drag;
    if (!d) {
      if (traits.mode() === "mask" || traits.mode() === "instance") requestDraw();
      showGrab(sx, sy);
      return;
    }
    if (d.kind === "pan") {
      view.panTo(d, sx, sy);
    } else if (d.kind === "paint") {
      maskTool.paintTo(d, view.toImage(sx, sy));
    } else if (d.kind === "stroke") {
      instTool.strokeTo(d, sx, sy);
    } else if (d.kind === "vertex" || d.kind === "polybox") {
      polyEdit.dragTo(d, sx, sy);
    } else {
      if (!d.moved && Math.hypot(sx - d.start[0], sy - d.start[1]) < MIN_DRAG_PX3) return;
      d.moved = true;
      boxTool.dragTo(d, view.toImage(sx, sy));
    }
    requestDraw();
  }
  function up(e) {
    const d = state.drag;
    if (!d) return;
    state.drag = null;
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    const [sx, sy] = view.eventPos(e);
    if (d.kind === "paint") maskTool.paintUp(d);
    else if (d.kind === "stroke") instTool.strokeUp(d, sx, sy);
    else if (d.kind === "vertex" || d.kind === "polybox") polyEdit.up(d, sx, sy);
    else if (d.kind !== "pan") boxTool.up(d, sx, sy);
    updateCursor();
    showGrab(sx, sy);
    requestDraw();
  }
  function showGrab(sx, sy) {
    const box = traits.mode() === "box" && !state.panKey && !source.shown.early && !traits.finished();
    canvas.style.cursor = box && GRAB_CURSORS[boxTool.grabAt(sx, sy)] || "";
  }
  function cancel() {
    edits.cancelGesture();
    updateCursor();
  }
  function leave() {
    if (!state.drag) {
      state.pointer = null;
      requestDraw();
    }
  }
  function wheel(e) {
    if (!state.W || !state.H) return;
    e.preventDefault();
    e.stopPropagation();
    const [sx, sy] = view.eventPos(e);
    const unit = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 15e-4;
    view.zoomAt(sx, sy, Math.exp(-e.deltaY * unit));
    requestDraw();
  }
  return { down, move, up, cancel, leave, wheel, showGrab };
}

// src/traits.js
function readTraits(model) {
  return {
    mode: () => (
      /** @type {string} */
      model.get("mode")
    ),
    tool: () => (
      /** @type {string} */
      model.get("tool")
    ),
    brushSize: () => Math.max(1, Number(model.get("brush_size")) || 1),
    /** Whether the brush size counts screen pixels (else image pixels). */
    brushScreen: () => !!model.get("brush_screen"),
    activeClass: () => Number(model.get("active_class")) | 0,
    /** The class the brush and polygon paint: never class 0, the background, when others exist. */
    paintClass() {
      const k = Number(model.get("active_class")) | 0;
      const mask = model.get("mode") === "mask";
      return mask && k === 0 && (model.get("classes") || []).length > 1 ? 1 : k;
    },
    /** The message shown when there is nothing to edit; "" otherwise. */
    finished: () => String(model.get("finished") || ""),
    /** @returns {string[]} the chords of the panel around the canvas */
    panelKeys: () => model.get("panel_keys") || [],
    /** @returns {Record<string, string>} panel chords that may show the next image early */
    swapKeys: () => model.get("swap_keys") || {},
    opacity: () => clamp(Number(model.get("opacity")), 0, 1),
    /** The confidence from which drafts are shown; null: no scored draft is (drafts.js). */
    draftThreshold() {
      const v = model.get("draft_threshold");
      return typeof v === "number" ? v : null;
    },
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
    }
  };
}
function watchTraits(model, apply) {
  const pending = /* @__PURE__ */ new Set();
  const flush = () => {
    const p = new Set(pending);
    pending.clear();
    apply(p);
  };
  const changes = (names, what) => names.map((n) => [
    `change:${n}`,
    () => {
      if (pending.size === 0) queueMicrotask(flush);
      pending.add(what);
    }
  ]);
  const listeners = [
    ...changes(["image_id", "width", "height"], "reset"),
    ...changes(["image", "image_format", "image_key"], "image"),
    ...changes(["colors"], "colors"),
    ...changes(["keymap"], "keymap"),
    ...changes(["classes", "mode", "tool", "brush_size", "opacity", "active_class", "finished", "draft_threshold", "brush_screen"], "ui")
  ];
  for (const [event, cb] of listeners) model.on(event, cb);
  return () => {
    for (const [event, cb] of listeners) model.off(event, cb);
  };
}

// src/view.js
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
    eventPos
  };
  function fitScale() {
    const { W, H } = state;
    return W && H && view.cssW && view.cssH ? Math.min(view.cssW / W, view.cssH / H) : 1;
  }
  function fit() {
    const s = fitScale();
    view.scale = s;
    view.ox = (view.cssW - state.W * s) / 2;
    view.oy = (view.cssH - state.H * s) / 2;
    view.fitted = true;
  }
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
  function resize() {
    const r = stage.getBoundingClientRect();
    view.cssW = r.width;
    view.cssH = r.height;
    view.dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(view.cssW * view.dpr));
    canvas.height = Math.max(1, Math.round(view.cssH * view.dpr));
    if (view.fitted) fit();
  }
  function startPan(sx, sy) {
    return { kind: "pan", start: [sx, sy], origin: [view.ox, view.oy] };
  }
  function panTo(d, sx, sy) {
    view.ox = d.origin[0] + sx - d.start[0];
    view.oy = d.origin[1] + sy - d.start[1];
    view.fitted = false;
  }
  function toImage(sx, sy) {
    return [(sx - view.ox) / view.scale, (sy - view.oy) / view.scale];
  }
  function toScreen(x, y) {
    return [x * view.scale + view.ox, y * view.scale + view.oy];
  }
  function clampPoint(p) {
    return [clamp(p[0], 0, state.W), clamp(p[1], 0, state.H)];
  }
  function eventPos(e) {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }
  return view;
}

// src/index.js
function render({ model, el }) {
  const { root, stage, canvas, status, cue, ctx } = createStage(el);
  const state = createState();
  const traits = readTraits(model);
  const view = createView(state, stage, canvas);
  const history = createHistory(MAX_HISTORY, MAX_HISTORY_BYTES);
  const keymap = createKeymap();
  const { post, send } = createOutbox(model, state);
  const redraw = () => painter.request();
  const deps = { state, view, traits, history, ctx, send, redraw };
  const boxTool = createBoxTool(deps);
  const maskTool = createMaskTool(deps);
  const instTool = createInstanceTool(deps);
  const source = createImageSource({ model, state, stage, redraw });
  const glue = createPanelGlue(el, model);
  const polyEdit = createPolygonEdit({ ...deps, maskTool, instTool });
  const tools = { boxTool, maskTool, instTool, polyEdit };
  const painter = createPainter({ ...deps, ...tools, keymap, source, canvas, stage, status });
  const edits = createEdits({ state, history, ...tools, redraw });
  const pointer = createPointer({ ...deps, ...tools, source, painter, edits, canvas, stage });
  const { showGrab } = pointer;
  const keyDeps = { ...deps, ...tools, keymap, source, painter, edits, showGrab, stage };
  const keys = createCanvasKeys(keyDeps);
  const gate = createGate({ model, traits, source, stage, cue, post });
  function fresh(W, H, boxes, drafts, mask, objects) {
    state.W = W;
    state.H = H;
    state.drag = null;
    state.polygon = [];
    boxTool.load(boxesOf(boxes), boxesOf(drafts));
    maskTool.load(mask);
    instTool.load(objects);
    history.clear();
    view.fit();
  }
  function startImage() {
    source.shown.early = "";
    glue.settle(model.get("shown_picker"));
    state.imageId = Number(model.get("image_id")) | 0;
    stage.dataset.imageId = String(state.imageId);
    const W = Math.max(0, Number(model.get("width")) | 0);
    const H = Math.max(0, Number(model.get("height")) | 0);
    state.maskDraft = !!model.get("mask_draft");
    const loaded = (name) => model.get(`loaded_${name}`);
    fresh(W, H, loaded("boxes"), loaded("drafts"), loaded("mask"), loaded("instances"));
  }
  function showEarly(action) {
    const entry = source.next();
    if (!entry || source.shown.early || traits.finished() || state.drag) return "";
    const panel = glue.panel();
    const mask = traits.mode() === "mask";
    const shapes = mask ? Number(action === "submit" && maskTool.painted()) : state.boxes.length + state.objects.length;
    const drafts = mask ? Number(state.maskDraft) : state.drafts.length;
    if (!mayMoveEarly(action, traits.mode(), shapes, drafts, panel)) return "";
    const key = source.showEarly(entry);
    state.selected = null;
    state.maskDraft = false;
    fresh(entry.width, entry.height, [], [], null, []);
    redraw();
    glue.move(panel, key);
    return key;
  }
  function onMessage(content, buffers) {
    if (content && content.kind === "image" && buffers && buffers[0]) {
      source.keepAhead(content, buffers[0]);
      return;
    }
    if (content && content.kind === "stay") {
      if (source.shown.early) {
        glue.back();
        startImage();
        source.load();
        redraw();
      }
      return;
    }
    if (!content || content.kind !== "state" || state.synced) return;
    if (content.image_id !== state.imageId) return;
    edits.cancelGesture();
    boxTool.load(boxesOf(content.boxes), boxesOf(content.drafts));
    state.maskDraft = !!model.get("mask_draft");
    maskTool.load(buffers && buffers[0]);
    instTool.load(content.instances);
    history.clear();
    state.synced = true;
    redraw();
  }
  function onMaskDraft() {
    const draft = !!model.get("mask_draft");
    if (draft === state.maskDraft || draft) return;
    state.maskDraft = false;
    maskTool.paintOverlay();
    redraw();
  }
  function applyTraits(p) {
    if (p.has("colors")) maskTool.recolor();
    if (p.has("keymap")) keymap.update(model.get("keymap"));
    if (p.has("reset")) {
      startImage();
      state.synced = true;
    } else if (p.has("colors")) maskTool.paintOverlay();
    if (p.has("image")) source.load();
    if (p.has("ui") && (traits.mode() === "classify" || traits.mode() === "box" || traits.tool() !== "polygon")) {
      state.polygon = [];
    }
    if (p.has("ui") && traits.mode() === "instance") instTool.classChanged();
    painter.updateCursor();
    redraw();
  }
  const unwatch = watchTraits(model, applyTraits);
  const listeners = [
    ["change:ahead_key", source.markAhead],
    ["change:mask_draft", onMaskDraft],
    ["msg:custom", onMessage]
  ];
  for (const [event, cb] of listeners) model.on(event, cb);
  function onResize() {
    view.resize();
    redraw();
  }
  const observer = new ResizeObserver(onResize);
  observer.observe(stage);
  const noMenu = (e) => e.preventDefault();
  const domListeners = [
    [canvas, "pointerdown", pointer.down],
    [canvas, "pointermove", pointer.move],
    [canvas, "pointerup", pointer.up],
    [canvas, "pointercancel", pointer.cancel],
    [canvas, "pointerleave", pointer.leave],
    [canvas, "wheel", pointer.wheel, { passive: false }],
    [canvas, "contextmenu", noMenu],
    [window, "keydown", keys.keyDown, true],
    [stage, "keyup", keys.keyUp],
    [window, "keyup", keys.keyUp],
    [window, "blur", keys.blur]
  ];
  for (const [target, type, fn, opts] of domListeners) target.addEventListener(type, fn, opts);
  const identity = () => {
    const picked = traits.mode() === "classify" ? glue.picked() : null;
    const shown = source.shown.early || String(model.get("image_key") || "");
    return { image_id: state.imageId, shown, ...picked === null ? {} : { picked } };
  };
  const unpanel = panelKeys(el, traits, post, identity, showEarly, gate.allowed);
  keymap.update(model.get("keymap"));
  maskTool.recolor();
  startImage();
  source.load();
  onResize();
  painter.updateCursor();
  model.send({ kind: "fetch" });
  return () => {
    painter.close();
    gate.close();
    observer.disconnect();
    unpanel();
    for (const [target, type, fn, opts] of domListeners) target.removeEventListener(type, fn, opts);
    for (const [event, cb] of listeners) model.off(event, cb);
    unwatch();
    source.revoke();
    root.remove();
  };
}
var index_default = { render };
export {
  index_default as default
};
