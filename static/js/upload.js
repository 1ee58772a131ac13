/**
 * The library's upload zone: drag-and-drop or file picker, upload with progress, then
 * open the new project's page.
 *
 * Markup (templates/projects/library.html):
 *   [data-upload]            root; data-upload-url, data-detail-url-template (a project URL
 *                            with the all-zero UUID), data-max-upload-bytes (the plan's
 *                            limit in bytes, exactly as the server applies it; shown in MB of
 *                            10^6 bytes, as the server's own message does); the plan's
 *                            allowances left (application/pages/library.py): data-uploads-left,
 *                            data-separation-seconds-left; data-blocked="true" when one is used
 *                            up (the server then renders [data-upload-limit] with its message
 *                            and the upgrade button, and the zone disabled: it stays so);
 *                            data-upgrade-url: the pricing page, "" on a paid plan (nothing to
 *                            upgrade to). data-state is written here:
 *                            idle | uploading | checking | done | error | blocked
 *   [data-upload-zone]       the drop target (a <label> for the file input)
 *   [data-upload-input]      <input type="file">; choosing a file starts the upload
 *   [data-upload-name]       optional project name
 *   [data-separation-fields] the separation choice (templates/projects/_separation_fields.html,
 *                            read through separation.js): sent as `engine` (an engine name; the
 *                            server's default is preselected) and `two_stems` ("true"/"false");
 *                            a refusal of the pick (`engine_unavailable`, `plan_required`) is
 *                            shown as any other
 *   [data-upload-types]      filled with the accepted extensions, from the input's accept
 *   [data-upload-progress]   progress block: [data-upload-bar] <progress>,
 *                            [data-upload-percent], [data-upload-filename], [data-upload-message]
 *   [data-upload-error]      role="alert": the API's message when the upload is refused
 *   [data-upload-upgrade]    "Upgrade to Pro" link in a [data-upgrade-row], shown beside a
 *                            refusal of the plan: the API's 402 (`quota_exceeded`: today's
 *                            uploads or the month's separation minutes used; `plan_required`),
 *                            pointed at its `extra.upgrade_url`, or a file over the plan's size,
 *                            refused here before it is sent
 */

import { errorMessage, showError, uploadForm } from "./api.js";
import { gettext, interpolate, pageLocale } from "./i18n.js";
import { SeparationFields } from "./separation.js";
import { showUpgrade, upgradeUrl } from "./upgrade.js";

const ZERO_UUID = "00000000-0000-0000-0000-000000000000";
/** The server's MB (application/api/uploads.py `too_large`): decimal, not MiB. */
const BYTES_PER_MB = 1_000_000;

