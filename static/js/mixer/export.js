/**
 * Export form: render the current mix on the server, follow it, offer the file.
 *
 * POST to the project's exports URL the mix settings at top level, as the contract has them
 * (`{"master_gain_db", "stems": {kind: {"gain_db", "mute", "solo", "pan"}}, "tempo",
 * "transpose", "loop"}`, from `getSettings()`), plus `"format"`, `"region"` ("all" | "loop":
 * only loop.start_s..loop.end_s) and, for MP3 only, `"bitrate_kbps"` → 202 `{"id", "job",
 * "state", "format", "bitrate_kbps", "region", "filename", "progress", "download_url",
 * "error"}`. The finished export's `filename` (e.g. "my-song-instrumental.mp3") is the
 * download link's text and its `download` attribute.
 *
 * The export is then followed through its job's events on the
 * project's WebSocket, which the page hands over: `onJobEvent(event)` for every
 * `{"type": "job.progress", "job", "kind", "state", "progress", "stage", "user_error", ...}`
 * (domain/events.py; the same names as in Python), matched by `event.job === export.job`,
 * and `onSocketMode(mode)` when the socket opens ("live") or goes down ("polling").
 *
 * REST (`GET` the export) stays the source of truth; it is read once when an event says the
 * job finished (done | failed | cancelled: the download URL and the error come from there),
 * once when the socket (re)connects while an export is followed (events sent while it was
 * down are lost), every `fallbackIntervalMs` while the socket is down, and, while it is up,
 * only after `liveCheckIntervalMs` without any event for the job (a message dropped on the
 * way cannot leave the panel waiting for ever).
 *
 * "Loop region only" is offered while the mixer has a loop (`getSettings().loop` not null).
 * The page calls `onSettingsChange(settings)` after a change to keep it current; the panel
 * also re-reads `getSettings()` when the pointer or the focus comes into the form and
 * before it sends.
 *
 * Markup (inside [data-export-form]):
 *   select[name=format], button[type=submit],
 *   [data-export-bitrate-field] holding select[name=bitrate_kbps] (shown for MP3 only; its
 *                          options are mixer_ranges()'s `mp3_bitrates` rendered by the template, the default selected),
 *   input[type=radio][name=region] "all" | "loop", [data-export-loop-range] (the loop, as text)
 *   [data-export-status]   role="status"; data-state mirrors the export: idle | starting |
 *                          queued | running | done | failed | cancelled | error (a request failed)
 *   [data-export-progress] <progress>, [data-export-download] <a>, [data-export-error] alert
 *   option[data-plan-locked] a format or bit rate outside the user's plan: rendered disabled
 *                          (marked "Pro") by the template, never chosen here
 *   template[data-karaoke-option]  the "Karaoke bundle" option (format "karaoke": a zip of the
 *                          mix as MP3, so with a bit rate, and the word-timed LRC): put in the
 *                          format list by `setLyricsReady(true)` (the page calls it once the
 *                          song's lyrics exist), taken out again by `setLyricsReady(false)`
 *   [data-karaoke-hint]    shown while the bundle is chosen and the vocals are heard: the
 *                          bundle is the mix as set ("mute the vocals for an instrumental")
 *   [data-export-upgrade]  "Upgrade to Pro" link in a [data-upgrade-row]: shown beside a 402
 *                          (`plan_required`: a format or bit rate outside the plan;
 *                          `quota_exceeded`: the plan's jobs at once are running), pointed at the
 *                          answer's `extra.upgrade_url`; the form's data-upgrade-url is "" on a
 *                          paid plan, which has nothing to upgrade to (the link then stays hidden)
 */

import { apiFetch, errorMessage, showError } from "../api.js";
import { formatClock } from "../format.js";
import { gettext, interpolate } from "../i18n.js";
import { showUpgrade, upgradeUrl } from "../upgrade.js";

/** REST reads while the socket is down: slow, since a reconnect re-reads at once anyway. */
const FALLBACK_INTERVAL_MS = 5000;
/** While the socket is up: a read only after this long without an event for the job. */
const LIVE_CHECK_INTERVAL_MS = 30000;
/** Consecutive failed status reads before giving up (a server restart takes a few seconds). */
const MAX_READ_FAILURES = 10;
/** Events kept for jobs not (yet) followed: the worker may report before the POST answers. */
const RECENT_EVENTS = 32;
const FINISHED = new Set(["done", "failed", "cancelled"]);

/** Whether an export of this format takes an MP3 bit rate (the karaoke bundle holds an MP3). */
function hasBitrate(format) {
  return format === "mp3" || format === "karaoke";
}

/** A format as the status line names it: "MP3", "WAV", "the karaoke bundle". */
function formatName(format) {
  return format === "karaoke" ? gettext("the karaoke bundle") : String(format || "").toUpperCase();
}

/** Whether the vocals are heard in these mix settings (a solo elsewhere silences them too). */
function vocalsHeard(settings) {
  const stems = (settings && settings.stems) || {};
  const vocals = stems.vocals;
  if (!vocals) return false;
  const anySolo = Object.values(stems).some((strip) => strip && strip.solo);
  return !vocals.mute && (!anySolo || Boolean(vocals.solo));
}

