/**
 * The style library's list of sounds: each one's grain job while it runs, then its grains.
 *
 * REST only (a style sound belongs to no project, so no project socket speaks of it): while a
 * sound is pending, `GET <data-api-url>?limit=100` is read every `POLL_INTERVAL_MS`; with none
 * pending, nothing is read. A ready sound's grains come from its detail
 * (`GET /api/v1/styles/<id>/`, whose `scatter` the list leaves empty), read once it is in view.
 *
 * Markup (templates/styles/library.html):
 *   [data-styles]          root; data-api-url, data-detail-url-template, data-audio-url-template
 *                          and data-grain-url-template (URLs with the all-zero UUID; the grain's
 *                          ends in "/0/", grain 0's)
 *   [data-style-list]      <ul> of rows, hidden while empty; [data-style-empty] says so
 *   [data-style-template]  <template> of one row, for sounds uploaded while the page is open
 *   [data-style-id]        one row; data-status pending | ready | failed, data-style-name.
 *                          Fields inside, by [data-field]: name, status (badge), progress-block,
 *                          progress, percent, stage, error, duration, grains-item, grains,
 *                          filename, audio (<audio>), scatter ([data-scatter], see scatter.js),
 *                          delete-name; and [data-action=delete]
 *   [data-live-status]     role="status": why the last read or delete failed
 */

import { apiFetch, errorMessage } from "../api.js";
import { formatElapsed } from "../format.js";
import { gettext, interpolate, pageLocale } from "../i18n.js";
import { STYLE_STATUS_LABELS } from "../labels.js";
import { GrainPlayer, GrainScatter } from "./scatter.js";

const ZERO_UUID = "00000000-0000-0000-0000-000000000000";
/** A grain library takes a second or two: read the list this often while one is made. */
const POLL_INTERVAL_MS = 1500;
/** After this many failed reads in a row, reads slow down to every SLOW_POLL_MS. */
const FAILURES_BEFORE_SLOW = 5;
const SLOW_POLL_MS = 10000;
const LIST_LIMIT = 100;
/** What a grain job is doing, by its stage (model/actors/remix.py names them). */
const STAGE_LABELS = {
  decode: gettext("Reading the sound"),
  grains: gettext("Cutting it into grains"),
  store: gettext("Saving its grains"),
};

function formatPercent(percent) {
  return new Intl.NumberFormat(pageLocale(), { style: "percent", maximumFractionDigits: 0 }).format(percent / 100);
}

