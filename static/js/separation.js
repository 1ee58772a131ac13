/**
 * The separation choice (upload box and project page) and the project page's "Separate again"
 * panel: pick an engine (or two stems), separate the song again, follow the new job, and reload
 * the page for the mixer once its stems are in.
 *
 * Markup:
 *   [data-separation-fields]        templates/projects/_separation_fields.html
 *     [data-separation-engine]      the <select>; each <option> has data-note (the engine's one-line
 *                                   note); those the user may not pick are disabled, their words
 *                                   say why (application/pages/library.py `separation_fields`)
 *     [data-separation-note]        the chosen engine's note, kept in step with the select
 *     [data-separation-two-stems]   checkbox: vocals and instrumental only
 *   [data-separate-again]           the panel (templates/projects/detail.html, a <details>):
 *                                   data-url (POST /api/v1/projects/{id}/separation/), data-api-url
 *                                   (GET the project: its `jobs`), data-ws-path (its socket),
 *                                   data-job-id (a separation already queued or running when the
 *                                   page was made: it is followed at once, "" for none).
 *                                   data-state is written here: idle | sending | running | done | failed
 *     [data-separate-form]          the <form> around the fields; [data-separate-submit] its button
 *     [data-steps]                  the new job as one step (steps.js), [data-step-template] its <template>
 *     [data-separate-status]        role="status": what is happening
 *     [data-separate-error]         role="alert": the API's refusal, or the job's `user_error`
 *     [data-separate-upgrade]       "Upgrade to Pro" in a [data-upgrade-row], beside a `plan_required`
 *                                   or `quota_exceeded` refusal (upgrade.js)
 *
 * The job is followed on the project's socket (`job.progress` events: `job`, `state`, `progress`,
 * `stage`, `user_error`, as in Python) with REST as the source of truth (mixer/socket.js). The song
 * keeps its stems until the job is done; a failure shows its reason and leaves the mixer as it is.
 */

import { apiFetch, errorMessage, showError } from "./api.js";
import { gettext } from "./i18n.js";
import { ProjectChannel } from "./mixer/socket.js";
import { StepList } from "./mixer/steps.js";
import { showUpgrade, upgradeUrl } from "./upgrade.js";

const FINISHED = new Set(["done", "failed", "cancelled"]);

/** The engine select with its note, and the two-stem box, as the APIs take them. */
export class SeparationFields {
  constructor(root) {
    this.root = root;
    this.select = root.querySelector("[data-separation-engine]");
    this.note = root.querySelector("[data-separation-note]");
    this.twoStems = root.querySelector("[data-separation-two-stems]");
    if (this.select) this.select.addEventListener("change", () => this.showNote());
    this.showNote();
  }

  showNote() {
    if (!this.select || !this.note) return;
    const option = this.select.selectedOptions[0];
    this.note.textContent = option ? option.dataset.note || "" : "";
  }

  get engine() {
    return this.select ? this.select.value : "";
  }

  get twoStemsChosen() {
    return Boolean(this.twoStems && this.twoStems.checked);
  }

  set disabled(value) {
    if (this.select) this.select.disabled = value;
    if (this.twoStems) this.twoStems.disabled = value;
  }
}

class SeparateAgain {
  constructor(root) {
    this.root = root;
    this.url = root.dataset.url;
    this.form = root.querySelector("[data-separate-form]");
    this.submit = root.querySelector("[data-separate-submit]");
    this.fields = new SeparationFields(root.querySelector("[data-separation-fields]"));
    this.steps = new StepList(root.querySelector("[data-steps]"), root.querySelector("[data-step-template]"), {
      kinds: ["separate"],
      byKind: true,
    });
    this.status = root.querySelector("[data-separate-status]");
    this.error = root.querySelector("[data-separate-error]");
    this.upgrade = root.querySelector("[data-separate-upgrade]");
    this.jobId = "";
    this.channel = null;
    this.clock = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    if (root.dataset.jobId) this.follow(root.dataset.jobId);
    else this.setState("idle");
  }

  setState(state) {
    this.root.dataset.state = state;
    const busy = state === "sending" || state === "running" || state === "done";
    this.fields.disabled = busy;
    this.submit.disabled = busy;
  }

  async send() {
    if (this.root.dataset.state === "sending" || this.jobId) return;
    showError(this.error, null);
    showUpgrade(this.upgrade, "");
    this.setState("sending");
    this.status.textContent = gettext("Starting the separation…");
    try {
      const project = await apiFetch(this.url, {
        method: "POST",
        json: { engine: this.fields.engine, two_stems: this.fields.twoStemsChosen },
      });
      const job = newestSeparation(project);
      if (!job) throw new Error("no separation job in the answer");
      this.follow(String(job.id), job);
    } catch (error) {
      this.setState("idle");
      this.status.textContent = "";
      showError(this.error, errorMessage(error));
      showUpgrade(this.upgrade, upgradeUrl(error));
    }
  }

  /** Follow job `id` until it is finished (`job`: its row, when the caller has it). */
  follow(id, job = null) {
    this.jobId = id;
    this.setState("running");
    this.status.textContent = gettext("Separating again. The mixer keeps the stems it has until the new ones are ready.");
    this.steps.update(job || { id, kind: "separate", state: "queued", progress: 0, stage: "" });
    this.clock = window.setInterval(() => this.steps.tick(), 1000);
    this.channel = new ProjectChannel({
      wsPath: this.root.dataset.wsPath,
      apiUrl: this.root.dataset.apiUrl,
      onEvent: (event) => this.onEvent(event),
      onSnapshot: (project) => this.onSnapshot(project),
    });
    this.channel.start();
  }

  onEvent(event) {
    if (!event || event.type !== "job.progress" || String(event.job) !== this.jobId) return;
    this.steps.update(event);
    // REST says what the finished job left (its time taken, its reason in full).
    if (FINISHED.has(event.state)) this.channel.refresh();
  }

  onSnapshot(project) {
    const job = (project.jobs || []).find((item) => String(item.id) === this.jobId);
    if (!job) return;
    this.steps.update(job);
    if (job.state === "done") {
      this.stop();
      this.setState("done");
      this.status.textContent = gettext("Separated. Opening the mixer with the new stems…");
      window.location.reload();
    } else if (FINISHED.has(job.state)) {
      this.stop();
      this.jobId = "";
      this.setState("failed");
      this.status.textContent = "";
      showError(
        this.error,
        job.user_error || gettext("The separation did not finish. The song keeps the stems it had."),
      );
    }
  }

  stop() {
    window.clearInterval(this.clock);
    this.clock = null;
    if (this.channel) this.channel.stop();
    this.channel = null;
  }
}

/** The newest separation job of a project as REST has it (jobs come oldest first). */
function newestSeparation(project) {
  const jobs = (project && project.jobs) || [];
  for (let i = jobs.length - 1; i >= 0; i -= 1) if (jobs[i].kind === "separate") return jobs[i];
  return null;
}

for (const root of document.querySelectorAll("[data-separate-again]")) new SeparateAgain(root);
