/**
 * The remix page (templates/projects/remix.html): set up a remix per stem, run it, follow it,
 * then open it in the mixer or download it.
 *
 * Markup:
 *   form[data-remix]        root; data-remixes-url (POST starts one: the project's remixes API),
 *                           data-remix-url-template (one remix, the all-zero UUID in it),
 *                           data-ws-path (the project's socket), data-following (a remix still
 *                           running when the page was made: followed at once), data-style-names
 *                           (JSON: style id → name, for the list's summaries). data-state is
 *                           written here: idle | starting | queued | running | done | failed |
 *                           cancelled | error (a request failed)
 *   fieldset[data-remix-stem=<kind>]  one per stem of the song; data-revoiced "true" for drums,
 *                           bass and other. Inside, by [data-field]: enabled (checkbox), style
 *                           (<select>, "" keeps the original), wet (range 0..1), gain_db (range)
 *   [data-setting=<name>]   a grain setting (the request's `settings`); data-kind boolean |
 *                           number | integer; [data-action=new-seed] picks another seed
 *   <output for=id data-format=db|wet|ms|plain>  an input's value, as text
 *   [data-remix-status] (role="status", data-state as the root's), [data-remix-progress]
 *   [data-remix-result]     shown once done: [data-remix-open] (the mixer) and [data-remix-download]
 *   [data-remix-error]      role="alert"; [data-remix-upgrade] in a [data-upgrade-row] beside a 402
 *   [data-remix-list]       the song's remixes, newest first: rows [data-remix-id] (data-job-id,
 *                           data-state), fields created, state, summary, error, download;
 *                           [data-remix-template] makes a new one; [data-remix-empty] while none
 *
 * The request is the API's: `{"stems": {kind: {"style", "gain_db", "enabled", "wet"}} (the
 * others: `{"gain_db", "enabled"}`), "settings": {name: value}}` → 202 with the remix
 * (`{"id", "job", "state", "progress", "stage", "user_error", "download_url", ...}`).
 * It is followed through its job's `{"type": "job.progress", "job", "kind": "remix", "state",
 * "progress", "stage", "user_error"}` events on the project's socket (domain/events.py's
 * names); REST (`GET` the remix) is the source of truth, read when an event says it finished,
 * when the socket (re)connects, every `POLL_INTERVAL_MS` while the socket is down and every
 * `LIVE_CHECK_INTERVAL_MS` while it is up with no word of the job.
 */

import { apiFetch, errorMessage, showError } from "./api.js";
import { formatDb } from "./format.js";
import { gettext, interpolate, pageLocale } from "./i18n.js";
import { JOB_STATE_LABELS } from "./labels.js";
import { ProjectChannel } from "./mixer/socket.js";
import { showUpgrade, upgradeUrl } from "./upgrade.js";

const ZERO_UUID = "00000000-0000-0000-0000-000000000000";
const FINISHED = new Set(["done", "failed", "cancelled"]);
const POLL_INTERVAL_MS = 3000;
const LIVE_CHECK_INTERVAL_MS = 15000;
const MAX_READ_FAILURES = 10;
/** Events kept for jobs not (yet) followed: the worker may report before the POST answers. */
const RECENT_EVENTS = 16;
/** The largest seed "Another" picks (the input's max, if lower, wins). */
const SEED_MAX = 2 ** 31 - 1;

/** What the remix job is doing, by its stage (model/actors/remix.py names them). */
const STAGE_LABELS = {
  decode: gettext("Reading the stems…"),
  revoice: gettext("Re-playing the notes with grains…"),
  mix: gettext("Mixing…"),
  store: gettext("Saving…"),
};

const STEM_LABELS = { drums: gettext("Drums"), bass: gettext("Bass"), other: gettext("Other") };

function formatPercent(fraction) {
  return new Intl.NumberFormat(pageLocale(), { style: "percent", maximumFractionDigits: 0 }).format(fraction);
}

const FORMATS = {
  db: (value) => formatDb(value),
  wet: (value) => interpolate(gettext("%(percent)s wet"), { percent: formatPercent(value) }, true),
  ms: (value) => interpolate(gettext("%(value)s ms"), { value: new Intl.NumberFormat(pageLocale()).format(value) }, true),
  plain: (value) => new Intl.NumberFormat(pageLocale(), { maximumFractionDigits: 3 }).format(value),
};

