// @ts-check
/**
 * The mask's colored overlay: an offscreen canvas with one pixel per k x k block of the class
 * map (k = 1 unless a side passes OVERLAY_MAX_SIDE; a block shows its last painted pixel's
 * class), each class in its color, pixels not labeled (255) striped, the background clear; a
 * draft (the model's mask, not yet accepted: state.maskDraft) hatched, every other stripe clear.
 * The mask tool (masktool.js) changes the map and tells the overlay which pixels to repaint.
 */

/** @typedef {import("./types.js").State} State */
/** @typedef {import("./traits.js").Traits} Traits */

/** The longest side of the mask overlay; al_widget/widget/_encoding.py's DISPLAY_MAX_SIDE. */
const OVERLAY_MAX_SIDE = 2048;

/** @param {State} state @param {Traits} traits */
export function createMaskOverlay(state, traits) {
  /** The mask value of pixels not labeled (al_widget.Mask.IGNORE); no tool paints it. */
  const IGNORE = 255;
  const VOID_LIGHT = [224, 224, 192]; // VOC's color of void
  const VOID_DARK = [64, 64, 64];
  const overlay = document.createElement("canvas");
  const overlayCtx = /** @type {CanvasRenderingContext2D} */ (overlay.getContext("2d"));
  /** Mask pixels per overlay pixel, along each axis. */
  let k = 1;
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
  function paint(x0 = 0, y0 = 0, x1 = state.W, y1 = state.H) {
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

  /** Whether the overlay pixel at offset o falls in a gap of a draft's hatching. @param {number} o */
  function isGap(o) {
    const at = o / 4;
    const ow = /** @type {ImageData} */ (overlayImage).width;
    return ((at % ow) + Math.floor(at / ow)) % 6 >= 3;
  }

  /** Start afresh, all clear, for a W x H map. @param {number} W @param {number} H */
  function reset(W, H) {
    k = Math.max(1, Math.ceil(Math.max(W, H) / OVERLAY_MAX_SIDE));
    const [ow, oh] = [Math.max(1, Math.ceil(W / k)), Math.max(1, Math.ceil(H / k))];
    overlay.width = ow;
    overlay.height = oh;
    overlayImage = W * H > 0 ? overlayCtx.createImageData(ow, oh) : null;
    overlayCtx.clearRect(0, 0, ow, oh);
  }

  /**
   * Color the overlay pixels a run of the map (pixels [at, end) in row-major order, of class
   * v) touches, as paint() would; shown at the next flush().
   * @param {number} at @param {number} end @param {number} v
   */
  function paintRun(at, end, v) {
    const W = state.W;
    const px = /** @type {ImageData} */ (overlayImage).data;
    const ow = /** @type {ImageData} */ (overlayImage).width;
    for (let y = Math.floor(at / W); y * W < end; y++) {
      const [x0, x1] = [Math.max(at - y * W, 0), Math.min(end - y * W, W)];
      const row = Math.floor(y / k) * ow;
      for (let ox = Math.floor(x0 / k); ox <= Math.floor((x1 - 1) / k); ox++) {
        setOverlayPixel(px, (row + ox) * 4, v);
      }
    }
  }

  /** Show what paintRun colored. */
  function flush() {
    overlayCtx.putImageData(/** @type {ImageData} */ (overlayImage), 0, 0);
  }

  /** Draw the overlay; ctx is in image pixels here. @param {CanvasRenderingContext2D} ctx */
  function draw(ctx) {
    if (!overlayImage) return;
    ctx.globalAlpha = traits.opacity();
    ctx.drawImage(overlay, 0, 0, overlay.width * k, overlay.height * k);
    ctx.globalAlpha = 1;
  }

  return { recolor, paint, reset, paintRun, flush, draw };
}