class UploadZone {
  constructor(root) {
    this.root = root;
    this.url = root.dataset.uploadUrl;
    this.detailTemplate = root.dataset.detailUrlTemplate;
    this.maxBytes = Number.parseInt(root.dataset.maxUploadBytes || "0", 10) || 0;
    this.upgradeTo = root.dataset.upgradeUrl || "";
    this.blocked = root.dataset.blocked === "true";
    this.zone = root.querySelector("[data-upload-zone]");
    this.input = root.querySelector("[data-upload-input]");
    this.nameInput = root.querySelector("[data-upload-name]");
    const fields = root.querySelector("[data-separation-fields]");
    this.separation = fields ? new SeparationFields(fields) : null;
    this.progress = root.querySelector("[data-upload-progress]");
    this.bar = root.querySelector("[data-upload-bar]");
    this.percent = root.querySelector("[data-upload-percent]");
    this.filename = root.querySelector("[data-upload-filename]");
    this.message = root.querySelector("[data-upload-message]");
    this.error = root.querySelector("[data-upload-error]");
    this.upgrade = root.querySelector("[data-upload-upgrade]");
    this.accepted = (this.input.getAttribute("accept") || "")
      .split(",")
      .map((item) => item.trim().toLowerCase())
      .filter(Boolean);
    this.busy = false;

    this.describeTypes(root.querySelector("[data-upload-types]"));
    this.input.addEventListener("change", () => {
      if (this.input.files.length) this.start(this.input.files);
    });
    for (const type of ["dragenter", "dragover"]) {
      this.zone.addEventListener(type, (event) => this.onDragOver(event));
    }
    this.zone.addEventListener("dragleave", (event) => {
      if (!this.zone.contains(event.relatedTarget)) this.zone.classList.remove("is-dragover");
    });
    this.zone.addEventListener("drop", (event) => this.onDrop(event));
    // A file dropped beside the zone must not make the browser navigate away to it.
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (event) => {
        if (hasFiles(event) && !this.zone.contains(event.target)) event.preventDefault();
      });
    }
    this.setState(this.blocked ? "blocked" : "idle");
  }

  describeTypes(element) {
    const extensions = this.accepted.filter((item) => item.startsWith(".")).map((item) => item.slice(1).toUpperCase());
    if (element && extensions.length) element.textContent = extensions.join(", ");
  }

  onDragOver(event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    const closed = this.busy || this.blocked;
    event.dataTransfer.dropEffect = closed ? "none" : "copy";
    if (!closed) this.zone.classList.add("is-dragover");
  }

  onDrop(event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    this.zone.classList.remove("is-dragover");
    if (!this.busy && !this.blocked) this.start(event.dataTransfer.files);
  }

  setState(state) {
    const closed = this.busy || this.blocked;
    this.root.dataset.state = state;
    this.zone.setAttribute("aria-disabled", String(closed));
    this.input.disabled = closed;
    if (this.nameInput) this.nameInput.disabled = closed;
    if (this.separation) this.separation.disabled = closed;
  }

  /** Show a refusal; `upgrade` (a URL, "" for none) adds the way up beside it, on a free plan. */
  refuseWith(message, upgrade = "") {
    showError(this.error, message);
    showUpgrade(this.upgrade, this.upgradeTo ? upgrade : "");
  }

  /** Why this file cannot be uploaded, or "" when it may be sent. The server checks again. */
  refuse(file) {
    if (this.maxBytes && file.size > this.maxBytes) {
      // The limit as the server words it (whole MB, rounded down); the size rounded up to a
      // tenth, so a file just over the limit never reads as equal to it.
      const limit = Math.floor(this.maxBytes / BYTES_PER_MB);
      const tenths = Math.ceil((file.size / BYTES_PER_MB) * 10) / 10;
      const size = new Intl.NumberFormat(pageLocale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(tenths);
      return interpolate(
        gettext("“%(name)s” is %(size)s MB; the limit is %(limit)s MB."),
        { name: file.name, size, limit: new Intl.NumberFormat(pageLocale()).format(limit) },
        true,
      );
    }
    if (file.size === 0) return interpolate(gettext("“%(name)s” is empty."), { name: file.name }, true);
    if (this.accepted.length && !this.isAccepted(file)) {
      return interpolate(
        gettext("“%(name)s” does not look like an audio file. Choose an MP3, WAV, FLAC, M4A, AAC or OGG file."),
        { name: file.name },
        true,
      );
    }
    return "";
  }

  isAccepted(file) {
    const name = file.name.toLowerCase();
    const type = (file.type || "").toLowerCase();
    return this.accepted.some((item) => {
      if (item.startsWith(".")) return name.endsWith(item);
      if (item.endsWith("/*")) return type.startsWith(item.slice(0, -1));
      return type === item;
    });
  }

  async start(files) {
    this.refuseWith(null);
    if (this.blocked) return;
    if (files.length !== 1) {
      this.refuseWith(gettext("Drop one file at a time."));
      return;
    }
    const file = files[0];
    const refusal = this.refuse(file);
    if (refusal) {
      // Over the plan's size: a bigger plan takes it.
      this.refuseWith(refusal, this.maxBytes && file.size > this.maxBytes ? this.upgradeTo : "");
      this.setState("error");
      this.input.value = "";
      return;
    }

    const form = new FormData();
    form.append("file", file, file.name);
    const name = this.nameInput ? this.nameInput.value.trim() : "";
    if (name) form.append("name", name);
    if (this.separation) {
      if (this.separation.engine) form.append("engine", this.separation.engine);
      form.append("two_stems", this.separation.twoStemsChosen ? "true" : "false");
    }

    this.busy = true;
    this.setState("uploading");
    this.progress.hidden = false;
    this.filename.textContent = file.name;
    this.showProgress(0);
    this.message.textContent = gettext("Uploading…");
    try {
      const project = await uploadForm(this.url, form, {
        onProgress: (fraction) => {
          this.showProgress(fraction);
          if (fraction >= 1) {
            this.setState("checking");
            this.message.textContent = gettext("Checking the audio…");
          }
        },
      });
      this.showProgress(1);
      this.setState("done");
      this.message.textContent = gettext("Uploaded. Opening the project…");
      window.location.assign(this.detailTemplate.replace(ZERO_UUID, project.id));
    } catch (error) {
      this.busy = false;
      // Today's uploads used (another tab, another device): no file is taken until tomorrow.
      if (error && error.code === "quota_exceeded" && error.extra && error.extra.metric === "uploads") {
        this.blocked = true;
      }
      this.setState(this.blocked ? "blocked" : "error");
      this.progress.hidden = true;
      this.input.value = "";
      this.refuseWith(errorMessage(error), upgradeUrl(error));
    }
  }

  showProgress(fraction) {
    const percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    this.bar.value = percent;
    this.percent.textContent = new Intl.NumberFormat(pageLocale(), { style: "percent" }).format(percent / 100);
  }
}

function hasFiles(event) {
  return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).includes("Files");
}

for (const root of document.querySelectorAll("[data-upload]")) new UploadZone(root);
