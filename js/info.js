// @ts-check
/**
 * The panel's words and progress bar, drawn from one synced dict (`parts`): the header line,
 * a notice, an error, the status line with the round's progress bar, the stopping criteria.
 * Python sends them together, one message per change of any of them. `parts.ahead` holds the
 * header of the image sent ahead, shown when the panel's canvas shows that image early.
 */

/** @typedef {{ value: number, description: string, bar_style: string }} Bar */

const LINES = ["header", "notice", "error", "status", "stop"];

/** @param {{ model: any, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "alw-info-lines";
  /** @type {Record<string, HTMLDivElement>} */
  const lines = {};
  for (const name of LINES) {
    const line = document.createElement("div");
    line.className = `alw-info-${name}`;
    lines[name] = line;
  }
  const bar = document.createElement("div");
  bar.className = "alw-progress";
  const label = document.createElement("span");
  label.className = "alw-progress-label";
  const track = document.createElement("div");
  track.className = "alw-progress-track";
  const fill = document.createElement("div");
  fill.className = "alw-progress-fill";
  track.appendChild(fill);
  bar.append(label, track, lines.status);
  root.append(lines.header, lines.notice, lines.error, bar, lines.stop);
  el.appendChild(root);

  /** @type {Record<string, string>} */
  const shown = {};
  /** @param {string} name @param {string} html */
  function show(name, html) {
    if (shown[name] === html) return;
    shown[name] = html;
    lines[name].innerHTML = html;
    lines[name].hidden = html === "";
  }
  function update() {
    const parts = model.get("parts") || {};
    for (const name of LINES) show(name, String(parts[name] || ""));
    /** @type {Bar} */
    const p = parts.progress || { value: 0, description: "idle", bar_style: "" };
    label.textContent = p.description;
    fill.style.width = `${Math.round(Math.min(Math.max(p.value, 0), 1) * 1000) / 10}%`;
    bar.dataset.style = p.bar_style || "";
  }
  /**
   * The canvas of this panel showed the image sent ahead under `key` early (js/canvas.js's
   * movePanel): show its header, sent ahead in `parts.ahead`, in the same frame; the notice and
   * error were about the image before. Python's own lines, when they come, are the same.
   * @param {Event} e
   */
  function onEarly(e) {
    if (!(e.target instanceof Node) || !e.target.contains(el)) return;
    const ahead = (model.get("parts") || {}).ahead || {};
    const key = /** @type {CustomEvent} */ (e).detail?.key;
    if (!ahead.key || ahead.key !== key) return;
    show("header", String(ahead.header || ""));
    show("notice", "");
    show("error", "");
  }
  /** Python did not move on: back to its lines. @param {Event} e */
  function onStay(e) {
    if (e.target instanceof Node && e.target.contains(el)) update();
  }
  model.on("change:parts", update);
  document.addEventListener("alw-early", onEarly);
  document.addEventListener("alw-stay", onStay);
  update();
  return () => {
    document.removeEventListener("alw-early", onEarly);
    document.removeEventListener("alw-stay", onStay);
    model.off("change:parts", update);
    root.remove();
  };
}

export default { render };
