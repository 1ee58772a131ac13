/**
 * The mixer's saved state: read once when the page opens, written back as the user mixes.
 *
 * REST (the contract's `/api/v1/projects/<id>/mix/`, the owner's own state for the project):
 *   GET    → 200 `{"settings": <mix settings>, "updated_at": iso|null}`; `updated_at` null
 *            means nothing is saved (the settings are then the defaults for every stem)
 *   PUT    `{"settings": <mix settings>}` → 200, the same shape
 *   DELETE → 204 (back to the defaults: the mixer's reset button)
 * Mix settings are the export API's: `{"master_gain_db", "stems": {kind: {"gain_db", "mute",
 * "solo", "pan"}}, "tempo", "transpose", "loop": {"start_s", "end_s", "enabled"} | null}`.
 *
 * The page calls:
 *   `await store.load()`     the saved settings, or null when nothing is saved
 *   `store.schedule(s)`      after every change; the last one is PUT about `debounceMs` after
 *                            the changes stop, and at once (`fetch(..., {keepalive: true})`,
 *                            which outlives the page) on `pagehide` or when the page is hidden.
 *                            Settings the server already holds are not sent again.
 *   `await store.reset()`    DELETE; resolves to the defaults (re-read from the server) or to
 *                            null when it failed. Changes scheduled meanwhile that equal the
 *                            defaults are dropped (the page resetting its graph is not a save).
 *   `store.saved`            a Promise that resolves once no save is waiting or on its way:
 *                            true when the server holds the last change, false when its save
 *                            failed (never rejects: tests and the bench await it)
 *
 * Saving never blocks playback and never throws into the page. A failed save is shown in the
 * status line (`[data-mix-save-status]`, role="status", or the `status` option): "Not saved:
 * <message>", with `data-state` idle | saving | saved | error; the change is kept and sent
 * again with the next change (or when the page is hidden).
 */

import { apiFetch, csrfToken, errorFromResponse, errorMessage } from "../api.js";
import { gettext, interpolate } from "../i18n.js";

/** Quiet time after the last change before it is saved: a fader drag is one save. */
const DEBOUNCE_MS = 600;

