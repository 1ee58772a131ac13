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
 * When the project becomes ready the page reloads and the server renders the mixer.
 */

import { errorMessage } from "./api.js";
import { formatElapsed } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { PROJECT_STATUS_LABELS as STATUS_LABELS } from "./labels.js";
import { ProjectChannel } from "./mixer/socket.js";

const STATE_LABELS = {
  queued: gettext("Queued"),
  running: gettext("Running"),
  done: gettext("Done"),
  failed: gettext("Failed"),
  cancelled: gettext("Cancelled"),
};
const KIND_LABELS = {
  separate: gettext("Separate stems"),
  analyse: gettext("Analyse"),
  transcribe: gettext("Transcribe lyrics"),
  export: gettext("Export"),
};

function capfirst(text) {
  const value = String(text || "").replaceAll("_", " ");
  return value.charAt(0).toUpperCase() + value.slice(1);
}

class ProjectProgress {
  constructor(root) {
    this.root = root;
    this.steps = root.querySelector("[data-steps]");
    this.template = root.querySelector("[data-step-template]");
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
    this.clock = window.setInterval(() => this.tickElapsed(), 1000);
    this.channel.start();
  }

  onEvent(event) {
    if (event.type !== "job.progress" || this.finished) return;
    const step = this.steps.querySelector(`[data-job-id="${CSS.escape(String(event.job))}"]`);
    if (step) {
      this.updateStep(step, {
        kind: event.kind,
        state: event.state,
        progress: event.progress,
        stage: event.stage,
        user_error: event.user_error,
      });
    } else {
      // A job this page has not seen yet: REST has its full row.
      this.channel.refresh();
    }
    if (event.project_status) this.setStatus(event.project_status);
    if (event.project_status === "ready" || event.project_status === "failed") this.channel.refresh();
  }

  onSnapshot(project) {
    if (this.liveStatus?.dataset.mode === "error") this.showMode(this.mode);
    for (const job of project.jobs || []) {
      let step = this.steps.querySelector(`[data-job-id="${CSS.escape(String(job.id))}"]`);
      if (!step) step = this.addStep(job);
      this.updateStep(step, job);
    }
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

  addStep(job) {
    const fragment = this.template.content.cloneNode(true);
    const step = fragment.querySelector("[data-job-id]");
    step.dataset.jobId = job.id;
    const label = KIND_LABELS[job.kind] || capfirst(job.kind);
    step.querySelector('[data-field="kind"]').textContent = label;
    step
      .querySelector('[data-field="progress"]')
      .setAttribute("aria-label", interpolate(gettext("%(step)s progress"), { step: label }, true));
    this.steps.querySelector("[data-step-empty]")?.remove();
    this.steps.append(fragment);
    return step;
  }

  updateStep(step, job) {
    const field = (name) => step.querySelector(`[data-field="${name}"]`);
    if (job.kind) step.dataset.kind = job.kind;
    if (job.state) {
      step.dataset.state = job.state;
      const state = field("state");
      state.textContent = STATE_LABELS[job.state] || capfirst(job.state);
      state.className = `badge badge-${job.state}`;
    }
    if (Number.isFinite(job.progress)) {
      const percent = Math.max(0, Math.min(100, Math.round(job.progress)));
      field("progress").value = percent;
      field("progress").setAttribute("aria-valuetext", interpolate(gettext("%(percent)s percent"), { percent }, true));
      field("percent").textContent = `${percent}%`;
    }
    if (job.stage !== undefined) {
      field("stage").textContent = capfirst(job.stage);
    }
    const time = field("time");
    if (Number.isFinite(job.duration_s)) {
      delete time.dataset.startedAt;
      time.textContent = formatElapsed(job.duration_s);
    } else if (job.started_at && job.state === "running") {
      time.dataset.startedAt = job.started_at;
    }
    if (job.state && job.state !== "running") delete time.dataset.startedAt;
    if (job.user_error !== undefined) {
      field("error").textContent = job.user_error || "";
      field("error").hidden = !job.user_error;
    }
  }

  tickElapsed() {
    for (const time of this.steps.querySelectorAll('[data-field="time"][data-started-at]')) {
      const started = Date.parse(time.dataset.startedAt);
      if (Number.isFinite(started)) time.textContent = formatElapsed(Math.max(0, (Date.now() - started) / 1000));
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
