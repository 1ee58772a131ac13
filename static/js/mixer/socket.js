/**
 * Live project updates: a WebSocket on `/ws/projects/<id>/` with REST as the source of truth.
 *
 * - Every socket message is handed to `onEvent` as parsed JSON; the server sends
 *   `{"type": "job.progress", "project", "style", "job", "kind", "state", "progress", "stage",
 *   "project_status", "user_error"}` (the same names as in Python).
 * - On every (re)connect the project is re-read from REST (`onSnapshot`), because events
 *   sent while the socket was down are lost.
 * - While the socket is closed or failed, REST is polled every `pollIntervalMs` and the
 *   socket is retried with a growing delay.
 * - While the socket is open, REST is still read every `livePollIntervalMs` (slowly), so an
 *   event lost on the way (a worker restart, a dropped message) cannot leave the page stale.
 * - Without `apiUrl` the channel reads nothing from REST itself: it only keeps the socket up
 *   and says so through `onModeChange` ("live" on every (re)connect, "polling" while it is
 *   down), and the caller re-reads what it follows (the mixer's export panel does this).
 */

import { apiFetch } from "../api.js";

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;

/** The ws:// or wss:// URL for a path on this site. */
export function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

export class ProjectChannel {
  /**
   * @param {object} options
   * @param {string} options.wsPath           e.g. "/ws/projects/<id>/"
   * @param {string} [options.apiUrl]         e.g. "/api/v1/projects/<id>/"; omit to read no REST
   * @param {(event: object) => void} options.onEvent
   * @param {(project: object) => void} [options.onSnapshot]  needed with apiUrl
   * @param {(mode: "live"|"polling"|"stopped") => void} [options.onModeChange]
   * @param {(error: Error) => void} [options.onError]  a REST read failed
   * @param {number} [options.pollIntervalMs]      REST polling while the socket is down
   * @param {number} [options.livePollIntervalMs]  REST safety reads while the socket is open
   */
  constructor({
    wsPath,
    apiUrl,
    onEvent,
    onSnapshot,
    onModeChange,
    onError,
    pollIntervalMs = 3000,
    livePollIntervalMs = 15000,
  }) {
    this.wsPath = wsPath;
    this.apiUrl = apiUrl;
    this.onEvent = onEvent;
    this.onSnapshot = onSnapshot || (() => {});
    this.onModeChange = onModeChange || (() => {});
    this.onError = onError || (() => {});
    this.pollIntervalMs = pollIntervalMs;
    this.livePollIntervalMs = livePollIntervalMs;
    this.socket = null;
    this.live = false;
    this.pollTimer = null;
    this.reconnectTimer = null;
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.reading = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.refresh();
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.pollTimer);
    window.clearTimeout(this.reconnectTimer);
    this.pollTimer = null;
    this.reconnectTimer = null;
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.onerror = null;
      this.socket.onmessage = null;
      this.socket.close();
      this.socket = null;
    }
    this.onModeChange("stopped");
  }

  /** Re-read the project from REST; concurrent calls share one request. */
  refresh() {
    if (this.stopped || !this.apiUrl) return Promise.resolve(null);
    if (!this.reading) {
      this.reading = apiFetch(this.apiUrl)
        .then((project) => {
          if (!this.stopped) this.onSnapshot(project);
          return project;
        })
        .catch((error) => {
          this.onError(error);
          return null;
        })
        .finally(() => {
          this.reading = null;
        });
    }
    return this.reading;
  }

  connect() {
    if (this.stopped) return;
    if (!("WebSocket" in window)) {
      this.startPolling();
      return;
    }
    let socket;
    try {
      socket = new WebSocket(socketUrl(this.wsPath));
    } catch {
      this.onSocketDown();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.stopPolling();
      this.live = true;
      this.onModeChange("live");
      this.refresh();
      this.startPolling();
    };
    socket.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event && typeof event === "object") this.onEvent(event);
    };
    // A failed socket fires "error" then "close": handle the close only.
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.socket === socket) this.socket = null;
      this.live = false;
      this.stopPolling();
      this.onSocketDown();
    };
  }

  onSocketDown() {
    if (this.stopped) return;
    this.startPolling();
    window.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = window.setTimeout(() => this.connect(), this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  /** Read REST on a timer: every `pollIntervalMs` while the socket is down, slowly while live. */
  startPolling() {
    if (this.pollTimer || this.stopped) return;
    if (!this.live) this.onModeChange("polling");
    if (!this.apiUrl) return;
    const interval = () => (this.live ? this.livePollIntervalMs : this.pollIntervalMs);
    const tick = async () => {
      await this.refresh();
      if (this.pollTimer && !this.stopped) this.pollTimer = window.setTimeout(tick, interval());
    };
    this.pollTimer = window.setTimeout(tick, interval());
  }

  stopPolling() {
    window.clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }
}
