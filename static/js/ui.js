/**
 * Small enhancements for every page, wired by data attributes:
 *
 * - `<form data-confirm="Question?">` asks before submitting (e.g. Delete).
 * - `<span data-duration-s="181.2">` shows the duration as `m:ss`.
 */

import { formatClock } from "./format.js";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) event.preventDefault();
});

for (const element of document.querySelectorAll("[data-duration-s]")) {
  const seconds = Number.parseFloat(element.dataset.durationS);
  if (Number.isFinite(seconds)) element.textContent = formatClock(seconds);
}
