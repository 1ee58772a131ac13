/**
 * The library's project list, kept live: progress while a song separates, then Ready (with a
 * link to the mixer) or Failed (with the plain reason), without a reload.
 *
 * Updates arrive on the `/ws/library/` WebSocket (every `job.progress` event of the user's
 * projects, the same payload as `/ws/projects/<id>/`: see domain/events.py), kept up by
 * `ProjectChannel` (mixer/socket.js) with no REST URL of its own: this module reads REST
 * itself, because it follows a list rather than one project:
 *
 * - on every (re)connect, when the socket goes down, and for an event of a project it does not
 *   show (uploaded in another tab), it re-reads `GET <data-api-url>?limit=100`, then each
 *   unfinished project's detail (its separation job's percent and stage, its error);
 * - while the socket is down and a project is not finished, it re-reads every 3 s; while the
 *   socket is up and a project is not finished, every 15 s (an event lost on the way cannot
 *   leave a row stale).
 *
 * Markup (templates/projects/library.html):
 *   [data-library]           root; data-api-url (the list), data-ws-path, data-detail-url-template
 *                            and data-delete-url-template (URLs with the all-zero UUID);
 *                            data-mode is written here: live | polling | stopped
 *   [data-project-list]      <ul> of rows, hidden while empty; [data-project-empty] says so
 *   [data-project-template]  <template> of one row, for projects that appear while the page is open
 *   [data-project-id]        one row; data-status = pending | processing | ready | failed.
 *                            Fields inside, by [data-field]: name (the link), status (badge),
 *                            progress-block, progress (<progress>), percent, stage, error,
 *                            duration, engine-item, engine, created (<time>), expires-item,
 *                            expires, open (link to the mixer), delete-form, delete-name
 *   [data-live-status]       role="status": how updates arrive, or why the last read failed
 */

import { apiFetch, errorMessage } from "./api.js";
import { formatClock } from "./format.js";
import { gettext, interpolate, pageLocale } from "./i18n.js";
import { PROJECT_STATUS_LABELS as STATUS_LABELS } from "./labels.js";
import { ProjectChannel } from "./mixer/socket.js";

const ZERO_UUID = "00000000-0000-0000-0000-000000000000";
const FINISHED = new Set(["ready", "failed"]);
const POLL_INTERVAL_MS = 3000;
const LIVE_CHECK_INTERVAL_MS = 15000;
/** The list endpoint's largest page; a longer library is read only this far (never pruned). */
const LIST_LIMIT = 100;
/** At most this many unfinished projects have their detail read per refresh. */
const DETAIL_READS_MAX = 10;
/** Events of unknown projects that arrive together cause one re-read. */
const UNKNOWN_PROJECT_DEBOUNCE_MS = 250;

/** What a separation is doing, by its job's stage (model/actors.py names them). */
const STAGE_LABELS = {
  decode: gettext("Reading the audio"),
  separate: gettext("Separating the stems"),
  encode: gettext("Saving the stems"),
};

function formatPercent(percent) {
  return new Intl.NumberFormat(pageLocale(), { style: "percent", maximumFractionDigits: 0 }).format(percent / 100);
}

function formatDate(iso, options) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(pageLocale(), options).format(date);
}

class Library {
  constructor(root) {
    this.root = root;
    this.apiUrl = root.dataset.apiUrl;
    this.detailTemplate = root.dataset.detailUrlTemplate;
    this.deleteTemplate = root.dataset.deleteUrlTemplate;
    this.list = root.querySelector("[data-project-list]");
    this.empty = root.querySelector("[data-project-empty]");
    this.template = root.querySelector("[data-project-template]");
    this.liveStatus = root.querySelector("[data-live-status]");
    this.rows = new Map();
    for (const row of this.list.querySelectorAll("[data-project-id]")) {
      this.rows.set(row.dataset.projectId, row);
      if (row.dataset.status === "failed") row.dataset.detailRead = "true"; // the server wrote its reason
    }
    this.mode = "stopped";
    this.reading = null;
    this.readAgain = false;
    this.timer = null;
    this.unknownTimer = null;
    this.channel = new ProjectChannel({
      wsPath: root.dataset.wsPath,
      onEvent: (event) => this.onEvent(event),
      onModeChange: (mode) => this.onModeChange(mode),
    });
    this.channel.start();
    // Rows the server rendered as processing get their percent and stage now, not on connect.
    if (this.unfinished().length) this.refresh();
  }

