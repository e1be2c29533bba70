/* SciApps store, the Create page: The page's configuration, shared state, DOM helpers and the datalab document. */
export const app = document.querySelector('[data-sa-app="create"]');
export const V = window.SciAppsVendor;
export const CONFIG = JSON.parse(document.getElementById("sa-create-config").textContent);
export const ROOT = new URL(app.dataset.root || "./", location.href);
export const MIB = 1024 * 1024;
export const LIMITS = CONFIG.limits;
export const ENV_FILES = ["requirements.txt", "apt.txt", "postBuild", "start"];
export const EXECUTABLE = ["postBuild", "start"];
export const PICTURE = /\.(png|jpe?g|webp)$/i; // the pictures the store shows
export const HIDDEN = new Set(["schema_version", "mode", "type", "archived", "changelog", "exceptions"]);
export const TOKEN_KEY = "sciapps.gitlab.token";
export const OAUTH_KEY = "sciapps.gitlab.oauth";
export const LABELS = {
  id: "Identifier", entry: "Opens first", tests: "Test notebooks", data_assets: "Mission data", license: "Licence",
  doi: "DOI", cpu: "CPU cores", memory_gb: "Memory (GiB)", gpu: "GPUs", storage_gb: "Scratch storage (GiB)",
  orcid: "ORCID iD", username: "GitLab username", bibtex: "BibTeX", read_only: "Read-only", text: "Citation",
  icon: "Icon", file: "Picture", email: "E-mail", links: "Links", citation: "Citation",
};
export const ITEM_LABELS = {
  maintainers: "Maintainer", data_assets: "Data collection", screenshots: "Screenshot", keywords: "Keyword",
  parameters: "Parameter", choices: "Choice", authors: "Author", changelog: "Change", exceptions: "Exception", changes: "Change",
};

// The page's own controls: never an element of the preview, which shows what a datalab
// wrote (sanitized, but its names and classes are the datalab's to choose).
export const ours = (node) => (node && !(node.parentElement && node.parentElement.closest(".sa-preview")) ? node : null);
export const $ = (selector, scope = app) => [...scope.querySelectorAll(selector)].find(ours) || null;
export const byId = (id) => ours(document.getElementById(id));
export const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
};
export const mib = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`;
export const size = (bytes) => (bytes < 1024 ? `${bytes} B` : bytes < MIB ? `${(bytes / 1024).toFixed(0)} KiB` : mib(bytes));
export const pathId = (path) => "sa-f-" + (path.join("-") || "root").replace(/[^A-Za-z0-9_-]/g, "_");
export const pointer = (path) => "/" + path.join("/");
export const today = () => new Date().toISOString().slice(0, 10);

/** A rule of `sciapps validate` as reference/rules.json has it (id, name, hint); the id
 * alone until that file has loaded. */
export function rule(id) {
  return (state.rules && state.rules.get(id)) || { id, name: "", hint: "" };
}

/** The type table's entry for a datalab's `type` (an empty one for an unknown type). */
export const typeOf = (doc) => CONFIG.types[doc && doc.type] || { label: String((doc && doc.type) || ""), entry_is_file: false, entry_pattern: "" };

export const state = {
  schema: null,
  validator: null,
  spdx: null,
  doc: null,
  files: [], // {path, blob, url (data: URL of images, for the preview)}
  touched: new Set(),
  showAll: false,
  idEdited: false,
  autoChangelog: true,
  taken: null, // ids in the store (api/catalog.json)
  updating: null, // the id of a datalab loaded to be updated
  rules: null, // the CLI's rules by id (reference/rules.json)
  current: [], // the problems found by the last check
  timer: null, // the pending check
};

// ------------------------------------------------------------ document helpers
export function newDoc() {
  return {
    schema_version: 1, id: "", name: "", summary: "", description: "", version: "0.1.0", mode: "basic", type: Object.keys(CONFIG.types)[0],
    entry: "", missions: [], categories: [], keywords: [], maintainers: [{ name: "", email: "", username: "" }],
    license: "BSD-3-Clause", resources: { cpu: 1, memory_gb: 2 }, status: "published", visibility: "public",
  };
}

export function getAt(path, doc = state.doc) {
  let node = doc;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[part];
  }
  return node;
}

export function setAt(path, value) {
  let node = state.doc;
  for (let i = 0; i < path.length - 1; i++) {
    if (node[path[i]] === null || typeof node[path[i]] !== "object") node[path[i]] = typeof path[i + 1] === "number" ? [] : {};
    node = node[path[i]];
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(node)) node[last] = "";
    else delete node[last];
  } else node[last] = value;
}

/** The document as it will be written: empty strings and empty optional objects left out. */
export function output() {
  const isEmptyGroup = (c) => c && typeof c === "object" && !Array.isArray(c) && !(c instanceof Date) && !Object.keys(c).length;
  const clean = (value) => {
    if (Array.isArray(value)) return value.map((v) => clean(v)).map((v) => (v === undefined ? "" : v));
    if (value && typeof value === "object" && !(value instanceof Date)) {
      const out = {};
      for (const [key, v] of Object.entries(value)) {
        const c = clean(v);
        if (c !== undefined && !isEmptyGroup(c)) out[key] = c;
      }
      return out;
    }
    if (typeof value === "string" && value.trim() === "") return undefined;
    return value;
  };
  const doc = clean(state.doc);
  const order = Object.keys(state.schema.properties);
  const sorted = {};
  for (const key of order) if (key in doc) sorted[key] = doc[key];
  for (const key of Object.keys(doc)) if (!(key in sorted)) sorted[key] = doc[key];
  return sorted;
}

export function syncChangelog() {
  const doc = state.doc;
  if (!doc.version) return;
  if (!Array.isArray(doc.changelog) || !doc.changelog.length) {
    doc.changelog = [{ version: doc.version, date: today(), changes: ["First version"] }];
    state.autoChangelog = true;
  } else if (doc.changelog[0] && doc.changelog[0].version !== doc.version) {
    if (state.autoChangelog) doc.changelog[0].version = doc.version;
    else {
      doc.changelog.unshift({ version: doc.version, date: today(), changes: ["New version"] });
      state.autoChangelog = true;
    }
  }
}

export function yamlText(doc) {
  const body = V.yaml.dump(doc, { lineWidth: 100, noRefs: true });
  const schemaUrl = state.schema.$id;
  return `# yaml-language-server: $schema=${schemaUrl}\n# Written by the SciApps store's Create page; every field is described in the datalab.yaml reference.\n${body}`;
}

/** After every change of the document or the files: `changed(structural)` tells whoever
 * listens (main.js wires the re-render and the checks), so no module needs the others'. */
const listeners = [];
export function onChange(listener) {
  listeners.push(listener);
}
export function changed(structural, focusId) {
  for (const listener of listeners) listener(structural, focusId);
}

export function label(key) {
  if (LABELS[key]) return LABELS[key];
  return String(key).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export function enumNames(values) {
  const same = (vocab) => values.every((v) => v in vocab);
  if (same(CONFIG.missions)) return CONFIG.missions;
  if (same(CONFIG.categories)) return CONFIG.categories;
  return null;
}

export function branchName(doc) {
  return `datalab/${doc.id}-${doc.version}`.replace(/[^A-Za-z0-9._/-]+/g, "-");
}
