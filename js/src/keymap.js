// @ts-check
/** Key -> canvas action, from the `keymap` trait; the chord of a key event as keys.py writes it. */

/** @typedef {import("./types.js").KeyBinding} KeyBinding */

/**
 * The chord of a key event, as al_widget/widget/keys.py's chord() writes it: "Ctrl+" (Ctrl or
 * Meta), "Alt+", "Shift+", then KeyboardEvent.key. A letter is lower case and takes "Shift+"
 * when Shift is held; other printable keys carry Shift in their key already and never take it.
 * @param {{ key: string, ctrlKey: boolean, metaKey: boolean, altKey: boolean, shiftKey: boolean }} e
 */
export function chordOf(e) {
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
export function createKeymap() {
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
/** @typedef {ReturnType<typeof createKeymap>} Keymap */
