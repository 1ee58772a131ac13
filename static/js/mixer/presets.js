/**
 * Named mix presets of a project, and the mixer's reset button.
 *
 * REST (the contract's, all the owner's own):
 *   GET    <presets url>  → 200 `{"results": [{"id", "name", "settings", "created_at",
 *                           "updated_at"}]}`, newest first (at most 50 per project)
 *   POST   <presets url>  `{"name", "settings"}` → 201 the preset; 200 when a preset of that
 *                           name was overwritten; 400 `preset_limit` past the limit
 *   DELETE /api/v1/presets/<id>/ → 204
 * `settings` are mix settings as the export API takes them (see mix-store.js).
 *
 * Markup (templates/projects/_presets.html), root `[data-presets]` with:
 *   data-presets-url          the project's presets URL ("/api/v1/projects/<id>/presets/")
 *   data-preset-url-template  one preset's URL, containing `{id}` ("/api/v1/presets/{id}/")
 *   data-state                written here: loading | ready | error (the list could not be read)
 * Inside:
 *   [data-preset-select]              <select> of the presets (value = preset id; "" = none)
 *   [data-preset-action=load]         applies the chosen preset (disabled when none is chosen)
 *   [data-preset-action=delete]       deletes it, after a confirm
 *   [data-preset-action=save-as]      opens [data-preset-form] (aria-expanded)
 *   [data-preset-form]                <form> with input[name=name] (1..80 characters, trimmed);
 *                                     Enter saves, Escape or [data-preset-action=cancel] closes
 *   [data-preset-action=reset]        "Reset mixer": calls `onReset`
 *   [data-presets-status]             role="status": what was just done
 *   [data-presets-error]              role="alert": an API error, shown with api.js showError
 *
 * Options: `getSettings()` → the mixer's settings now (what "Save as…" stores);
 * `applySettings(settings)` puts a preset's settings on the mixer (may return a Promise);
 * `onReset()` returns the mixer to its defaults and forgets the saved state (may return a
 * Promise; main.js resets the graph and the MixStore DELETEs).
 * `panel.loaded` is a Promise resolved once the first list read has finished.
 */

import { apiFetch, showError } from "../api.js";
import { gettext, interpolate } from "../i18n.js";

/** The API's limit on a preset name (trimmed). */
const NAME_MAX_LENGTH = 80;

