/**
 * Export form: render the current mix on the server, follow it, offer the file.
 *
 * POST `{"format", "master_gain_db", "stems": {kind: {"gain_db", "mute", "solo", "pan"}}}`
 * to the project's exports URL → 202 `{"id", "state", "format", "progress", "download_url",
 * "error"}`; then GET the export every second until its state is "done" (show the
 * download link) or "failed" (show its error).
 *
 * Markup (inside [data-export-form]):
 *   select[name=format], button[type=submit],
 *   [data-export-status]   role="status"; data-state mirrors the export: idle | starting |
 *                          queued | running | done | failed | error (the request failed)
 *   [data-export-progress] <progress>, [data-export-download] <a>, [data-export-error] alert
 */

import { apiFetch, errorMessage, showError } from "../api.js";

const POLL_INTERVAL_MS = 1000;
/** Consecutive failed status reads before giving up (a server restart takes a few seconds). */
const MAX_POLL_FAILURES = 10;

export class ExportPanel {
  /**
   * @param {HTMLFormElement} form
   * @param {{exportsUrl: string, statusUrlTemplate: string, getSettings: () => object}} options
   *   statusUrlTemplate contains `{id}`, e.g. "/api/v1/exports/{id}/"
   */
  constructor(form, { exportsUrl, statusUrlTemplate, getSettings }) {
    this.form = form;
    this.exportsUrl = exportsUrl;
    this.statusUrlTemplate = statusUrlTemplate;
    this.getSettings = getSettings;
    this.submit = form.querySelector('[type="submit"]');
    this.status = form.querySelector("[data-export-status]");
    this.progress = form.querySelector("[data-export-progress]");
    this.download = form.querySelector("[data-export-download]");
    this.error = form.querySelector("[data-export-error]");
    this.generation = 0;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
  }

  async start() {
    const generation = ++this.generation;
    const format = this.form.elements.format.value;
    this.submit.disabled = true;
    this.download.hidden = true;
    this.download.removeAttribute("href");
    showError(this.error, null);
    this.show("starting", "Starting the export…", 0);
    try {
      const job = await apiFetch(this.exportsUrl, { method: "POST", json: { format, ...this.getSettings() } });
      if (generation === this.generation) await this.follow(job, generation);
    } catch (error) {
      if (generation !== this.generation) return;
      this.show("error", "", null);
      showError(this.error, errorMessage(error));
    } finally {
      if (generation === this.generation) this.submit.disabled = false;
    }
  }

  async follow(job, generation) {
    let failures = 0;
    let current = job;
    for (;;) {
      if (generation !== this.generation) return;
      if (current.state === "done") {
        this.finish(current);
        return;
      }
      if (current.state === "failed" || current.state === "cancelled") {
        this.show(current.state, "", null);
        showError(this.error, current.error || "The export failed. Please try again.");
        return;
      }
      const percent = Number.isFinite(current.progress) ? current.progress : 0;
      const verb = current.state === "running" ? "Rendering" : "Waiting to render";
      this.show(current.state || "queued", `${verb} ${String(current.format || "").toUpperCase()}… ${Math.round(percent)}%`, percent);
      await sleep(POLL_INTERVAL_MS);
      try {
        current = await apiFetch(this.statusUrlTemplate.replace("{id}", encodeURIComponent(job.id)));
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures >= MAX_POLL_FAILURES || (error.status >= 400 && error.status < 500)) throw error;
      }
    }
  }

  finish(job) {
    this.show("done", "Your mix is ready.", null);
    this.download.href = job.download_url;
    this.download.textContent = `Download ${String(job.format || "").toUpperCase()}`;
    this.download.hidden = false;
  }

  show(state, text, percent) {
    this.status.dataset.state = state;
    this.status.textContent = text;
    if (percent === null) {
      this.progress.hidden = true;
    } else {
      this.progress.hidden = false;
      this.progress.value = Math.max(0, Math.min(100, percent));
    }
  }
}

function sleep(ms) {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}
