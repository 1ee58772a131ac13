/**
 * Words for the states the server sends, shared by the library and the project page; the
 * same words as the models' choices (domain/models.py), which the server renders.
 */

import { gettext } from "./i18n.js";

/** A project's `status` (Project.Status). */
export const PROJECT_STATUS_LABELS = {
  pending: gettext("Pending"),
  processing: gettext("Processing"),
  ready: gettext("Ready"),
  failed: gettext("Failed"),
};

/** A job's `state` (Job.State). */
export const JOB_STATE_LABELS = {
  queued: gettext("Queued"),
  running: gettext("Running"),
  done: gettext("Done"),
  failed: gettext("Failed"),
  cancelled: gettext("Cancelled"),
};

/** A job's `kind` (Job.Kind). */
export const JOB_KIND_LABELS = {
  separate: gettext("Separate stems"),
  analyse: gettext("Analyse beats and key"),
  lyrics: gettext("Lyrics"),
  export: gettext("Export mix"),
  style: gettext("Grain library"),
  remix: gettext("Remix"),
};

/** A style sound's `status` (StyleSound.Status). */
export const STYLE_STATUS_LABELS = {
  pending: gettext("Pending"),
  ready: gettext("Ready"),
  failed: gettext("Failed"),
};
