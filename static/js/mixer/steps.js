/**
 * A project's jobs as a list of steps (kind, state, percent, stage, time taken, the plain
 * reason of a failure), kept current from the project socket's `job.progress` events and
 * from REST. Shared by the page while the project separates (project.js: every job) and the
 * mixer page (main.js: the newest separate / analyse / lyrics job, one step per kind).
 *
 * Markup (templates/projects/detail.html):
 *   [data-steps]            the <ol>; [data-step-template] a <template> holding one step
 *   [data-job-id]           one step, with data-kind and data-state (queued | running | done |
 *                           failed | cancelled), and inside [data-field=kind | state |
 *                           progress (a <progress>) | stage | percent | time | error]
 *   [data-step-empty]       a placeholder item, removed when the first step comes
 *
 * `new StepList(list, template, {kinds, byKind})`:
 *   kinds     only jobs of these kinds are shown (null: every kind)
 *   byKind    one step per kind: a newer job of a kind (a re-run) takes its kind's step over
 * `.update(job)`   a job as REST has it (`{"id", "kind", "state", "progress", "stage",
 *                  "user_error", "started_at", "duration_s"}`) or an event's fields (the same
 *                  names; `job` for the id); adds its step when it has none; returns the step,
 *                  or null for a kind not shown
 * `.onEvent(event)` a socket event; returns "unknown" for a job not shown yet (its REST row
 *                  has the rest: the caller re-reads), "changed" when its state changed (the
 *                  time taken comes from REST), else "" (progress only)
 * `.tick()`        running steps show their elapsed time: call once a second
 */

import { formatElapsed } from "../format.js";
import { gettext, interpolate } from "../i18n.js";
import { JOB_KIND_LABELS, JOB_STATE_LABELS } from "../labels.js";

function capfirst(text) {
  const value = String(text || "").replaceAll("_", " ");
  return value.charAt(0).toUpperCase() + value.slice(1);
}

/** The words for a job's kind (the server's, or its own name made readable). */
export function kindLabel(kind) {
  return JOB_KIND_LABELS[kind] || capfirst(kind);
}

export class StepList {
  /**
   * @param {HTMLOListElement} list  [data-steps]
   * @param {HTMLTemplateElement} template  [data-step-template]
   * @param {{kinds?: string[] | null, byKind?: boolean}} [options]
   */
  constructor(list, template, { kinds = null, byKind = false } = {}) {
    this.list = list;
    this.template = template;
    this.kinds = kinds ? new Set(kinds) : null;
    this.byKind = byKind;
  }

  shows(kind) {
    return !this.kinds || this.kinds.has(kind);
  }

  find(id, kind) {
    if (this.byKind && kind) return this.list.querySelector(`[data-job-id][data-kind="${CSS.escape(kind)}"]`);
    return this.list.querySelector(`[data-job-id="${CSS.escape(String(id))}"]`);
  }

  /** Apply a job (REST row or event fields); returns its step, or null for a kind not shown. */
  update(job) {
    const id = String(job.id ?? job.job ?? "");
    if (!id || !this.shows(job.kind)) return null;
    let step = this.find(id, job.kind);
    if (!step) step = this.add(id, job.kind);
    else if (step.dataset.jobId !== id) this.reset(step, id);
    this.fill(step, job);
    return step;
  }

  onEvent(event) {
    if (!event || event.type !== "job.progress" || !event.job || !this.shows(event.kind)) return "";
    const step = this.find(event.job, event.kind);
    if (!step || step.dataset.jobId !== String(event.job)) {
      this.update(event);
      return "unknown";
    }
    const changed = step.dataset.state !== event.state;
    this.fill(step, event);
    return changed ? "changed" : "";
  }

  add(id, kind) {
    const fragment = this.template.content.cloneNode(true);
    const step = fragment.querySelector("[data-job-id]");
    step.dataset.jobId = id;
    step.dataset.kind = kind || "";
    const label = kindLabel(kind);
    step.querySelector('[data-field="kind"]').textContent = label;
    step
      .querySelector('[data-field="progress"]')
      .setAttribute("aria-label", interpolate(gettext("%(step)s progress"), { step: label }, true));
    this.list.querySelector("[data-step-empty]")?.remove();
    this.list.append(fragment);
    return step;
  }

  /** A re-run of the kind: the step starts over for the new job. */
  reset(step, id) {
    step.dataset.jobId = id;
    const time = step.querySelector('[data-field="time"]');
    delete time.dataset.startedAt;
    time.textContent = "";
  }

  fill(step, job) {
    const field = (name) => step.querySelector(`[data-field="${name}"]`);
    if (job.state) {
      step.dataset.state = job.state;
      const state = field("state");
      state.textContent = JOB_STATE_LABELS[job.state] || capfirst(job.state);
      state.className = `badge badge-${job.state}`;
    }
    if (Number.isFinite(job.progress)) {
      const percent = Math.max(0, Math.min(100, Math.round(job.progress)));
      field("progress").value = percent;
      field("progress").setAttribute("aria-valuetext", interpolate(gettext("%(percent)s percent"), { percent }, true));
      field("percent").textContent = `${percent}%`;
    }
    if (job.stage !== undefined) field("stage").textContent = capfirst(job.stage);
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

  tick() {
    for (const time of this.list.querySelectorAll('[data-field="time"][data-started-at]')) {
      const started = Date.parse(time.dataset.startedAt);
      if (Number.isFinite(started)) time.textContent = formatElapsed(Math.max(0, (Date.now() - started) / 1000));
    }
  }
}