  unfinished() {
    return [...this.rows.values()].filter((row) => !FINISHED.has(row.dataset.status));
  }

  onModeChange(mode) {
    const previous = this.mode;
    this.mode = mode;
    this.root.dataset.mode = mode;
    if (mode === "live") {
      this.showStatus("");
      this.refresh(); // events sent while the socket was down are lost: REST has the truth
    } else if (mode === "polling") {
      this.showStatus(gettext("Live connection unavailable; checking every few seconds."));
      // Once as the socket goes down (what it would have said is unknown), then on the timer.
      // Said again on every failed reconnect: a read already planned keeps its time.
      if (previous !== "polling") this.refresh();
      else if (!this.timer && !this.reading) this.schedule();
    } else {
      window.clearTimeout(this.timer);
    }
  }

  /** The next REST read: soon while the socket is down, slowly while it is up; none when all are finished. */
  schedule() {
    window.clearTimeout(this.timer);
    this.timer = null;
    if (this.mode === "stopped" || !this.unfinished().length) return;
    const interval = this.mode === "live" ? LIVE_CHECK_INTERVAL_MS : POLL_INTERVAL_MS;
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, interval);
  }

  onEvent(event) {
    if (event.type !== "job.progress") return;
    if (event.project === null) return; // a style sound's job: the style library page follows those
    const row = this.rows.get(String(event.project));
    if (!row) {
      // A project this page has not seen (uploaded in another tab): REST has its row.
      window.clearTimeout(this.unknownTimer);
      this.unknownTimer = window.setTimeout(() => this.refresh(), UNKNOWN_PROJECT_DEBOUNCE_MS);
      return;
    }
    if (event.kind === "separate") this.showJob(row, event);
    const before = row.dataset.status;
    if (event.project_status) this.setStatus(row, event.project_status);
    if (event.project_status === "failed" && event.user_error) {
      this.showError(row, event.user_error);
      delete row.dataset.detailRead; // REST says it too, with the project's own words
    }
    // Finished: its length, separation and reason come from REST.
    if (FINISHED.has(event.project_status) && before !== event.project_status) this.refresh();
    else this.schedule();
  }

  /**
   * Re-read the list, then the detail of each unfinished project. A call while a read is on its
   * way reads once more after it (that read may have left before what the caller knows of).
   */
  refresh() {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = this.read()
      .then(() => {
        if (this.mode === "polling") this.showStatus(gettext("Live connection unavailable; checking every few seconds."));
        else if (this.mode === "live") this.showStatus("");
      })
      .catch((error) => {
        if (error.name === "AbortError") return;
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
    this.showList(body);
    const details = this.unfinished()
      .concat([...this.rows.values()].filter((row) => this.lacksReason(row)))
      .slice(0, DETAIL_READS_MAX)
      .map((row) => row.dataset.projectId);
    await Promise.all(details.map((id) => this.readDetail(id)));
  }

  /** A failed row whose reason was not read from REST yet (the list does not carry it). */
  lacksReason(row) {
    return row.dataset.status === "failed" && !row.dataset.detailRead;
  }

  async readDetail(id) {
    let project;
    try {
      project = await apiFetch(`${this.apiUrl}${encodeURIComponent(id)}/`);
    } catch (error) {
      if (error.status === 404) return this.removeRow(id); // deleted meanwhile
      throw error;
    }
    const row = this.rows.get(id);
    if (!row) return;
    row.dataset.detailRead = "true";
    this.showProject(row, project);
    const separation = (project.jobs || []).filter((job) => job.kind === "separate").at(-1);
    if (separation) this.showJob(row, separation);
  }

  showList(body) {
    const projects = Array.isArray(body) ? body : body?.results || [];
    const complete = Array.isArray(body) || !body?.next;
    const seen = new Set();
    let previous = null;
    for (const project of projects) {
      const id = String(project.id);
      seen.add(id);
      let row = this.rows.get(id);
      if (!row) {
        row = this.createRow(project);
        this.rows.set(id, row);
      }
      this.showProject(row, project);
      // Newest first, as the server orders them.
      if (previous ? previous.nextElementSibling !== row : this.list.firstElementChild !== row) {
        if (previous) previous.after(row);
        else this.list.prepend(row);
      }
      previous = row;
    }
    if (complete) for (const id of [...this.rows.keys()]) if (!seen.has(id)) this.removeRow(id);
    this.showEmpty();
  }

  createRow(project) {
    const row = this.template.content.firstElementChild.cloneNode(true);
    const id = String(project.id);
    const name = String(project.name || "");
    const detailUrl = this.detailTemplate.replace(ZERO_UUID, id);
    row.dataset.projectId = id;
    this.field(row, "name").href = detailUrl;
    this.field(row, "open").href = detailUrl;
    const form = this.field(row, "delete-form");
    form.action = this.deleteTemplate.replace(ZERO_UUID, id);
    form.dataset.confirm = interpolate(gettext("Delete “%(name)s”? Its stems and exports are deleted too."), { name }, true);
    this.field(row, "delete-name").textContent = ` ${name}`;
    this.field(row, "progress").setAttribute("aria-label", interpolate(gettext("Separation of “%(name)s”"), { name }, true));
    const created = this.field(row, "created");
    if (project.created_at) {
      created.dateTime = project.created_at;
      created.textContent = formatDate(project.created_at, { dateStyle: "short", timeStyle: "short" });
    }
    return row;
  }

  /** Show what REST says of a project (a list item or its detail). */
  showProject(row, project) {
    const name = this.field(row, "name");
    if (project.name !== undefined && name.textContent !== project.name) name.textContent = project.name;
    if (project.status) this.setStatus(row, project.status);
    if (Number.isFinite(project.duration_s)) this.field(row, "duration").textContent = formatClock(project.duration_s);
    if (project.engine_label !== undefined) {
      this.field(row, "engine").textContent = project.engine_label || "";
      this.field(row, "engine-item").hidden = !project.engine_label;
    }
    if (project.expires_at !== undefined) this.showExpiry(row, project.expires_at);
    if (project.status === "failed" && project.error) this.showError(row, project.error);
  }

  showExpiry(row, iso) {
    const item = this.field(row, "expires-item");
    const holder = this.field(row, "expires");
    item.hidden = !iso;
    if (!iso || holder.querySelector("time")?.dateTime === iso) return;
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = interpolate(gettext("Kept until %(date)s"), { date: formatDate(iso, { dateStyle: "long" }) }, true);
    holder.replaceChildren(time);
  }

  setStatus(row, status) {
    if (!STATUS_LABELS[status]) return;
    row.dataset.status = status;
    const badge = this.field(row, "status");
    badge.textContent = STATUS_LABELS[status];
    badge.className = `badge badge-${status}`;
    this.field(row, "progress-block").hidden = FINISHED.has(status);
    this.field(row, "open").hidden = status !== "ready";
    if (status !== "failed") this.showError(row, "");
  }

  /** A separation job's state: percent and stage while it is queued or running. */
  showJob(row, job) {
    const progress = this.field(row, "progress");
    const percent = Number.isFinite(job.progress) ? Math.max(0, Math.min(100, Math.round(job.progress))) : null;
    if (job.state === "queued") {
      progress.removeAttribute("value"); // indeterminate until it starts
      this.field(row, "percent").textContent = "";
      this.field(row, "stage").textContent = gettext("Waiting to start");
      return;
    }
    if (percent !== null) {
      progress.value = percent;
      progress.setAttribute("aria-valuetext", formatPercent(percent));
      this.field(row, "percent").textContent = formatPercent(percent);
    }
    if (job.state === "running") this.field(row, "stage").textContent = STAGE_LABELS[job.stage] || "";
  }

  showError(row, message) {
    const error = this.field(row, "error");
    error.textContent = message || "";
    error.hidden = !message;
  }

  removeRow(id) {
    this.rows.get(id)?.remove();
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

for (const root of document.querySelectorAll("[data-library]")) new Library(root);
