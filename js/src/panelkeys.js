// @ts-check
/**
 * The panel around the canvas: keyboard focus, its keys and action buttons sent to Python
 * (the early path: a key that moves on may show the next image at once), the dwell gate that
 * drops a labeling key made too soon after an image appeared, and JupyterLab's shortcuts kept
 * away from the panel (chords it does not use handed on to the page-wide ones).
 */

import { chordOf } from "./keymap.js";

/** @typedef {import("./traits.js").Traits} Traits */

/** @param {EventTarget | null} t whether typing there writes text */
export function isTextField(t) {
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
export function passToApp(e) {
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
 * canvas's own keys are heard first (canvaskeys.js). JupyterLab's shortcuts stay quiet over
 * the panel: Lumino stops looking at the first element carrying data-lm-suppress-shortcuts but
 * matches a selector such as `:focus` below it first, so a focused element needs it too. Chords
 * with Ctrl or Alt that the panel does not use go to the page-wide ones (passToApp).
 * Returns a cleanup.
 * Keys and clicks that move on to the next image (submit, skip, no objects: the buttons with a
 * class alw-act-<action>) name the image shown when they were made (`identity()`: the load and
 * the image on screen, and in classify mode the picker's class highlighted), so Python ignores a
 * second one for the same image (a double click or a key repeat, never a fast labeler), one made
 * before the image was loaded again, and a submit of a class the picker did not show.
 * A key or click that moves on may show the next image at once (`early(action)`, see index.js's
 * showEarly); the message then says so (`early`) and names the image painted (`painted`), which
 * Python keeps on screen.
 * Labeling keys and clicks (the chords of `swap_keys`, the alw-act- buttons) pass `allowed(t,
 * what)` first: an image takes none until it has been on screen for `dwell_ms` (createGate
 * below); a sooner one is dropped there, with a cue, and never sent as a label. A keydown with
 * `repeat` set (a key held down) never acts.
 * @param {HTMLElement} el @param {Traits} traits @param {(content: object) => void} send
 * @param {() => { image_id: number, shown: string, picked?: number }} identity
 * @param {(action: string) => string} early the key of the image painted early, or ""
 * @param {(t: number, what: string) => boolean} allowed
 */
export function panelKeys(el, traits, send, identity, early, allowed) {
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

/**
 * The dwell gate: whether a labeling key or click made at `t` (its event's timeStamp) may act.
 * The image it would act on has been drawn, and on screen for `dwell_ms` (a key sooner than
 * that was meant for the image before: a double press, or a key the first one's early paint
 * overtook). A dropped one is shown (`cue`, over the image), counted (the stage's
 * data-dropped) and reported to Python as "dropped", never sent as a label. A finished canvas
 * lets keys through (Python says there is nothing to label), and so does a dwell of 0 (the
 * check is off). allowed(t, what): `what` names the key or button as the cue says it.
 * @param {{ model: import("./types.js").Model, traits: Traits,
 *   source: import("./imagesource.js").ImageSource, stage: HTMLElement, cue: HTMLElement,
 *   post: (content: object) => void }} deps
 */
export function createGate({ model, traits, source, stage, cue, post }) {
  let droppedCount = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let cueTimer;
  /** @param {number} t @param {string} what */
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
