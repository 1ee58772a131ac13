/**
 * The style library's upload box: several sounds at once, by drag and drop or the file picker.
 *
 * Markup (templates/styles/library.html):
 *   [data-style-upload]   root; data-upload-url (the style API), data-files-max (files a
 *                         request), data-max-bytes (a file's largest size, bytes as the server
 *                         counts them; shown in MB of 10^6 bytes), data-request-max-bytes (all
 *                         of them together), data-max-duration-s (a sound's longest length:
 *                         checked by the server, which names the file). data-state is written
 *                         here: idle | uploading | checking | done | error
 *   [data-style-zone]     the drop target (a <label> for the input)
 *   [data-style-input]    <input type="file" multiple>
 *   [data-style-progress] [data-style-bar] <progress>, [data-style-percent], [data-style-summary],
 *                         [data-style-message] (role="status")
 *   [data-style-error]    role="alert": why nothing was uploaded
 *   [data-style-files]    <ul>: the files of the last drop, one <li data-file-name> each, with
 *                         data-state ok | refused | uploaded and, when refused, the reason
 *   [data-style-upgrade]  "Upgrade to Pro" link in a [data-upgrade-row], shown beside a 402
 *
 * A drop is sent whole or not at all, as the API takes it: a file the page can tell is wrong
 * (empty, too large, not audio, one too many) is named with the reason and nothing is sent;
 * a file the server refuses (its length, its content) is named from the answer's
 * `extra.file`. `onUploaded(styles)` gets the API's `results` (the new sounds, pending).
 */

import { errorMessage, showError, uploadForm } from "../api.js";
import { gettext, interpolate, ngettext, pageLocale } from "../i18n.js";
import { showUpgrade, upgradeUrl } from "../upgrade.js";

/** The server's MB (decimal, as its messages say). */
const BYTES_PER_MB = 1_000_000;

function megabytes(bytes, { up = false } = {}) {
  const tenths = (up ? Math.ceil : Math.round)((bytes / BYTES_PER_MB) * 10) / 10;
  return new Intl.NumberFormat(pageLocale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(tenths);
}

function hasFiles(event) {
  return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).includes("Files");
}