class RemixPage {
  constructor(root) {
    this.root = root;
    this.remixesUrl = root.dataset.remixesUrl;
    this.remixTemplate = root.dataset.remixUrlTemplate;
    this.submit = root.querySelector('[type="submit"]');
    this.status = root.querySelector("[data-remix-status]");
    this.progress = root.querySelector("[data-remix-progress]");
    this.result = root.querySelector("[data-remix-result]");
    this.download = root.querySelector("[data-remix-download]");
    this.error = root.querySelector("[data-remix-error]");
    this.upgrade = root.querySelector("[data-remix-upgrade]");
    this.history = document.querySelector("[data-remix-history]");
    this.list = this.history?.querySelector("[data-remix-list]");
    this.empty = this.history?.querySelector("[data-remix-empty]");
    this.rowTemplate = this.history?.querySelector("[data-remix-template]");
    try {
      this.styleNames = JSON.parse(root.dataset.styleNames || "{}");
    } catch {
      this.styleNames = {};
    }
    /** The remix followed (its latest known state), or null. */
    this.current = null;
    this.generation = 0;
    this.live = false;
    this.timer = null;
    this.reading = false;
    this.readAgain = false;
    this.failures = 0;
    this.recent = new Map();

    this.wireOutputs();
    this.wireStems();
    root.querySelector('[data-action="new-seed"]')?.addEventListener("click", () => this.newSeed());
    root.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    this.channel = new ProjectChannel({
      wsPath: root.dataset.wsPath,
      onEvent: (event) => this.onEvent(event),
      onModeChange: (mode) => this.onSocketMode(mode),
    });
    this.channel.start();
    if (root.dataset.following) {
      this.current = { id: root.dataset.following, state: "queued", progress: 0 };
      this.submit.disabled = true;
      this.refresh();
    }
  }

  // ---------------------------------------------------------------- the form

  /** Every range shows its value in its <output>, in the page's language. */
  wireOutputs() {
    for (const output of this.root.querySelectorAll("output[for][data-format]")) {
      const input = this.root.querySelector(`#${CSS.escape(output.getAttribute("for"))}`);
      const format = FORMATS[output.dataset.format] || FORMATS.plain;
      if (!input) continue;
      const show = () => {
        const value = Number.parseFloat(input.value);
        const text = format(Number.isFinite(value) ? value : 0);
        output.textContent = text;
        input.setAttribute("aria-valuetext", text);
      };
      input.addEventListener("input", show);
      input.addEventListener("dblclick", () => {
        input.value = input.defaultValue;
        show();
      });
      show();
    }
  }

  /** A stem left out of the remix greys its other controls; one kept original has no dry/wet. */
  wireStems() {
    for (const fieldset of this.root.querySelectorAll("[data-remix-stem]")) {
      const update = () => {
        const enabled = this.field(fieldset, "enabled")?.checked !== false;
        const style = this.field(fieldset, "style");
        const wet = this.field(fieldset, "wet");
        fieldset.dataset.enabled = String(enabled);
        for (const input of fieldset.querySelectorAll("[data-field]:not([data-field=enabled])")) input.disabled = !enabled;
        if (wet) wet.disabled = !enabled || !style || !style.value;
      };
      fieldset.addEventListener("change", update);
      update();
    }
  }

  newSeed() {
    const input = this.root.querySelector('[data-setting="seed"]');
    if (!input) return;
    const max = Math.min(SEED_MAX, Number.parseInt(input.max, 10) || SEED_MAX);
    const min = Number.parseInt(input.min, 10) || 0;
    const values = new Uint32Array(1);
    window.crypto.getRandomValues(values);
    input.value = String(min + (values[0] % (max - min + 1)));
  }

  /** The request body, as the remixes API takes it. */
  body() {
    const stems = {};
    for (const fieldset of this.root.querySelectorAll("[data-remix-stem]")) {
      const kind = fieldset.dataset.remixStem;
      const enabled = this.field(fieldset, "enabled")?.checked !== false;
      const entry = { gain_db: Number.parseFloat(this.field(fieldset, "gain_db").value) || 0, enabled };
      if (fieldset.dataset.revoiced === "true") {
        const style = this.field(fieldset, "style")?.value || "";
        if (style) entry.style = style;
        const wet = Number.parseFloat(this.field(fieldset, "wet")?.value);
        entry.wet = Number.isFinite(wet) ? wet : 1;
      }
      stems[kind] = entry;
    }
    const settings = {};
    for (const input of this.root.querySelectorAll("[data-setting]")) {
      const name = input.dataset.setting;
      if (input.dataset.kind === "boolean") settings[name] = input.checked;
      else if (input.dataset.kind === "integer") {
        const value = Number.parseInt(input.value, 10);
        if (Number.isFinite(value)) settings[name] = value;
      } else {
        const value = Number.parseFloat(input.value);
        if (Number.isFinite(value)) settings[name] = value;
      }
    }
    return { stems, settings };
  }

