// The browser libraries of the store's Create page, exposed as window.SciAppsVendor.
// @cfworker/json-schema validates without eval/new Function, so the store's CSP stays strict
// (Ajv compiles schemas to code at run time, which the CSP forbids).
import { Validator } from "@cfworker/json-schema";
import DOMPurify from "dompurify";
import { strToU8, zipSync, unzipSync, strFromU8 } from "fflate";
import { dump, load } from "js-yaml";
import { marked } from "marked";

window.SciAppsVendor = {
  Validator,
  DOMPurify,
  zip: { strToU8, strFromU8, zipSync, unzipSync },
  yaml: { dump, load },
  marked,
};