export class StyleUpload {
  /**
   * @param {HTMLElement} root
   * @param {{onUploaded: (styles: object[]) => void}} options
   */
  constructor(root, { onUploaded }) {
    this.root = root;
    this.onUploaded = onUploaded;
    this.url = root.dataset.uploadUrl;
    this.filesMax = Number.parseInt(root.dataset.filesMax || "0", 10) || 0;
    this.maxBytes = Number.parseInt(root.dataset.maxBytes || "0", 10) || 0;
    this.requestMaxBytes = Number.parseInt(root.dataset.requestMaxBytes || "0", 10) || 0;
    this.zone = root.querySelector("[data-style-zone]");
    this.input = root.querySelector("[data-style-input]");
    this.progress = root.querySelector("[data-style-progress]");
    this.bar = root.querySelector("[data-style-bar]");
    this.percent = root.querySelector("[data-style-percent]");
    this.summary = root.querySelector("[data-style-summary]");
    this.message = root.querySelector("[data-style-message]");
    this.error = root.querySelector("[data-style-error]");
    this.fileList = root.querySelector("[data-style-files]");
    this.upgrade = root.querySelector("[data-style-upgrade]");
    this.accepted = (this.input.getAttribute("accept") || "")
      .split(",")
      .map((item) => item.trim().toLowerCase())
      .filter(Boolean);
    this.busy = false;

    this.input.addEventListener("change", () => {
      if (this.input.files.length) this.start([...this.input.files]);
    });
    for (const type of ["dragenter", "dragover"]) this.zone.addEventListener(type, (event) => this.onDragOver(event));
    this.zone.addEventListener("dragleave", (event) => {
      if (!this.zone.contains(event.relatedTarget)) this.zone.classList.remove("is-dragover");
    });
    this.zone.addEventListener("drop", (event) => this.onDrop(event));
    // Files dropped beside the zone must not make the browser navigate away to them.
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (event) => {
        if (hasFiles(event) && !this.zone.contains(event.target)) event.preventDefault();
      });
    }
    this.setState("idle");
  }

  onDragOver(event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = this.busy ? "none" : "copy";
    if (!this.busy) this.zone.classList.add("is-dragover");
  }

  onDrop(event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    this.zone.classList.remove("is-dragover");
    if (!this.busy) this.start([...event.dataTransfer.files]);
  }

  setState(state) {
    this.root.dataset.state = state;
    this.zone.setAttribute("aria-disabled", String(this.busy));
    this.input.disabled = this.busy;
  }

  isAccepted(file) {
    if (!this.accepted.length) return true;
    const name = file.name.toLowerCase();
    const type = (file.type || "").toLowerCase();
    return this.accepted.some((item) => {
      if (item.startsWith(".")) return name.endsWith(item);
      if (item.endsWith("/*")) return type.startsWith(item.slice(0, -1));
      return type === item;
    });
  }

  /** What is wrong with one file, in plain words, or "" (the server checks it again). */
  refuse(file) {
    if (file.size === 0) return gettext("The file is empty.");
    if (this.maxBytes && file.size > this.maxBytes) {
      return interpolate(
        gettext("It is %(size)s MB; a sound may be up to %(limit)s MB."),
        { size: megabytes(file.size, { up: true }), limit: new Intl.NumberFormat(pageLocale()).format(Math.floor(this.maxBytes / BYTES_PER_MB)) },
        true,
      );
    }
    if (!this.isAccepted(file)) return gettext("It does not look like an audio file (MP3, WAV, FLAC, M4A, AAC or OGG).");
    return "";
  }

  async start(files) {
    if (this.busy || !files.length) return;
    showError(this.error, null);
    showUpgrade(this.upgrade, "");
    const problems = files.map((file) => this.refuse(file));
    if (this.filesMax && files.length > this.filesMax) {
      this.showFiles(files, problems);
      this.fail(
        interpolate(
          gettext("You chose %(count)s files; up to %(max)s can go at once. Nothing was uploaded."),
          { count: files.length, max: this.filesMax },
          true,
        ),
      );
      return;
    }
    const total = files.reduce((sum, file) => sum + file.size, 0);
    if (problems.some(Boolean)) {
      this.showFiles(files, problems);
      this.fail(
        ngettext(
          "Nothing was uploaded: the file marked below cannot be used. Leave it out and drop the others again.",
          "Nothing was uploaded: the files marked below cannot be used. Leave them out and drop the others again.",
          problems.filter(Boolean).length,
        ),
      );
      return;
    }
    if (this.requestMaxBytes && total > this.requestMaxBytes) {
      this.showFiles(files, problems);
      this.fail(
        interpolate(
          gettext("Together these are %(size)s MB; up to %(limit)s MB can go at once. Drop fewer at a time."),
          { size: megabytes(total, { up: true }), limit: new Intl.NumberFormat(pageLocale()).format(Math.floor(this.requestMaxBytes / BYTES_PER_MB)) },
          true,
        ),
      );
      return;
    }

    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    this.showFiles(files, problems);
    this.busy = true;
    this.setState("uploading");
    this.progress.hidden = false;
    this.summary.textContent = interpolate(
      ngettext("%(count)s sound", "%(count)s sounds", files.length),
      { count: files.length },
      true,
    );
    this.showProgress(0);
    this.message.textContent = gettext("Uploading…");
    try {
      const answer = await uploadForm(this.url, form, {
        onProgress: (fraction) => {
          this.showProgress(fraction);
          if (fraction >= 1) {
            this.setState("checking");
            this.message.textContent = gettext("Checking the audio…");
          }
        },
      });
      const styles = (answer && Array.isArray(answer.results) && answer.results) || [];
      this.busy = false;
      this.showProgress(1);
      this.setState("done");
      this.message.textContent = interpolate(
        ngettext(
          "Uploaded %(count)s sound. Its grains are being made…",
          "Uploaded %(count)s sounds. Their grains are being made…",
          styles.length || files.length,
        ),
        { count: styles.length || files.length },
        true,
      );
      for (const item of this.fileList.children) this.markFile(item, "uploaded", "");
      this.onUploaded(styles);
    } catch (error) {
      this.busy = false;
      this.progress.hidden = true;
      const named = error && error.extra && typeof error.extra.file === "string" ? error.extra.file : "";
      if (named) {
        for (const item of this.fileList.children) {
          if (item.dataset.fileName === named) this.markFile(item, "refused", errorMessage(error));
        }
      }
      this.fail(
        named
          ? interpolate(gettext("Nothing was uploaded: %(message)s"), { message: errorMessage(error) }, true)
          : errorMessage(error),
        upgradeUrl(error),
      );
    } finally {
      this.input.value = "";
    }
  }

  fail(message, upgrade = "") {
    this.setState("error");
    this.input.value = "";
    showError(this.error, message);
    showUpgrade(this.upgrade, upgrade);
  }

  /** The chosen files, each with its problem (or none yet). */
  showFiles(files, problems) {
    const items = files.map((file, index) => {
      const item = document.createElement("li");
      item.className = "style-file-item";
      item.dataset.fileName = file.name;
      item.dataset.testid = "style-file";
      const name = document.createElement("span");
      name.className = "style-file-name";
      name.textContent = file.name;
      const note = document.createElement("span");
      note.className = "style-file-note";
      note.dataset.fileNote = "";
      item.append(name, note);
      this.markFile(item, problems[index] ? "refused" : "ok", problems[index] || "");
      return item;
    });
    this.fileList.replaceChildren(...items);
    this.fileList.hidden = !items.length;
  }

  markFile(item, state, reason) {
    item.dataset.state = state;
    const note = item.querySelector("[data-file-note]");
    const texts = { ok: "", uploaded: gettext("Uploaded"), refused: reason };
    note.textContent = texts[state] ?? "";
  }

  showProgress(fraction) {
    const percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    this.bar.value = percent;
    this.percent.textContent = new Intl.NumberFormat(pageLocale(), { style: "percent" }).format(percent / 100);
  }
}