export class StyleList {
  constructor(root) {
    this.root = root;
    this.apiUrl = root.dataset.apiUrl;
    this.detailTemplate = root.dataset.detailUrlTemplate;
    this.audioTemplate = root.dataset.audioUrlTemplate;
    this.grainTemplate = root.dataset.grainUrlTemplate;
    this.list = root.querySelector("[data-style-list]");
    this.empty = root.querySelector("[data-style-empty]");
    this.template = root.querySelector("[data-style-template]");
    this.liveStatus = root.querySelector("[data-live-status]");
    this.player = new GrainPlayer();
    /** @type {Map<string, {row: HTMLElement, scatter: GrainScatter, loaded: boolean}>} */
    this.rows = new Map();
    this.timer = null;
    this.reading = null;
    this.readAgain = false;
    this.failures = 0;
    this.observer =
      "IntersectionObserver" in window
        ? new IntersectionObserver((entries) => this.onVisible(entries), { rootMargin: "200px" })
        : null;
    for (const row of this.list.querySelectorAll("[data-style-id]")) this.adopt(row);
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest('[data-action="delete"]');
      const row = button && button.closest("[data-style-id]");
      if (row) this.remove(row.dataset.styleId, button);
    });
    this.schedule();
  }

  /** Sounds the upload box just sent (the API's `results`): shown at once, then followed. */
  add(styles) {
    for (const style of [...styles].reverse()) {
      const id = String(style.id);
      let entry = this.rows.get(id);
      if (!entry) {
        entry = this.adopt(this.createRow(style));
        this.list.prepend(entry.row);
      }
      this.showStyle(entry, style);
    }
    this.showEmpty();
    this.schedule({ soon: true });
  }

  /** Take a row (rendered by the server or made here) into the list. */
  adopt(row) {
    const id = row.dataset.styleId;
    const figure = row.querySelector("[data-scatter]");
    const scatter = new GrainScatter(figure, { grainUrl: (index) => this.grainUrl(id, index), player: this.player });
    const entry = { row, scatter, loaded: false };
    this.rows.set(id, entry);
    if (row.dataset.status === "ready") this.watchScatter(entry);
    return entry;
  }

  createRow(style) {
    const row = this.template.content.firstElementChild.cloneNode(true);
    const id = String(style.id);
    row.dataset.styleId = id;
    const audio = this.field(row, "audio");
    audio.src = style.audio_url || this.audioTemplate.replace(ZERO_UUID, id);
    return row;
  }

  grainUrl(id, index) {
    return this.grainTemplate.replace(ZERO_UUID, id).replace(/\/0\/$/, `/${index}/`);
  }

  /** Show what REST says of a sound (an item of the list). */
  showStyle(entry, style) {
    const { row } = entry;
    const name = String(style.name || "");
    row.dataset.styleName = name;
    const nameField = this.field(row, "name");
    if (nameField.textContent !== name) nameField.textContent = name;
    this.field(row, "delete-name").textContent = ` ${name}`;
    this.field(row, "audio").setAttribute("aria-label", interpolate(gettext("Listen to “%(name)s”"), { name }, true));
    this.field(row, "progress").setAttribute("aria-label", interpolate(gettext("Grains of “%(name)s”"), { name }, true));
    if (Number.isFinite(style.duration_s)) {
      const text = formatElapsed(style.duration_s);
      const duration = this.field(row, "duration");
      if (duration.textContent !== text) duration.textContent = text;
    }
    if (style.original_filename !== undefined) this.field(row, "filename").textContent = style.original_filename || "";
    if (Number.isInteger(style.grain_count)) this.field(row, "grains").textContent = new Intl.NumberFormat(pageLocale()).format(style.grain_count);
    const before = row.dataset.status;
    this.setStatus(entry, style.status);
    if (style.status === "pending") this.showJob(row, style.job);
    if (style.status === "failed") {
      this.showError(row, style.user_error || gettext("Its grains could not be made. Try another recording of it."));
    }
    if (style.status === "ready" && before !== "ready") {
      entry.loaded = false;
      this.watchScatter(entry);
    }
  }

  setStatus(entry, status) {
    if (!STYLE_STATUS_LABELS[status]) return;
    const { row } = entry;
    row.dataset.status = status;
    const badge = this.field(row, "status");
    badge.textContent = STYLE_STATUS_LABELS[status];
    badge.className = `badge badge-${status}`;
    this.field(row, "progress-block").hidden = status !== "pending";
    this.field(row, "grains-item").hidden = status !== "ready";
    this.field(row, "scatter").hidden = status !== "ready";
    if (status !== "failed") this.showError(row, "");
  }

  /** The grain job's state: percent and stage while it is queued or running. */
  showJob(row, job) {
    const progress = this.field(row, "progress");
    if (!job || job.state === "queued") {
      progress.removeAttribute("value"); // indeterminate until it starts
      this.field(row, "percent").textContent = "";
      this.field(row, "stage").textContent = gettext("Waiting to start");
      return;
    }
    const percent = Number.isFinite(job.progress) ? Math.max(0, Math.min(100, Math.round(job.progress))) : 0;
    progress.value = percent;
    progress.setAttribute("aria-valuetext", formatPercent(percent));
    this.field(row, "percent").textContent = formatPercent(percent);
    this.field(row, "stage").textContent = STAGE_LABELS[job.stage] || gettext("Cutting it into grains");
  }

  showError(row, message) {
    const error = this.field(row, "error");
    error.textContent = message || "";
    error.hidden = !message;
  }

  // ---------------------------------------------------------------- the grains

  watchScatter(entry) {
    if (entry.loaded) return;
    if (this.observer) this.observer.observe(entry.row);
    else this.loadScatter(entry);
  }

  onVisible(entries) {
    for (const item of entries) {
      if (!item.isIntersecting) continue;
      this.observer.unobserve(item.target);
      const entry = this.rows.get(item.target.dataset.styleId);
      if (entry) this.loadScatter(entry);
    }
  }

  async loadScatter(entry) {
    if (entry.loaded) return;
    entry.loaded = true;
    const id = entry.row.dataset.styleId;
    entry.scatter.setState("loading");
    try {
      const style = await apiFetch(this.detailTemplate.replace(ZERO_UUID, id));
      if (this.rows.get(id) !== entry) return;
      entry.scatter.setGrains(style.scatter || []);
    } catch (error) {
      if (error.status === 404) {
        this.removeRow(id);
        return;
      }
      entry.loaded = false; // read again when the list is next read
      entry.scatter.setState("error");
      this.showStatus(interpolate(gettext("Could not read the grains: %(error)s"), { error: errorMessage(error) }, true));
    }
  }

  // ---------------------------------------------------------------- reading the list

  pending() {
    return [...this.rows.values()].some((entry) => entry.row.dataset.status === "pending");
  }

  schedule({ soon = false } = {}) {
    window.clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending() || this.reading) return;
    const interval = this.failures >= FAILURES_BEFORE_SLOW ? SLOW_POLL_MS : POLL_INTERVAL_MS;
    this.timer = window.setTimeout(() => this.refresh(), soon ? Math.min(500, interval) : interval);
  }

  refresh() {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = this.read()
      .then(() => {
        this.failures = 0;
        this.showStatus("");
      })
      .catch((error) => {
        if (error.name === "AbortError") return;
        this.failures += 1;
        this.showStatus(interpolate(gettext("Could not refresh the list: %(error)s"), { error: errorMessage(error) }, true));
      })
      .finally(() => {
        this.reading = null;
        if (this.readAgain) {
          this.readAgain = false;
          this.refresh();
        } else {
          this.schedule();
        }
      });
    return this.reading;
  }

  async read() {
    const separator = this.apiUrl.includes("?") ? "&" : "?";
    const body = await apiFetch(`${this.apiUrl}${separator}limit=${LIST_LIMIT}`);
    const styles = Array.isArray(body) ? body : body?.results || [];
    const complete = Array.isArray(body) || !body?.next;
    const seen = new Set();
    let previous = null;
    for (const style of styles) {
      const id = String(style.id);
      seen.add(id);
      let entry = this.rows.get(id);
      if (!entry) entry = this.adopt(this.createRow(style));
      this.showStyle(entry, style);
      // Newest first, as the server orders them.
      const { row } = entry;
      if (previous ? previous.nextElementSibling !== row : this.list.firstElementChild !== row) {
        if (previous) previous.after(row);
        else this.list.prepend(row);
      }
      previous = row;
    }
    if (complete) for (const id of [...this.rows.keys()]) if (!seen.has(id)) this.removeRow(id);
    this.showEmpty();
  }

  // ---------------------------------------------------------------- deleting

  async remove(id, button) {
    const entry = this.rows.get(id);
    if (!entry) return;
    const name = entry.row.dataset.styleName || "";
    const question = interpolate(
      gettext("Delete “%(name)s”? Remixes already made keep their sound."),
      { name },
      true,
    );
    if (!window.confirm(question)) return;
    button.disabled = true;
    try {
      await apiFetch(this.detailTemplate.replace(ZERO_UUID, id), { method: "DELETE" });
    } catch (error) {
      if (error.status !== 404) {
        button.disabled = false;
        this.showStatus(interpolate(gettext("“%(name)s” was not deleted: %(error)s"), { name, error: errorMessage(error) }, true));
        return;
      }
    }
    this.removeRow(id);
    this.showStatus(interpolate(gettext("“%(name)s” was deleted."), { name }, true));
  }

  removeRow(id) {
    const entry = this.rows.get(id);
    if (!entry) return;
    if (this.observer) this.observer.unobserve(entry.row);
    entry.row.remove();
    this.rows.delete(id);
    this.showEmpty();
  }

  showEmpty() {
    this.list.hidden = this.rows.size === 0;
    this.empty.hidden = this.rows.size > 0;
  }

  showStatus(text) {
    if (this.liveStatus && this.liveStatus.textContent !== text) this.liveStatus.textContent = text;
  }

  field(row, name) {
    return row.querySelector(`[data-field="${name}"]`);
  }
}
