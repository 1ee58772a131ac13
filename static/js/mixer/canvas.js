/**
 * Canvas helpers shared by the waveforms and the loop ruler (both are canvases sized by CSS
 * and drawn at the device's pixel ratio, and both map a pointer to song time).
 */

/**
 * Give `canvas` as many backing pixels as it has CSS pixels × devicePixelRatio.
 *
 * @param {HTMLCanvasElement} canvas
 * @returns {boolean} whether its size changed (drawing caches of the old size are stale)
 */
export function canvasFit(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const rect = canvas.getBoundingClientRect();
  const width = Math.max(1, Math.round(rect.width * ratio));
  const height = Math.max(1, Math.round(rect.height * ratio));
  if (width === canvas.width && height === canvas.height) return false;
  canvas.width = width;
  canvas.height = height;
  return true;
}

/**
 * Where a pointer is across `canvas`, 0 (left edge) … 1 (right edge), clamped.
 *
 * @param {HTMLCanvasElement} canvas
 * @param {{clientX: number}} event
 */
export function pointerFraction(canvas, event) {
  const rect = canvas.getBoundingClientRect();
  return Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
}