  /** Why the form cannot be sent as it is, or "" (the API checks it again). */
  refusal(body) {
    const revoiced = Object.values(body.stems).some((entry) => entry.style && entry.enabled);
    if (!revoiced) return gettext("Choose a sound for at least one of the drums, bass and other stems.");
    const seed = this.root.querySelector('[data-setting="seed"]');
    if (seed && !seed.checkValidity()) {
      return interpolate(gettext("The seed is a whole number from %(min)s to %(max)s."), { min: seed.min, max: seed.max }, true);
    }
    return "";
  }

  // ---------------------------------------------------------------- running it

  async start() {
    const generation = ++this.generation;
    this.stopFollowing();
    showError(this.error, null);
    showUpgrade(this.upgrade, "");
    this.result.hidden = true;
    const body = this.body();
    const refusal = this.refusal(body);
    if (refusal) {
      this.show("error", "", null);
      showError(this.error, refusal);
      return;
    }
    this.submit.disabled = true;
    this.show("starting", gettext("Starting the remix…"), 0);
    let created;
    try {
      created = await apiFetch(this.remixesUrl, { method: "POST", json: body });
    } catch (error) {
      if (generation === this.generation) this.fail(error);
      return;
    }
    if (generation !== this.generation) return;
    this.current = created;
    this.failures = 0;
    this.addRow(created);
    const early = created.job ? this.recent.get(String(created.job)) : null;
    if (early) this.apply(early);
    else this.update(created);
  }

  /** A `job.progress` event of any of the project's jobs. */
  onEvent(event) {
    if (!event || event.type !== "job.progress" || event.kind !== "remix" || !event.job) return;
    const job = String(event.job);
    this.recent.delete(job);
    this.recent.set(job, event);
    if (this.recent.size > RECENT_EVENTS) this.recent.delete(this.recent.keys().next().value);
    this.showRowState(this.rowByJob(job), event.state);
    if (this.current && this.current.job && String(this.current.job) === job) this.apply(event);
  }

  onSocketMode(mode) {
    const live = mode === "live";
    this.root.dataset.socket = mode;
    if (live === this.live) return;
    this.live = live;
    if (!this.current) return;
    if (live) this.refresh(); // events sent while it was down are lost: read what happened
    else this.schedule();
  }

  apply(event) {
    if (FINISHED.has(event.state)) {
      this.refresh(); // the download URL, or the reason, as REST holds them
      return;
    }
    this.update({ ...this.current, state: event.state, progress: event.progress, stage: event.stage });
  }

  refresh() {
    if (!this.current) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    window.clearTimeout(this.timer);
    this.timer = null;
    this.reading = true;
    this.readAgain = false;
    this.read(this.generation, this.current.id);
  }

  async read(generation, id) {
    let remix = null;
    let failure = null;
    try {
      remix = await apiFetch(this.remixTemplate.replace(ZERO_UUID, encodeURIComponent(id)));
    } catch (error) {
      failure = error;
    }
    this.reading = false;
    if (generation === this.generation && this.current) {
      if (failure) {
        this.failures += 1;
        if (this.failures >= MAX_READ_FAILURES || (failure.status >= 400 && failure.status < 500)) this.fail(failure);
        else this.schedule();
      } else {
        this.failures = 0;
        this.update(remix);
      }
    }
    if (this.readAgain) this.refresh();
  }

