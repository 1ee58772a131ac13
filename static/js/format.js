/** Display formatting shared by the pages (times, levels, pan). */

const MINUS = "\u2212";

function pad2(value) {
  return String(value).padStart(2, "0");
}

/**
 * A clock reading: `m:ss`, or `m:ss.t` with `tenths`. Negative or invalid input reads 0.
 *
 * @param {number} seconds
 * @param {{tenths?: boolean}} [options]
 */
export function formatClock(seconds, { tenths = false } = {}) {
  const s = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  if (tenths) {
    const total = Math.floor(s * 10 + 1e-6);
    const minutes = Math.floor(total / 600);
    const secs = Math.floor((total % 600) / 10);
    return `${minutes}:${pad2(secs)}.${total % 10}`;
  }
  const total = Math.floor(s + 1e-6);
  return `${Math.floor(total / 60)}:${pad2(total % 60)}`;
}

/** How long a step took: `0.4 s`, `12.3 s`, `2 min 05 s`. */
export function formatElapsed(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  return `${Math.floor(total / 60)} min ${pad2(total % 60)} s`;
}

/** A level in decibels with its sign: `+3.0 dB`, `0.0 dB`, `−12.5 dB`. */
export function formatDb(db) {
  const value = Math.abs(db) < 0.05 ? 0 : db;
  const sign = value > 0 ? "+" : value < 0 ? MINUS : "";
  return `${sign}${Math.abs(value).toFixed(1)} dB`;
}

/** A pan position -1..1: `C`, `L 40`, `R 25` (percent). */
export function formatPan(pan) {
  const percent = Math.round(pan * 100);
  if (percent === 0) return "C";
  return percent < 0 ? `L ${-percent}` : `R ${percent}`;
}

/** A pan position for screen readers. */
export function describePan(pan) {
  const percent = Math.round(pan * 100);
  if (percent === 0) return "centre";
  return percent < 0 ? `${-percent} percent left` : `${percent} percent right`;
}
