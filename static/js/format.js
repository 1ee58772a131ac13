/**
 * Display formatting shared by the pages (times, levels, pan), in the page's language:
 * numbers through Intl with the page's locale (`<html lang>`: "3,5 dB" in pt-BR), words
 * through the JavaScript catalogue.
 */

import { gettext, interpolate, pageLocale } from "./i18n.js";

export const MINUS = "\u2212";
const formatters = new Map();

function pad2(value) {
  return String(value).padStart(2, "0");
}

/** `value` with exactly `digits` decimals in the page's locale (no sign: callers add theirs). */
function decimal(value, digits) {
  const key = `${pageLocale()}:${digits}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(pageLocale(), {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: false,
    });
    formatters.set(key, formatter);
  }
  return formatter.format(value);
}

/**
 * A clock reading: `m:ss`, or `m:ss.t` with `tenths`. Negative or invalid input reads 0.
 * (A clock, the same in every language, as on a player's display.)
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
  if (seconds < 60) return interpolate(gettext("%(seconds)s s"), { seconds: decimal(seconds, 1) }, true);
  const total = Math.round(seconds);
  return interpolate(
    gettext("%(minutes)s min %(seconds)s s"),
    { minutes: Math.floor(total / 60), seconds: pad2(total % 60) },
    true,
  );
}

/** A level in decibels with its sign: `+3.0 dB`, `0.0 dB`, `−12.5 dB`. */
export function formatDb(db) {
  const value = Math.abs(db) < 0.05 ? 0 : db;
  const sign = value > 0 ? "+" : value < 0 ? MINUS : "";
  return `${sign}${decimal(Math.abs(value), 1)} dB`;
}

/** A pan position -1..1: `C`, `L 40`, `R 25` (percent). */
export function formatPan(pan) {
  const percent = Math.round(pan * 100);
  if (percent === 0) return gettext("C");
  return percent < 0
    ? interpolate(gettext("L %(percent)s"), { percent: -percent }, true)
    : interpolate(gettext("R %(percent)s"), { percent }, true);
}

/** A pan position for screen readers. */
export function describePan(pan) {
  const percent = Math.round(pan * 100);
  if (percent === 0) return gettext("centre");
  return percent < 0
    ? interpolate(gettext("%(percent)s percent left"), { percent: -percent }, true)
    : interpolate(gettext("%(percent)s percent right"), { percent }, true);
}

/** A signed whole number as the scales print it: "0", "+6", "−12" (a real minus sign). */
export function formatSigned(value) {
  if (value === 0) return "0";
  return value > 0 ? `+${value}` : `${MINUS}${-value}`;
}
