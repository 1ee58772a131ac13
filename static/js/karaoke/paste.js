/**
 * The lyrics paste form: the user's words (typed, pasted, or read from a .txt / .lrc file in the
 * browser), their language, and "Align to the song" → PUT, which starts a job that times them
 * to the audio (202). "Transcribe again" PUTs no text: the job listens to the song again.
 *
 * Markup (templates/projects/_karaoke.html), form[data-karaoke-paste] with:
 *   textarea[data-karaoke-text], select[data-karaoke-language] ("" | "en" | "pt"),
 *   input[type=file][data-karaoke-file], [data-karaoke-paste-error] (role=alert),
 *   a[data-karaoke-upgrade] in a [data-upgrade-row] (upgrade.js: shown for a 402),
 *   the submit button, and [data-action=transcribe].
 * A file's text replaces the textarea's, and its name goes with the PUT (`filename`: the server
 * strips an LRC's time tags); typing afterwards keeps it, since the tags are still there.
 */

import { errorMessage, showError } from "../api.js";
import { gettext, interpolate } from "../i18n.js";
import { showUpgrade, upgradeUrl } from "../upgrade.js";
import { lyricsAlign } from "./lyrics-api.js";

/** The largest lyrics file read (bytes): a song's lyrics are a few kB; this is far more. */
export const FILE_BYTES_MAX = 200 * 1024;
const FILE_EXTENSIONS = [".txt", ".lrc"];

export class PasteForm {
  /**
   * @param {HTMLFormElement} form
   * @param {{url: string, onStarted: (body: object) => void}} options  onStarted: the PUT's 202 body
   */
  constructor(form, { url, onStarted }) {
    this.form = form;
    this.url = url;
    this.onStarted = onStarted;
    this.text = form.querySelector("[data-karaoke-text]");
    this.language = form.querySelector("[data-karaoke-language]");
    this.file = form.querySelector("[data-karaoke-file]");
    this.error = form.querySelector("[data-karaoke-paste-error]");
    this.upgrade = form.querySelector("[data-karaoke-upgrade]");
    this.buttons = [...form.querySelectorAll("button")];
    this.filename = "";
    this.busy = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(this.text.value);
    });
    const transcribe = form.querySelector('[data-action="transcribe"]');
    transcribe?.addEventListener("click", () => this.submit("", { transcribe: true }));
    this.file.addEventListener("change", () => this.readFile());
  }

  /** Show the lyrics' language as the form's choice (the song's, once known). */
  setLanguage(language) {
    if ([...this.language.options].some((option) => option.value === language)) this.language.value = language;
  }

  showError(message, error = null) {
    showError(this.error, message);
    showUpgrade(this.upgrade, error ? upgradeUrl(error) : "");
  }

  readFile() {
    const file = this.file.files && this.file.files[0];
    this.showError(null);
    if (!file) return;
    const name = file.name || "";
    if (!FILE_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext))) {
      this.showError(gettext("Choose a .txt or .lrc file."));
      this.file.value = "";
      return;
    }
    if (file.size > FILE_BYTES_MAX) {
      this.showError(
        interpolate(
          gettext("“%(name)s” is too large for lyrics: the file may be at most %(max)s KB."),
          { name, max: FILE_BYTES_MAX / 1024 },
          true,
        ),
      );
      this.file.value = "";
      return;
    }
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      this.text.value = String(reader.result || "");
      this.filename = name;
      this.text.focus();
    });
    reader.addEventListener("error", () => this.showError(gettext("The file could not be read.")));
    reader.readAsText(file);
  }

  async submit(text, { transcribe = false } = {}) {
    if (this.busy) return;
    if (!transcribe && !text.trim()) {
      this.showError(gettext("Paste the lyrics first, or choose a file."));
      this.text.focus();
      return;
    }
    this.showError(null);
    this.setBusy(true);
    try {
      const body = await lyricsAlign(this.url, {
        text: transcribe ? "" : text,
        language: this.language.value,
        filename: transcribe ? "" : this.filename,
      });
      this.onStarted(body);
    } catch (error) {
      this.showError(errorMessage(error), error);
    } finally {
      this.setBusy(false);
    }
  }

  setBusy(busy) {
    this.busy = busy;
    this.form.setAttribute("aria-busy", String(busy));
    for (const button of this.buttons) button.disabled = busy;
  }
}