/** JSON with object keys sorted, so that the same settings always compare equal. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
}

export class MixStore {
  /**
   * @param {{url: string, status?: HTMLElement|null, debounceMs?: number}} options
   *   url: the project's mix URL, e.g. "/api/v1/projects/<id>/mix/"
   */
  constructor({ url, status, debounceMs = DEBOUNCE_MS }) {
    this.url = url;
    this.debounceMs = debounceMs;
    this.statusElement = status === undefined ? document.querySelector("[data-mix-save-status]") : status;
    /** Canonical JSON of what the server holds (null: unknown). */
    this.serverJson = null;
    /** The settings waiting to be sent (latest change), or null. */
    this.pending = null;
    this.timer = null;
    /** The request on its way (a PUT or the reset), or null. */
    this.inFlight = null;
    this.resetting = false;
    this.lastOk = true;
    /** A change whose save failed, sent again when the page is hidden (or with the next change). */
    this.failed = null;
    this.waiters = [];
    this.flushOnHide = () => this.flushNow();
    window.addEventListener("pagehide", this.flushOnHide);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.flushNow();
    });
  }

  /** The saved settings, or null when nothing is saved (or the state cannot be read). */
  async load() {
    let answer;
    try {
      answer = await apiFetch(this.url);
    } catch (error) {
      // The mixer still opens at its defaults; say why the saved mix is not there.
      this.showStatus("error", interpolate(gettext("Saved mix not loaded: %(message)s"), { message: errorMessage(error) }, true));
      return null;
    }
    if (!answer || !answer.settings) return null;
    this.serverJson = canonical(answer.settings);
    return answer.updated_at ? answer.settings : null;
  }

  /** Save these settings soon (the latest call wins). */
  schedule(settings) {
    if (!settings || typeof settings !== "object") return;
    const json = canonical(settings);
    if (!this.resetting && !this.inFlight && json === this.serverJson) {
      // Back to what the server holds: nothing to send (a pending older change is dropped).
      this.cancelTimer();
      this.pending = null;
      this.settle();
      return;
    }
    this.pending = { settings: structuredClone(settings), json };
    this.cancelTimer();
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.debounceMs);
  }

  /** Resolves when no save is waiting or on its way: true if the last change is saved. */
  get saved() {
    if (this.idle()) return Promise.resolve(this.lastOk);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** DELETE the saved state; resolves to the defaults, or null when it failed (shown). */
  async reset() {
    this.cancelTimer();
    this.pending = null;
    this.resetting = true;
    const run = async () => {
      if (this.inFlight) await this.inFlight.catch(() => {});
      try {
        await apiFetch(this.url, { method: "DELETE" });
        const answer = await apiFetch(this.url);
        this.serverJson = answer && answer.settings ? canonical(answer.settings) : null;
        this.lastOk = true;
        this.showStatus("saved", "");
        return answer && answer.settings ? answer.settings : null;
      } catch (error) {
        this.serverJson = null;
        this.lastOk = false;
        this.showStatus("error", interpolate(gettext("Not reset: %(message)s"), { message: errorMessage(error) }, true));
        return null;
      }
    };
    const request = run();
    this.inFlight = request;
    const defaults = await request;
    this.inFlight = null;
    this.resetting = false;
    // The graph reset while the DELETE was on its way: its defaults are no change to save.
    if (this.pending && this.pending.json === this.serverJson) this.pending = null;
    if (this.pending) this.flush();
    else this.settle();
    return defaults;
  }

  // ---- internals ----

  idle() {
    return !this.pending && !this.inFlight && !this.timer && !this.resetting;
  }

  cancelTimer() {
    if (this.timer) window.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Send the pending change now, after the request on its way (saves stay in order). */
  async flush() {
    if (this.inFlight || this.resetting || !this.pending) {
      this.settle();
      return;
    }
    const { settings, json } = this.pending;
    this.pending = null;
    this.showStatus("saving", null);
    const request = apiFetch(this.url, { method: "PUT", json: { settings } });
    this.inFlight = request;
    try {
      const answer = await request;
      this.serverJson = answer && answer.settings ? canonical(answer.settings) : json;
      this.lastOk = true;
      this.showStatus("saved", "");
    } catch (error) {
      this.serverJson = null;
      this.lastOk = false;
      // Kept, so that it goes again with the next change or when the page is hidden.
      this.keepFailed({ settings, json }, error);
    } finally {
      if (this.inFlight === request) this.inFlight = null;
    }
    if (this.pending && !this.timer) this.flush();
    else this.settle();
  }

  /** The page is going away: send what is not saved with a request that outlives it. */
  flushNow() {
    const unsaved = this.pending || this.failed || null;
    if (!unsaved || this.resetting) return;
    this.cancelTimer();
    this.pending = null;
    this.failed = null;
    let request;
    try {
      request = fetch(this.url, {
        method: "PUT",
        keepalive: true,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ settings: unsaved.settings }),
      });
    } catch {
      // A keepalive request refused (over the browser's budget): nothing more can be done.
      this.settle();
      return;
    }
    // Tracked like any save, in case the page stays (a hidden tab comes back).
    const tracked = request.then(
      (response) => {
        this.lastOk = response.ok;
        this.serverJson = response.ok ? unsaved.json : null;
        if (!response.ok) this.keepFailed(unsaved, errorFromResponse(response.status, null));
      },
      (error) => {
        this.lastOk = false;
        this.serverJson = null;
        this.keepFailed(unsaved, error);
      },
    );
    this.inFlight = tracked;
    tracked.then(() => {
      if (this.inFlight === tracked) this.inFlight = null;
      if (this.pending && !this.timer) this.flush();
      else this.settle();
    });
  }

  keepFailed(unsaved, error) {
    if (!this.pending) this.failed = unsaved;
    this.showStatus("error", interpolate(gettext("Not saved: %(message)s"), { message: errorMessage(error) }, true));
  }

  /** Resolve the `saved` waiters once nothing is waiting or on its way. */
  settle() {
    if (!this.idle()) return;
    if (this.lastOk) this.failed = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(this.lastOk);
  }

  /** `text` null keeps the line as it is (a save starting does not hide the last error). */
  showStatus(state, text) {
    const element = this.statusElement;
    if (!element) return;
    element.dataset.state = state;
    if (text === null) return;
    element.textContent = text;
    element.hidden = !text;
  }
}
