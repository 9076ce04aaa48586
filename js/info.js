// @ts-check
/**
 * The panel's words and progress bar, drawn from one synced dict (`parts`): the header line,
 * a notice, an error, the status line with the round's progress bar, the stopping criteria.
 * Python sends them together, one message per change of any of them.
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
  function update() {
    const parts = model.get("parts") || {};
    for (const name of LINES) {
      const html = String(parts[name] || "");
      if (shown[name] === html) continue;
      shown[name] = html;
      lines[name].innerHTML = html;
      lines[name].hidden = html === "";
    }
    /** @type {Bar} */
    const p = parts.progress || { value: 0, description: "idle", bar_style: "" };
    label.textContent = p.description;
    fill.style.width = `${Math.round(Math.min(Math.max(p.value, 0), 1) * 1000) / 10}%`;
    bar.dataset.style = p.bar_style || "";
  }
  model.on("change:parts", update);
  update();
  return () => {
    model.off("change:parts", update);
    root.remove();
  };
}

export default { render };