  /** Show a remix's state; a finished one ends the following. */
  update(remix) {
    this.current = remix;
    this.updateRow(remix);
    if (remix.state === "done") {
      this.stopFollowing();
      this.show("done", gettext("Your remix is ready. Its re-voiced stems play in the mixer beside the originals."), null);
      if (remix.download_url) {
        this.download.href = remix.download_url;
        this.download.hidden = false;
      } else {
        this.download.hidden = true;
      }
      this.result.hidden = false;
      this.submit.disabled = false;
      return;
    }
    if (remix.state === "failed" || remix.state === "cancelled") {
      this.stopFollowing();
      this.show(remix.state, "", null);
      showError(this.error, remix.user_error || gettext("The remix failed. Please try again."));
      this.submit.disabled = false;
      return;
    }
    const percent = Number.isFinite(remix.progress) ? remix.progress : 0;
    const doing =
      remix.state === "running"
        ? STAGE_LABELS[remix.stage] || gettext("Remixing…")
        : gettext("Waiting for a worker…");
    this.show(remix.state || "queued", `${doing} ${formatPercent(percent / 100)}`, percent);
    this.schedule();
  }

  schedule() {
    window.clearTimeout(this.timer);
    this.timer = null;
    if (!this.current || this.reading) return;
    this.timer = window.setTimeout(() => this.refresh(), this.live ? LIVE_CHECK_INTERVAL_MS : POLL_INTERVAL_MS);
  }

  stopFollowing() {
    window.clearTimeout(this.timer);
    this.timer = null;
    this.current = null;
  }

  fail(error) {
    this.stopFollowing();
    this.show("error", "", null);
    showError(this.error, errorMessage(error));
    showUpgrade(this.upgrade, upgradeUrl(error));
    this.submit.disabled = false;
  }

  show(state, text, percent) {
    this.root.dataset.state = state;
    this.status.dataset.state = state;
    this.status.textContent = text;
    if (percent === null) {
      this.progress.hidden = true;
    } else {
      this.progress.hidden = false;
      this.progress.value = Math.max(0, Math.min(100, percent));
    }
  }

  // ---------------------------------------------------------------- the list of remixes

  rowById(id) {
    return this.list?.querySelector(`[data-remix-id="${CSS.escape(String(id))}"]`) || null;
  }

  rowByJob(job) {
    return this.list?.querySelector(`[data-job-id="${CSS.escape(String(job))}"]`) || null;
  }

  addRow(remix) {
    if (!this.list || !this.rowTemplate || this.rowById(remix.id)) return;
    const row = this.rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.remixId = String(remix.id);
    row.dataset.jobId = remix.job ? String(remix.job) : "";
    const created = this.rowField(row, "created");
    if (remix.created_at) {
      created.dateTime = remix.created_at;
      const date = new Date(remix.created_at);
      if (!Number.isNaN(date.getTime())) {
        created.textContent = new Intl.DateTimeFormat(pageLocale(), { dateStyle: "short", timeStyle: "short" }).format(date);
      }
    }
    this.rowField(row, "summary").textContent = this.summary(remix.stems);
    this.list.prepend(row);
    this.list.hidden = false;
    if (this.empty) this.empty.hidden = true;
    this.updateRow(remix);
  }

  updateRow(remix) {
    const row = this.rowById(remix.id);
    if (!row) return;
    this.showRowState(row, remix.state);
    const download = this.rowField(row, "download");
    if (remix.state === "done" && remix.download_url) {
      download.href = remix.download_url;
      download.hidden = false;
    }
    const error = this.rowField(row, "error");
    const failed = remix.state === "failed" || remix.state === "cancelled";
    error.textContent = failed ? remix.user_error || "" : "";
    error.hidden = !error.textContent;
  }

  showRowState(row, state) {
    if (!row || !JOB_STATE_LABELS[state]) return;
    row.dataset.state = state;
    const badge = this.rowField(row, "state");
    badge.textContent = JOB_STATE_LABELS[state];
    badge.className = `badge badge-${state}`;
  }

  /** "Drums: Trap kit · Bass: Funk bass", from a request's stems. */
  summary(stems) {
    const parts = [];
    for (const kind of ["drums", "bass", "other"]) {
      const entry = stems && stems[kind];
      if (!entry || !entry.style || entry.enabled === false) continue;
      const sound = this.styleNames[String(entry.style).toLowerCase()] || gettext("a deleted sound");
      parts.push(interpolate(gettext("%(stem)s: %(sound)s"), { stem: STEM_LABELS[kind], sound }, true));
    }
    return parts.join(" · ");
  }

  rowField(row, name) {
    return row.querySelector(`[data-field="${name}"]`);
  }

  field(fieldset, name) {
    return fieldset.querySelector(`[data-field="${name}"]`);
  }
}

const root = document.querySelector("[data-remix]");
if (root) new RemixPage(root);
