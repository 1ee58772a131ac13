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