export class PresetsPanel {
  /**
   * @param {HTMLElement} element  the [data-presets] root
   * @param {{url?: string, presetUrlTemplate?: string, getSettings: () => object,
   *   applySettings: (settings: object) => (void|Promise<void>),
   *   onReset: () => (void|Promise<void>)}} options
   *   url defaults to the root's data-presets-url, presetUrlTemplate to its data-preset-url-template
   */
  constructor(element, { url, presetUrlTemplate, getSettings, applySettings, onReset }) {
    this.element = element;
    this.url = url || element.dataset.presetsUrl;
    this.presetUrlTemplate = presetUrlTemplate || element.dataset.presetUrlTemplate || "/api/v1/presets/{id}/";
    this.getSettings = getSettings;
    this.applySettings = applySettings;
    this.onReset = onReset;
    this.select = element.querySelector("[data-preset-select]");
    this.loadButton = element.querySelector('[data-preset-action="load"]');
    this.deleteButton = element.querySelector('[data-preset-action="delete"]');
    this.saveAsButton = element.querySelector('[data-preset-action="save-as"]');
    this.resetButton = element.querySelector('[data-preset-action="reset"]');
    this.form = element.querySelector("[data-preset-form]");
    this.nameInput = this.form ? this.form.elements.name : null;
    this.status = element.querySelector("[data-presets-status]");
    this.error = element.querySelector("[data-presets-error]");
    /** @type {Map<string, object>} preset id → preset, newest first */
    this.presets = new Map();
    this.busy = false;

    this.select.addEventListener("change", () => this.showChoice());
    this.loadButton.addEventListener("click", () => this.loadChosen());
    this.deleteButton.addEventListener("click", () => this.deleteChosen());
    this.saveAsButton.addEventListener("click", () => this.openForm(this.form.hidden));
    this.resetButton.addEventListener("click", () => this.reset());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    this.form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.openForm(false);
      }
    });
    const cancel = this.form.querySelector('[data-preset-action="cancel"]');
    if (cancel) cancel.addEventListener("click", () => this.openForm(false));

    this.element.dataset.state = "loading";
    this.showChoice();
    this.loaded = this.refresh();
  }

  /** Read the project's presets; keeps `selectId` chosen when given (else the current choice). */
  async refresh(selectId = this.select.value) {
    let answer;
    try {
      answer = await apiFetch(this.url);
    } catch (error) {
      this.element.dataset.state = "error";
      showError(this.error, error);
      return;
    }
    this.presets = new Map((answer.results || []).map((preset) => [String(preset.id), preset]));
    this.renderOptions(selectId);
    this.element.dataset.state = "ready";
  }

  renderOptions(selectId) {
    const placeholder = document.createElement("option");
    placeholder.value = "";
    placeholder.textContent = this.presets.size ? gettext("Choose a preset…") : gettext("No presets yet");
    const options = [placeholder];
    for (const [id, preset] of this.presets) {
      const option = document.createElement("option");
      option.value = id;
      option.textContent = preset.name;
      options.push(option);
    }
    this.select.replaceChildren(...options);
    this.select.value = this.presets.has(String(selectId)) ? String(selectId) : "";
    this.select.disabled = this.presets.size === 0;
    this.showChoice();
  }

  chosen() {
    return this.presets.get(this.select.value) || null;
  }

  showChoice() {
    const none = !this.chosen() || this.busy;
    this.loadButton.disabled = none;
    this.deleteButton.disabled = none;
  }

  openForm(open) {
    this.form.hidden = !open;
    this.saveAsButton.setAttribute("aria-expanded", String(open));
    if (open) {
      const current = this.chosen();
      if (current && !this.nameInput.value) this.nameInput.value = current.name;
      this.nameInput.focus();
      this.nameInput.select();
    } else {
      this.saveAsButton.focus();
    }
  }

  async save() {
    const name = this.nameInput.value.trim();
    if (!name) {
      showError(this.error, gettext("Give the preset a name."));
      this.nameInput.focus();
      return;
    }
    if (name.length > NAME_MAX_LENGTH) {
      showError(
        this.error,
        interpolate(gettext("A preset name has at most %(max)s characters."), { max: NAME_MAX_LENGTH }, true),
      );
      this.nameInput.focus();
      return;
    }
    const existed = [...this.presets.values()].some((preset) => preset.name === name);
    const saved = await this.run(() =>
      apiFetch(this.url, { method: "POST", json: { name, settings: this.getSettings() } }),
    );
    if (!saved) return;
    this.nameInput.value = "";
    this.openForm(false);
    await this.refresh(saved.id);
    const text = existed ? gettext("Preset “%(name)s” updated.") : gettext("Preset “%(name)s” saved.");
    this.say(interpolate(text, { name: saved.name }, true));
  }

  async loadChosen() {
    const preset = this.chosen();
    if (!preset) return;
    const done = await this.run(async () => {
      await this.applySettings(structuredClone(preset.settings));
      return true;
    });
    if (done) this.say(interpolate(gettext("Preset “%(name)s” loaded."), { name: preset.name }, true));
  }

  async deleteChosen() {
    const preset = this.chosen();
    if (!preset) return;
    if (!window.confirm(interpolate(gettext("Delete the preset “%(name)s”?"), { name: preset.name }, true))) return;
    const url = this.presetUrlTemplate.replace("{id}", encodeURIComponent(preset.id));
    const done = await this.run(async () => {
      await apiFetch(url, { method: "DELETE" });
      return true;
    });
    if (!done) return;
    await this.refresh("");
    this.say(interpolate(gettext("Preset “%(name)s” deleted."), { name: preset.name }, true));
  }

  async reset() {
    const done = await this.run(async () => {
      await this.onReset();
      return true;
    }, this.resetButton);
    if (done) this.say(gettext("Mixer reset to its defaults."));
  }

  /** Run one action with the panel's buttons disabled; its error is shown. Returns its value or null. */
  async run(action, extraButton = null) {
    if (this.busy) return null;
    this.busy = true;
    this.showChoice();
    this.saveAsButton.disabled = true;
    if (extraButton) extraButton.disabled = true;
    showError(this.error, null);
    this.say("");
    try {
      return await action();
    } catch (error) {
      showError(this.error, error);
      return null;
    } finally {
      this.busy = false;
      this.saveAsButton.disabled = false;
      if (extraButton) extraButton.disabled = false;
      this.showChoice();
    }
  }

  say(text) {
    if (this.status) this.status.textContent = text;
  }
}
