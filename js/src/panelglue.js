// @ts-check
/**
 * The rest of the panel around the canvas, moved with an image shown early: the header line
 * (Info), the queue strip (QueueStrip) and the class picker; and which actions may move on
 * early at all. The canvas's view knows the other widgets only through the panel's DOM.
 */

/** @typedef {import("./types.js").Model} Model */

/**
 * Whether `action` (a panel key's or button's) may show the next image before Python answers:
 * only where Python cannot refuse it (see canvas.SWAP_ACTIONS).
 * @param {string} action @param {string} mode
 * @param {number} boxes box mode's boxes, instance mode's objects; in mask mode 1 when anything
 * is painted (a mask of nothing painted is refused)
 * @param {number} drafts box drafts; in mask mode 1 while the mask is the model's draft
 * @param {HTMLElement | null} panel the panel around the view, if any
 */
export function mayMoveEarly(action, mode, boxes, drafts, panel) {
  // Classify: a submit takes the class the picker shows (the model's, or the one picked).
  const picked = !!panel && !!panel.querySelector(".alw-picker button.mod-active");
  return action === "label"
    ? mode === "classify"
    : action === "skip" ||
        // Undecided drafts are dropped, not stored: they no longer stop a submit.
        (action === "no_objects" && mode === "box" && !boxes) ||
        (action === "no_objects" && mode === "instance" && !boxes && !drafts) ||
        (action === "submit" &&
          ((mode === "mask" && !drafts && boxes > 0) || (mode === "box" && boxes > 0) || (mode === "classify" && picked)));
}

/**
 * The panel's parts that move with an early image. move(): the header line and the queue strip
 * hold what Python sent ahead for that key and show it on the "alw-early" event dispatched
 * here (their views are other widgets; the event names the key, each checks it is theirs for
 * that key); the class picker, a plain ipywidgets ToggleButtons, is set here from
 * `ahead_picker`. back(): "alw-stay" undoes it all. settle(): Python answered, its picker is the
 * picker, its buttons set from `shown_picker` (a new ranking may have changed the class since
 * `ahead_picker`, and a picker keeping its class sends nothing). Either leaves the picker as it
 * is once its own view drew it since the early move (a class the labeler clicked meanwhile,
 * which reaches Python after the key, or Python's class come first): it shows its value then,
 * the one Python holds. picked(): the picker's button highlighted now.
 * @param {HTMLElement} el the view's element @param {Model} model
 */
export function createPanelGlue(el, model) {
  /**
   * The picker before an early move, and whether its view drew it since (`drawn`, a
   * MutationObserver's records; the early move's own changes are made before it watches).
   * @type {{ panel: HTMLElement, active: boolean[], watch: MutationObserver, drawn: boolean } | null}
   */
  let pickerBefore = null;
  /** @returns {HTMLElement | null} the panel around this view, if any */
  const panel = () => /** @type {HTMLElement | null} */ (el.closest(".alw-panel"));

  /** @param {HTMLElement | null} at the panel @param {string} key */
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

  /**
   * Stop watching the picker; whether its own view drew it since the early move (then it shows
   * its value, which Python holds).
   * @returns {boolean}
   */
  function forget() {
    if (!pickerBefore) return false;
    const drawn = pickerBefore.drawn || pickerBefore.watch.takeRecords().length > 0;
    pickerBefore.watch.disconnect();
    pickerBefore = null;
    return drawn;
  }

  /** Python did not move on: the panel's parts go back to what their models hold. */
  function back() {
    if (!pickerBefore) return;
    const { panel: at, active } = pickerBefore;
    const buttons = [...at.querySelectorAll(".alw-picker button")];
    if (!forget()) buttons.forEach((b, k) => b.classList.toggle("mod-active", !!active[k]));
    at.dispatchEvent(new CustomEvent("alw-stay", { bubbles: true }));
  }

  /**
   * Python answered with the image it loads: the picker's buttons show its class for it
   * (`shown_picker`, a button's index; not a number: left as they are) where an early move set
   * them, as the picker, given the class it held already, sends nothing; unless the picker's
   * view drew it since (a class clicked on the early image: Python takes it after the load).
   * @param {unknown} pick
   */
  function settle(pick) {
    const at = pickerBefore && pickerBefore.panel;
    if (!forget() && at && typeof pick === "number") {
      const buttons = [...at.querySelectorAll(".alw-picker button")];
      buttons.forEach((b, k) => b.classList.toggle("mod-active", k === pick));
    }
  }

  /**
   * The class the picker highlights now, as its button's index (-1: none), which a submit in
   * classify mode names (Python refuses it when it holds another); null without a picker.
   * @returns {number | null}
   */
  function picked() {
    const at = panel();
    const buttons = at ? [...at.querySelectorAll(".alw-picker button")] : [];
    return buttons.length ? buttons.findIndex((b) => b.classList.contains("mod-active")) : null;
  }

  return { panel, move, back, settle, picked };
}