export class ExportPanel {
  /**
   * @param {HTMLFormElement} form
   * @param {{exportsUrl: string, statusUrlTemplate: string, getSettings: () => object,
   *   fallbackIntervalMs?: number, liveCheckIntervalMs?: number}} options
   *   statusUrlTemplate contains `{id}`, e.g. "/api/v1/exports/{id}/"
   */
  constructor(
    form,
    {
      exportsUrl,
      statusUrlTemplate,
      getSettings,
      fallbackIntervalMs = FALLBACK_INTERVAL_MS,
      liveCheckIntervalMs = LIVE_CHECK_INTERVAL_MS,
    },
  ) {
    this.form = form;
    this.exportsUrl = exportsUrl;
    this.statusUrlTemplate = statusUrlTemplate;
    this.getSettings = getSettings;
    this.fallbackIntervalMs = fallbackIntervalMs;
    this.liveCheckIntervalMs = liveCheckIntervalMs;
    this.submit = form.querySelector('[type="submit"]');
    this.status = form.querySelector("[data-export-status]");
    this.progress = form.querySelector("[data-export-progress]");
    this.download = form.querySelector("[data-export-download]");
    this.error = form.querySelector("[data-export-error]");
    this.upgrade = form.querySelector("[data-export-upgrade]");
    this.canUpgrade = Boolean(form.dataset.upgradeUrl);
    this.bitrateField = form.querySelector("[data-export-bitrate-field]");
    this.loopRadio = form.querySelector('input[name="region"][value="loop"]');
    this.allRadio = form.querySelector('input[name="region"][value="all"]');
    this.loopRange = form.querySelector("[data-export-loop-range]");
    const karaoke = form.querySelector("template[data-karaoke-option]");
    this.karaokeOption = karaoke ? karaoke.content.querySelector("option").cloneNode(true) : null;
    this.karaokeHint = form.querySelector("[data-karaoke-hint]");
    this.vocalsHeard = false;
    /** The export being followed (its latest known state), or null. */
    this.current = null;
    this.generation = 0;
    this.live = false;
    this.timer = null;
    this.reading = false;
    this.readAgain = false;
    this.failures = 0;
    /** @type {Map<string, object>} job id → its latest event */
    this.recent = new Map();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    form.elements.format.addEventListener("change", () => this.showFormat());
    // The loop is set elsewhere on the page: read it again whenever the user comes here.
    form.addEventListener("pointerover", () => this.onSettingsChange());
    form.addEventListener("focusin", () => this.onSettingsChange());
    this.showFormat();
    this.onSettingsChange();
  }

  /**
   * Whether the song has lyrics: the karaoke bundle is offered only then. Taken away while
   * chosen (lyrics gone), the first format the plan allows is chosen instead.
   */
  setLyricsReady(ready) {
    const option = this.karaokeOption;
    if (!option) return;
    const select = this.form.elements.format;
    if (ready && !option.isConnected) select.append(option);
    if (!ready && option.isConnected) {
      const chosen = option.selected;
      option.remove();
      if (chosen) {
        const first = [...select.options].find((item) => !item.disabled);
        if (first) first.selected = true;
      }
    }
    this.form.dataset.karaokeReady = String(Boolean(ready));
    this.showFormat();
  }

  /** The mixer changed (the page calls this; `settings` defaults to `getSettings()`). */
  onSettingsChange(settings = null) {
    let current = null;
    try {
      current = settings || this.getSettings() || {};
    } catch {
      current = null; // the mixer is not ready yet
    }
    const loop = (current && current.loop) || null;
    this.vocalsHeard = Boolean(current && vocalsHeard(current));
    this.showKaraokeHint();
    if (!this.loopRadio) return;
    const hasLoop = Boolean(loop && Number.isFinite(loop.start_s) && Number.isFinite(loop.end_s));
    this.loopRadio.disabled = !hasLoop;
    if (!hasLoop && this.loopRadio.checked) this.allRadio.checked = true;
    if (this.loopRange) {
      this.loopRange.textContent = hasLoop
        ? interpolate(
            gettext("(%(start)s to %(end)s)"),
            { start: formatClock(loop.start_s, { tenths: true }), end: formatClock(loop.end_s, { tenths: true }) },
            true,
          )
        : gettext("(set a loop first)");
    }
  }

  /** MP3 (and the karaoke bundle, which holds one) has a bitrate; the lossless formats do not. */
  showFormat() {
    this.showKaraokeHint();
    const select = this.form.elements.bitrate_kbps;
    if (!this.bitrateField || !select) return;
    const mp3 = hasBitrate(this.form.elements.format.value);
    this.bitrateField.hidden = !mp3;
    select.disabled = !mp3;
  }

  showKaraokeHint() {
    if (!this.karaokeHint) return;
    this.karaokeHint.hidden = !(this.form.elements.format.value === "karaoke" && this.vocalsHeard);
  }

