// @ts-check
/**
 * The panel's queue strip: the next images as thumbnails with captions, in one widget. Python
 * sends the whole row in one message ({kind: "row", items, thumbs} with a PNG buffer per new
 * thumbnail); a click sends {kind: "open", index}. A view just displayed asks with {kind: "fetch"}.
 */

/** @param {{ model: any, el: HTMLElement }} ctx */
function render({ model, el }) {
  const row = document.createElement("div");
  row.className = "alw-strip";
  el.appendChild(row);
  /** @type {Map<number, { url: string, cell: HTMLElement, caption: HTMLElement }>} */
  const cells = new Map();

  /** @param {number} index @param {DataView} png @param {number} size */
  function makeCell(index, png, size) {
    const url = URL.createObjectURL(
      new Blob([/** @type {DataView<ArrayBuffer>} */ (png)], { type: "image/png" }),
    );
    const cell = document.createElement("figure");
    cell.className = "alw-thumb";
    const img = document.createElement("img");
    img.src = url;
    img.alt = `image ${index}`;
    img.style.width = img.style.height = `${size}px`;
    img.addEventListener("click", () => model.send({ kind: "open", index }));
    const caption = document.createElement("figcaption");
    caption.className = "alw-caption";
    cell.append(img, caption);
    return { url, cell, caption };
  }

  /** @typedef {{ index: number, caption: string }} Item */
  /** @type {Item[]} the row Python shows */
  let rowItems = [];
  /** @type {{ key: string, items: Item[] }} the row once the image sent ahead under key shows */
  let ahead = { key: "", items: [] };

  /** @param {any} content @param {DataView[]} buffers */
  function onMessage(content, buffers) {
    if (!content || content.kind !== "row") return;
    const size = Number(content.size) || 64;
    /** @type {number[]} */
    const fresh = content.thumbs || [];
    fresh.forEach((index, k) => {
      const old = cells.get(index);
      if (old) URL.revokeObjectURL(old.url);
      cells.set(index, makeCell(index, buffers[k], size));
    });
    rowItems = content.items || [];
    ahead = { key: String(content.ahead?.key || ""), items: content.ahead?.items || [] };
    const keep = new Set([...rowItems, ...ahead.items].map((item) => item.index));
    for (const [index, c] of cells) {
      if (keep.has(index)) continue;
      URL.revokeObjectURL(c.url);
      c.cell.remove();
      cells.delete(index);
    }
    show(rowItems);
  }

  /** Put the cells of `items` in the row, in order; the others leave it (kept for later). */
  /** @param {Item[]} items */
  function show(items) {
    const order = [];
    for (const item of items) {
      const c = cells.get(item.index);
      if (!c) continue;
      if (c.caption.textContent !== item.caption) c.caption.textContent = item.caption;
      order.push(c.cell);
    }
    order.forEach((cell, k) => {
      if (row.children[k] !== cell) row.insertBefore(cell, row.children[k] || null);
    });
    while (row.children.length > order.length) row.lastChild?.remove();
    row.dataset.indices = items.map((item) => item.index).join(",");
  }

  /**
   * The canvas of this panel showed the image sent ahead under `key` early (js/canvas.js's
   * movePanel): show the row Python sent for then, in the same frame.
   * @param {Event} e
   */
  function onEarly(e) {
    if (!(e.target instanceof Node) || !e.target.contains(el)) return;
    const key = /** @type {CustomEvent} */ (e).detail?.key;
    if (ahead.key && ahead.key === key) show(ahead.items);
  }
  /** Python did not move on: back to its row. @param {Event} e */
  function onStay(e) {
    if (e.target instanceof Node && e.target.contains(el)) show(rowItems);
  }

  model.on("msg:custom", onMessage);
  document.addEventListener("alw-early", onEarly);
  document.addEventListener("alw-stay", onStay);
  model.send({ kind: "fetch" });
  return () => {
    document.removeEventListener("alw-early", onEarly);
    document.removeEventListener("alw-stay", onStay);
    model.off("msg:custom", onMessage);
    for (const c of cells.values()) URL.revokeObjectURL(c.url);
    row.remove();
  };
}

export default { render };
