/**
 * The project page while the project is not ready: its jobs as steps, updated live.
 *
 * Markup (templates/projects/detail.html):
 *   [data-project-progress]  root; data-api-url, data-ws-path; data-status is kept equal
 *                            to the project status (pending | processing | ready | failed)
 *   [data-project-status]    the status badge in the page header
 *   [data-steps]             <ol> of steps; [data-step-template] a <template> for new ones
 *   [data-job-id]            one step (data-kind, data-state), fields inside: [data-field=
 *                            kind | state | progress | stage | percent | time | error]
 *   [data-project-error]     role="alert": the project's user message when it failed
 *   [data-live-status]       how updates arrive (live socket or polling)
 *
 * The steps are drawn by steps.js (shared with the mixer page). When the project becomes
 * ready the page reloads and the server renders the mixer.
 */

import { errorMessage } from "./api.js";
import { gettext } from "./i18n.js";
import { PROJECT_STATUS_LABELS as STATUS_LABELS } from "./labels.js";
import { ProjectChannel } from "./mixer/socket.js";
import { StepList } from "./mixer/steps.js";

class ProjectProgress {
  constructor(root) {
    this.root = root;
    this.steps = new StepList(root.querySelector("[data-steps]"), root.querySelector("[data-step-template]"));
    this.errorBox = root.querySelector("[data-project-error]");
    this.liveStatus = root.querySelector("[data-live-status]");
    this.badge = document.querySelector("[data-project-status]");
    this.finished = false;
    this.mode = "stopped";
    this.channel = new ProjectChannel({
      wsPath: root.dataset.wsPath,
      apiUrl: root.dataset.apiUrl,
      onEvent: (event) => this.onEvent(event),
      onSnapshot: (project) => this.onSnapshot(project),
      onModeChange: (mode) => this.showMode(mode),
      onError: (error) => this.showMode("error", error),
    });
    // Running steps show their elapsed time; refresh it once a second.
    this.clock = window.setInterval(() => this.steps.tick(), 1000);
    this.channel.start();
  }

  onEvent(event) {
    if (event.type !== "job.progress" || this.finished) return;
    // A job this page has not seen yet: REST has its full row.
    if (this.steps.onEvent(event) === "unknown") this.channel.refresh();
    if (event.project_status) this.setStatus(event.project_status);
    if (event.project_status === "ready" || event.project_status === "failed") this.channel.refresh();
  }

  onSnapshot(project) {
    if (this.liveStatus?.dataset.mode === "error") this.showMode(this.mode);
    for (const job of project.jobs || []) this.steps.update(job);
    this.setStatus(project.status);
    if (project.status === "ready") {
      this.finish();
      this.showMode("ready");
      window.location.reload();
    } else if (project.status === "failed") {
      this.finish();
      this.showFailure(project.error);
    }
  }

  setStatus(status) {
    if (!STATUS_LABELS[status]) return;
    this.root.dataset.status = status;
    if (this.badge) {
      this.badge.textContent = STATUS_LABELS[status];
      this.badge.className = `badge badge-${status}`;
      this.badge.dataset.status = status;
    }
  }

  showFailure(message) {
    this.errorBox.hidden = false;
    this.errorBox.textContent = message || gettext("Processing failed. Please try uploading the song again.");
  }

  /** Say how updates arrive; an error stays shown until the next successful read. */
  showMode(mode, error) {
    if (!this.liveStatus) return;
    const texts = {
      live: gettext("Live updates on."),
      polling: gettext("Live connection unavailable; checking every few seconds."),
      ready: gettext("Ready. Opening the mixer…"),
      stopped: "",
    };
    if (mode === "error") {
      this.liveStatus.textContent = interpolate(
        gettext("Could not refresh the status: %(message)s"),
        { message: errorMessage(error) },
        true,
      );
    } else {
      this.mode = mode;
      if (mode === "stopped" && this.root.dataset.status === "ready") return;
      this.liveStatus.textContent = texts[mode] ?? "";
    }
    this.liveStatus.dataset.mode = mode;
  }

  finish() {
    this.finished = true;
    window.clearInterval(this.clock);
    this.channel.stop();
  }
}

const root = document.querySelector("[data-project-progress]");
if (root && root.dataset.status !== "ready" && root.dataset.status !== "failed") new ProjectProgress(root);