  /** The request body: the mix settings at top level, with format, region and bitrate. */
  body() {
    const settings = this.getSettings();
    this.onSettingsChange(settings);
    const format = this.form.elements.format.value;
    const region = this.loopRadio && this.loopRadio.checked ? "loop" : "all";
    const body = { ...settings, format, region };
    const bitrate = this.form.elements.bitrate_kbps;
    if (hasBitrate(format) && bitrate && bitrate.value) body.bitrate_kbps = Number.parseInt(bitrate.value, 10);
    return body;
  }

  async start() {
    const generation = ++this.generation;
    this.stopFollowing();
    const wantedLoop = Boolean(this.loopRadio && this.loopRadio.checked);
    const body = this.body();
    if (wantedLoop && body.region !== "loop") {
      // The loop was cleared since it was chosen: say so rather than export the whole song.
      this.show("error", "", null);
      showError(this.error, gettext("There is no loop region any more. Set one, or export the whole song."));
      return;
    }
    this.submit.disabled = true;
    this.download.hidden = true;
    this.download.removeAttribute("href");
    this.download.download = "";
    showError(this.error, null);
    showUpgrade(this.upgrade, "");
    this.show("starting", gettext("Starting the export…"), 0);
    let created;
    try {
      created = await apiFetch(this.exportsUrl, { method: "POST", json: body });
    } catch (error) {
      if (generation === this.generation) this.fail(error);
      return;
    }
    if (generation !== this.generation) return;
    this.current = created;
    this.failures = 0;
    // Its job may have reported (even finished) before the POST answered.
    const early = this.recent.get(String(created.job));
    if (early) this.apply(early);
    else this.update(created);
  }

  /** A `job.progress` event from the project's socket (any job of the project). */
  onJobEvent(event) {
    if (!event || event.type !== "job.progress" || !event.job) return;
    const job = String(event.job);
    this.recent.delete(job);
    this.recent.set(job, event);
    if (this.recent.size > RECENT_EVENTS) this.recent.delete(this.recent.keys().next().value);
    if (this.current && String(this.current.job) === job) this.apply(event);
  }

  /** The socket's state: "live" when it (re)connects, "polling" or "stopped" when it is down. */
  onSocketMode(mode) {
    const live = mode === "live";
    if (live === this.live) return;
    this.live = live;
    if (!this.current) return;
    if (live) this.refresh(); // events sent while it was down are lost: read what happened
    else this.schedule();
  }

  apply(event) {
    if (FINISHED.has(event.state)) {
      // The download URL (or the error, as REST holds it) comes from the export itself.
      if (event.state === "done") this.showRendering({ ...this.current, state: "running", progress: 100 });
      this.refresh();
      return;
    }
    this.update({ ...this.current, state: event.state, progress: event.progress });
  }

  /** Read the export over REST; asked again while a read is on its way, it reads once more after. */
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
    let exported = null;
    let failure = null;
    try {
      exported = await apiFetch(this.statusUrlTemplate.replace("{id}", encodeURIComponent(id)));
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
        this.update(exported);
      }
    }
    // A finish event or a reconnect that came during this read may know more than it did.
    if (this.readAgain) this.refresh();
  }

  /** Show an export's state; a finished one ends the following. */
  update(exported) {
    this.current = exported;
    if (exported.state === "done") {
      this.stopFollowing();
      this.finish(exported);
      return;
    }
    if (exported.state === "failed" || exported.state === "cancelled") {
      this.stopFollowing();
      this.show(exported.state, "", null);
      showError(this.error, exported.error || gettext("The export failed. Please try again."));
      this.submit.disabled = false;
      return;
    }
    this.showRendering(exported);
    this.schedule();
  }

  showRendering(exported) {
    const percent = Number.isFinite(exported.progress) ? exported.progress : 0;
    const format = formatName(exported.format);
    const text =
      exported.state === "running"
        ? interpolate(gettext("Rendering %(format)s…"), { format }, true)
        : interpolate(gettext("Waiting to render %(format)s…"), { format }, true);
    this.show(exported.state || "queued", `${text} ${Math.round(percent)}%`, percent);
  }

  /** The next REST read: soon while the socket is down, only as a safety net while it is up. */
  schedule() {
    window.clearTimeout(this.timer);
    this.timer = null;
    if (!this.current || this.reading) return;
    this.timer = window.setTimeout(() => this.refresh(), this.live ? this.liveCheckIntervalMs : this.fallbackIntervalMs);
  }

  stopFollowing() {
    window.clearTimeout(this.timer);
    this.timer = null;
    this.current = null;
  }

  finish(exported) {
    this.show("done", gettext("Your mix is ready."), null);
    this.download.href = exported.download_url;
    const filename = exported.filename || "";
    this.download.download = filename;
    this.download.textContent = filename
      ? interpolate(gettext("Download %(filename)s"), { filename }, true)
      : interpolate(gettext("Download %(format)s"), { format: formatName(exported.format) }, true);
    this.download.hidden = false;
    this.submit.disabled = false;
  }

  fail(error) {
    this.stopFollowing();
    this.show("error", "", null);
    showError(this.error, errorMessage(error));
    showUpgrade(this.upgrade, this.canUpgrade ? upgradeUrl(error) : "");
    this.submit.disabled = false;
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
