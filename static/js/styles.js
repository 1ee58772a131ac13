/**
 * The style library page (templates/styles/library.html): the upload box (styles/upload.js)
 * hands the sounds it sent to the list (styles/list.js), which follows their grain jobs and
 * plots their grains (styles/scatter.js).
 */

import { StyleList } from "./styles/list.js";
import { StyleUpload } from "./styles/upload.js";

const listRoot = document.querySelector("[data-styles]");
const list = listRoot ? new StyleList(listRoot) : null;
const uploadRoot = document.querySelector("[data-style-upload]");
if (uploadRoot) new StyleUpload(uploadRoot, { onUploaded: (styles) => list?.add(styles) });
