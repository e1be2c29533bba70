/* SciApps store: the Create page.
 *
 * The metadata form is generated from the published schema (schemas/datalab.schema.json,
 * the file `sciapps validate` uses) and checked with @cfworker/json-schema, which needs no
 * eval, so the page keeps the store's strict CSP. Files are checked against the limits of
 * sciapps.yaml as they are added. The draft (metadata and files) is kept in IndexedDB, so
 * a reload, a failed submission or the round trip to GitLab's sign-in loses nothing.
 * Two ways out: a .zip of the datalab's folder, or a merge request opened with GitLab's
 * REST API (one commit with every file on a new branch, then the merge request).
 * Every value typed by the user goes into the page with textContent; only the rendered
 * Markdown of the description is inserted as HTML, after DOMPurify.
 */
(() => {
  "use strict";

  const app = document.querySelector('[data-sa-app="create"]');
  if (!app) return;
  if (window.top !== window.self) {
    // A GitLab token is typed here: the page never runs inside another site's frame, where
    // that site could overlay or script around it (a meta CSP cannot set frame-ancestors).
    const refusal = document.createElement("p");
    refusal.textContent = "The Create page does not run inside another page. Open it directly: " + location.href;
    app.replaceChildren(refusal);
    return;
  }
  const V = window.SciAppsVendor;
  const CONFIG = JSON.parse(document.getElementById("sa-create-config").textContent);
  const ROOT = new URL(app.dataset.root || "./", location.href);
  const MIB = 1024 * 1024;
  const LIMITS = CONFIG.limits;
  const ENV_FILES = ["requirements.txt", "apt.txt", "postBuild", "start"];
  const EXECUTABLE = ["postBuild", "start"];
  const PICTURE = /\.(png|jpe?g|webp)$/i; // the pictures the store shows
  const HIDDEN = new Set(["schema_version", "mode", "type", "archived", "changelog", "exceptions"]);
  const TOKEN_KEY = "sciapps.gitlab.token";
  const OAUTH_KEY = "sciapps.gitlab.oauth";
  const LABELS = {
    id: "Identifier", entry: "Opens first", tests: "Test notebooks", data_assets: "Mission data", license: "Licence",
    doi: "DOI", cpu: "CPU cores", memory_gb: "Memory (GiB)", gpu: "GPUs", storage_gb: "Scratch storage (GiB)",
    orcid: "ORCID iD", username: "GitLab username", bibtex: "BibTeX", read_only: "Read-only", text: "Citation",
    icon: "Icon", file: "Picture", email: "E-mail", links: "Links", citation: "Citation",
  };
  const ITEM_LABELS = { maintainers: "Maintainer", data_assets: "Data collection", screenshots: "Screenshot", keywords: "Keyword" };

  // The page's own controls: never an element of the preview, which shows what a datalab
  // wrote (sanitized, but its names and classes are the datalab's to choose).
  const ours = (node) => (node && !(node.parentElement && node.parentElement.closest(".sa-preview")) ? node : null);
  const $ = (selector, scope = app) => [...scope.querySelectorAll(selector)].find(ours) || null;
  const byId = (id) => ours(document.getElementById(id));
  const el = (tag, props = {}, ...children) => {
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
  const mib = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`;
  const size = (bytes) => (bytes < 1024 ? `${bytes} B` : bytes < MIB ? `${(bytes / 1024).toFixed(0)} KiB` : mib(bytes));
  const pathId = (path) => "sa-f-" + (path.join("-") || "root").replace(/[^A-Za-z0-9_-]/g, "_");
  const pointer = (path) => "/" + path.join("/");
  const today = () => new Date().toISOString().slice(0, 10);

  const state = {
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
  };

  // ------------------------------------------------------------ document helpers
  function newDoc() {
    return {
      schema_version: 1, id: "", name: "", summary: "", description: "", version: "0.1.0", mode: "basic", type: "jupyterlab",
      entry: "", missions: [], categories: [], keywords: [], maintainers: [{ name: "", email: "", username: "" }],
      license: "BSD-3-Clause", resources: { cpu: 1, memory_gb: 2 }, status: "published", visibility: "public",
    };
  }

  function getAt(path, doc = state.doc) {
    let node = doc;
    for (const part of path) {
      if (node === null || typeof node !== "object") return undefined;
      node = node[part];
    }
    return node;
  }

  function setAt(path, value) {
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
  function output() {
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

  function syncChangelog() {
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

  function yamlText(doc) {
    const body = V.yaml.dump(doc, { lineWidth: 100, noRefs: true });
    const schemaUrl = state.schema.$id;
    return `# yaml-language-server: $schema=${schemaUrl}\n# Written by the SciApps store's Create page; every field is described in the datalab.yaml reference.\n${body}`;
  }

  // ------------------------------------------------------------ files
  function placeFor(name) {
    if (/\.ipynb$/i.test(name)) return `notebooks/${name}`;
    if (/\.(png|jpe?g|webp|gif)$/i.test(name)) return `screenshots/${name}`;
    if (ENV_FILES.includes(name) || name === "Dockerfile") return name;
    return `data/${name}`;
  }

  function nameProblem(path) {
    if (/[\x00-\x1f\x7f]/.test(path)) return "its name contains a control character; rename the file";
    if (path.includes("\\")) return "its name contains a backslash; rename the file";
    if (path.split("/").some((part) => part === ".." || part.includes(".."))) return "its name contains '..'; rename the file";
    if (path.startsWith("/")) return "it is an absolute path";
    if (path.split("/").some((part) => part === "" || part === ".")) return "its name is empty or '.'; rename the file";
    if (path.length > 200) return "its name is longer than 200 characters; rename the file";
    return null;
  }

  function limitFor(path) {
    if (path.endsWith(".ipynb")) return [LIMITS.notebook_mb * MIB, "notebooks"];
    if (/^screenshots\//.test(path) || PICTURE.test(path)) return [LIMITS.image_mb * MIB, "pictures"];
    return [LIMITS.file_mb * MIB, "other files"];
  }

  function jsonLine(text, message) {
    const line = /line (\d+)/.exec(message);
    if (line) return Number(line[1]);
    const pos = /position (\d+)/.exec(message);
    return pos ? text.slice(0, Number(pos[1])).split("\n").length : null;
  }

  /** Why the content of a file cannot go into a datalab, or null. */
  async function contentProblem(path, blob) {
    const [limit, kind] = limitFor(path);
    if (blob.size > limit) {
      const hint = path.endsWith(".ipynb") ? "clear its outputs (Kernel → Restart and clear outputs) and save it again" : "add a smaller sample; mount the full data as mission data";
      return `it is ${mib(blob.size)}, over the ${mib(limit)} limit for ${kind}: ${hint}`;
    }
    if (path.endsWith(".ipynb")) {
      let text;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(await blob.arrayBuffer());
      } catch (e) {
        return "it is not a notebook: not UTF-8 text; open it in JupyterLab and save it again";
      }
      let nb;
      try {
        nb = JSON.parse(text);
      } catch (e) {
        const line = jsonLine(text, e.message);
        return `it is not a notebook: not valid JSON${line ? ` (line ${line})` : ""}; open it in JupyterLab and save it again`;
      }
      if (!nb || typeof nb !== "object" || Array.isArray(nb) || !("nbformat" in nb)) {
        return "it is JSON but not a Jupyter notebook (no nbformat field)";
      }
      if (nb.nbformat !== 4) return `it uses notebook format ${JSON.stringify(nb.nbformat)}; save it again with Jupyter (format 4)`;
      const problem = await notebookSchemaProblem(nb);
      if (problem) return problem;
    }
    if (/(^|\/)environment\.ya?ml$/.test(path)) {
      return "conda environments are not supported: list Python packages in requirements.txt and system packages in apt.txt";
    }
    if (path === "apt.txt") {
      let text;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(await blob.arrayBuffer());
      } catch (e) {
        return "apt.txt is not UTF-8 text";
      }
      const bad = [];
      text.split(/\r?\n/).forEach((raw, i) => {
        for (const word of raw.split("#")[0].trim().split(/\s+/).filter(Boolean)) {
          if (!APT_PACKAGE.test(word)) bad.push(`line ${i + 1}: ${JSON.stringify(word)}`);
        }
      });
      if (bad.length) return `apt.txt lists what is not a Debian package name (${bad.slice(0, 3).join("; ")}); write one package name per line, e.g. saods9 or topcat=4.8.7-3`;
    }
    if (path === "Dockerfile") {
      const problem = dockerfileProblem(await blob.text());
      if (problem) return problem;
    }
    if (/\.(png|jpe?g|webp|gif)$/i.test(path)) {
      const head = new Uint8Array(await blob.slice(0, 12).arrayBuffer());
      const ascii = String.fromCharCode(...head);
      const png = head[0] === 0x89 && ascii.slice(1, 4) === "PNG";
      const jpeg = head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
      const webp = ascii.slice(0, 4) === "RIFF" && ascii.slice(8, 12) === "WEBP";
      if (ascii.startsWith("GIF")) return "GIF pictures are not accepted; save it as PNG, JPEG or WebP";
      if (!png && !jpeg && !webp) return "it is not a PNG, JPEG or WebP picture";
      try {
        (await createImageBitmap(blob)).close(); // decodes it, as the CLI's Pillow check does
      } catch (e) {
        return "the picture cannot be decoded (truncated or damaged); export it again";
      }
    }
    return null;
  }

  const APT_PACKAGE = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$/;
  const nbSchemas = new Map();

  /** Checks a notebook against nbformat's own schema for its minor version, as the CLI does. */
  async function notebookSchemaProblem(nb) {
    const minor = Math.max(0, Math.min(5, Number.isInteger(nb.nbformat_minor) ? nb.nbformat_minor : 0));
    if (!nbSchemas.has(minor)) {
      nbSchemas.set(minor, fetch(new URL(`schemas/nbformat/nbformat.v4.${minor}.schema.json`, ROOT))
        .then((r) => r.json()).then((schema) => new V.Validator(schema, "4", true)).catch(() => null));
    }
    const validator = await nbSchemas.get(minor);
    if (!validator) return null; // the schema could not load: CI still checks
    const result = validator.validate(nb);
    if (result.valid) return null;
    const deepest = result.errors.reduce((a, b) => (b.instanceLocation.length > a.instanceLocation.length ? b : a));
    const where = deepest.instanceLocation.replace(/^#\/?/, "");
    return `it is not a valid notebook (nbformat): ${deepest.error.replace(/\.$/, "")}${where ? ` at ${where}` : ""}; open it in JupyterLab and save it again`;
  }

  /** The Dockerfile rules a browser can check: it must not end as root, nor ADD from the network. */
  function dockerfileProblem(text) {
    const lines = text.split(/\r?\n/);
    let lastUser = null;
    for (const [i, raw] of lines.entries()) {
      const m = /^\s*(\w+)\s+(.*)$/.exec(raw);
      if (!m) continue;
      const [instruction, value] = [m[1].toUpperCase(), m[2].trim()];
      if (instruction === "FROM") lastUser = null;
      else if (instruction === "USER") lastUser = { value, line: i + 1 };
      else if (instruction === "ADD" && /(^|\s)(https?|ftp|git)(:\/\/|@)|(^|\s)git@/.test(value)) {
        return `the Dockerfile downloads with ADD ${value} (line ${i + 1}); put the file in the datalab and COPY it, or install it with apt-get or pip`;
      }
    }
    if (lastUser && ["root", "0"].includes(lastUser.value.split(":")[0].trim())) {
      return `the Dockerfile's image ends as ${lastUser.value} (line ${lastUser.line}); end it with USER 1000`;
    }
    return null;
  }

  function dataUrl(blob) {
    return new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => resolve(null);
      reader.readAsDataURL(blob);
    });
  }

  /** Add files: each is checked; those refused are named with the reason, the rest kept. */
  async function addFiles(items) {
    const refused = [];
    const added = [];
    for (const { path, blob, name: original } of items) {
      const name = original || path.split("/").pop();
      const slash = original && /[\/\\]/.test(original) ? "its name contains '/' or '\\'; rename the file" : null;
      const problem = slash || nameProblem(path) || (await contentProblem(path, blob));
      if (problem) {
        refused.push(`${name}: ${problem}.`);
        continue;
      }
      const others = state.files.filter((f) => f.path !== path);
      if (others.length + 1 > LIMITS.max_files) {
        refused.push(`${name}: a datalab has at most ${LIMITS.max_files} files; mount large collections as mission data.`);
        continue;
      }
      const total = others.reduce((sum, f) => sum + f.blob.size, 0) + blob.size;
      if (total > LIMITS.datalab_mb * MIB) {
        refused.push(`${name}: the datalab would hold ${mib(total)}, over the ${mib(LIMITS.datalab_mb * MIB)} limit; add a smaller sample.`);
        continue;
      }
      const record = await fileRecord(path, blob);
      state.files = [...others, record].sort((a, b) => a.path.localeCompare(b.path));
      added.push(path);
    }
    autoFill();
    $(".sa-files__errors").replaceChildren(...refused.map((text) => el("li", { text })));
    $(".sa-files__status").textContent =
      (added.length ? `Added ${added.length} file${added.length === 1 ? "" : "s"}.` : "") +
      (refused.length ? ` ${refused.length} file${refused.length === 1 ? " was" : "s were"} not added (see below).` : "");
    changed(true);
  }

  function removeFile(path) {
    state.files = state.files.filter((f) => f.path !== path);
    const doc = state.doc;
    if (doc.entry === path) doc.entry = "";
    if (Array.isArray(doc.tests)) doc.tests = doc.tests.filter((t) => t !== path);
    if (doc.icon === path) delete doc.icon;
    $(".sa-files__status").textContent = `Removed ${path}.`;
    changed(true);
  }

  function renderFiles() {
    const table = $(".sa-files");
    table.hidden = !state.files.length;
    const rows = state.files.map((f) =>
      el("tr", {},
        el("td", {}, el("code", { text: f.path.split("/").pop() })),
        el("td", {}, el("code", { text: f.path })),
        el("td", { text: size(f.blob.size) }),
        el("td", {}, el("button", { type: "button", class: "md-button sa-remove", text: "Remove", "aria-label": `Remove ${f.path}`, onclick: () => removeFile(f.path) })),
      ));
    $("tbody", table).replaceChildren(...rows);
    const total = state.files.reduce((sum, f) => sum + f.blob.size, 0);
    $("#sa-file-limits").textContent =
      `Notebooks up to ${LIMITS.notebook_mb} MiB, pictures (PNG, JPEG, WebP) up to ${LIMITS.image_mb} MiB, other files up to ${LIMITS.file_mb} MiB; ` +
      `at most ${LIMITS.max_files} files and ${LIMITS.datalab_mb} MiB in all (now ${state.files.length} file${state.files.length === 1 ? "" : "s"}, ${mib(total)}). ` +
      `Notebooks go to notebooks/, pictures to screenshots/, requirements.txt, apt.txt, postBuild${state.doc.mode === "advanced" ? " and Dockerfile" : ""} to the top, anything else to data/.`;
  }

  const notebooks = () => state.files.filter((f) => f.path.endsWith(".ipynb")).map((f) => f.path);
  const pictures = () => state.files.filter((f) => f.url).map((f) => f.path);

  /** Sensible values a scientist would otherwise have to type. */
  function autoFill() {
    const doc = state.doc;
    if (doc.type === "jupyterlab" && !state.files.some((f) => f.path === doc.entry) && notebooks().length) doc.entry = notebooks()[0];
    if (!doc.name && doc.type === "jupyterlab" && doc.entry) {
      const stem = doc.entry.split("/").pop().replace(/\.ipynb$/, "").replace(/[_-]+/g, " ").trim();
      if (stem.length >= 3) {
        doc.name = stem.charAt(0).toUpperCase() + stem.slice(1);
        suggestId();
      }
    }
  }

  function suggestId() {
    if (state.idEdited) return;
    state.doc.id = (state.doc.name || "")
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
  }

  // ------------------------------------------------------------ the form, from the schema
  function help(text) {
    const html = V.DOMPurify.sanitize(V.marked.parseInline(String(text || "").trim()), { ALLOWED_TAGS: ["a", "code", "em", "strong"], ALLOWED_ATTR: ["href"] });
    const p = el("p", { class: "sa-field__help" });
    p.innerHTML = html;
    for (const a of p.querySelectorAll("a")) {
      const href = a.getAttribute("href");
      if (href.startsWith("#")) a.href = new URL(`reference/datalab-yaml/${href}`, ROOT).href;
      else if (href === "rules.md") a.href = new URL("reference/rules/", ROOT).href;
      a.rel = "noopener";
    }
    return p;
  }

  function label(key) {
    if (LABELS[key]) return LABELS[key];
    return String(key).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  }

  function wrap(path, title, required, control, description) {
    const id = pathId(path);
    const helpNode = description ? help(description) : null;
    if (helpNode) helpNode.id = `${id}-help`;
    const error = el("p", { class: "sa-field__error", id: `${id}-error`, hidden: true });
    const describedBy = [helpNode ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(" ");
    const focusable = control.matches("input, select, textarea") ? control : null;
    if (focusable) {
      focusable.id = id;
      focusable.setAttribute("aria-describedby", describedBy);
      if (required) focusable.setAttribute("aria-required", "true");
    }
    const labelNode = focusable
      ? el("label", { for: id }, title, required ? el("span", { class: "sa-req", "aria-hidden": "true", text: " *" }) : null)
      : null;
    const node = el("div", { class: "sa-field", "data-path": pointer(path) }, labelNode, helpNode, control, error);
    if (!focusable) {
      control.setAttribute("aria-describedby", describedBy);
      control.id = id;
    }
    return node;
  }

  function onValue(path, read) {
    return (event) => {
      setAt(path, read(event.target));
      state.touched.add(pointer(path));
      if (path.length === 1 && path[0] === "name") {
        suggestId();
        const idInput = byId(pathId(["id"]));
        if (idInput && !state.idEdited) idInput.value = state.doc.id;
      }
      if (path.length === 1 && path[0] === "id") state.idEdited = true;
      changed(false);
    };
  }

  function blurTouch(path) {
    return () => {
      state.touched.add(pointer(path));
      showErrors();
    };
  }

  function textInput(path, schema, required) {
    const value = getAt(path);
    const long = (schema.maxLength || 0) >= 2000 && !/https\?/.test(schema.pattern || "");
    const input = long
      ? el("textarea", { rows: path[path.length - 1] === "description" ? 8 : 4 })
      : el("input", { type: schema.pattern && /https\?/.test(schema.pattern) ? "url" : "text", autocomplete: "off", spellcheck: "false" });
    input.value = value === undefined || value === null ? "" : String(value);
    if (schema.maxLength) input.maxLength = schema.maxLength;
    input.addEventListener("input", onValue(path, (t) => (t.value === "" ? undefined : t.value)));
    input.addEventListener("blur", blurTouch(path));
    if (path[path.length - 1] === "email") input.type = "email";
    if (path[0] === "license" && path.length === 1) input.setAttribute("list", "sa-spdx");
    return wrap(path, label(path[path.length - 1]), required, input, schema.description);
  }

  function numberInput(path, schema, required) {
    const value = getAt(path);
    const input = el("input", { type: "number", inputmode: "decimal" });
    if (schema.minimum !== undefined) input.min = schema.minimum;
    if (schema.maximum !== undefined) input.max = schema.maximum;
    input.step = schema.type === "integer" ? "1" : "any";
    input.value = value === undefined ? "" : String(value);
    if (schema.default !== undefined) input.placeholder = String(schema.default);
    input.addEventListener("input", onValue(path, (t) => (t.value === "" ? undefined : Number(t.value))));
    input.addEventListener("blur", blurTouch(path));
    return wrap(path, label(path[path.length - 1]), required, input, schema.description);
  }

  function enumNames(values) {
    const same = (vocab) => values.every((v) => v in vocab);
    if (same(CONFIG.missions)) return CONFIG.missions;
    if (same(CONFIG.categories)) return CONFIG.categories;
    return null;
  }

  function selectInput(path, schema, required, options) {
    const value = getAt(path);
    const names = enumNames(options) || {};
    const select = el("select", {}, el("option", { value: "", text: required ? "Choose…" : "—" }),
      options.map((v) => el("option", { value: v, text: names[v] || v, selected: v === value })));
    select.addEventListener("change", onValue(path, (t) => (t.value === "" ? undefined : t.value)));
    return wrap(path, label(path[path.length - 1]), required, select, schema.description);
  }

  function checkboxInput(path, schema) {
    const value = getAt(path);
    const box = el("input", { type: "checkbox", checked: value === undefined ? schema.default === true : Boolean(value) });
    box.addEventListener("change", onValue(path, (t) => t.checked));
    const id = pathId(path);
    box.id = id;
    return el("div", { class: "sa-field sa-field--check", "data-path": pointer(path) },
      box, el("label", { for: id, text: label(path[path.length - 1]) }), schema.description ? help(schema.description) : null,
      el("p", { class: "sa-field__error", id: `${id}-error`, hidden: true }));
  }

  /** A group of checkboxes for an array of choices (missions, categories, test notebooks). */
  function choiceGroup(path, schema, required, options, names) {
    const chosen = new Set(Array.isArray(getAt(path)) ? getAt(path) : []);
    const id = pathId(path);
    const boxes = options.map((v, i) => {
      const box = el("input", { type: "checkbox", id: `${id}-${i}`, value: v, checked: chosen.has(v) });
      box.addEventListener("change", () => {
        const current = Array.isArray(getAt(path)) ? getAt(path).filter((x) => x !== v) : [];
        // keep the order of the options
        const next = options.filter((o) => o === v ? box.checked : current.includes(o));
        setAt(path, next);
        state.touched.add(pointer(path));
        changed(false);
      });
      return el("label", { class: "sa-choice__item", for: `${id}-${i}` }, box, " ", (names && names[v]) || v);
    });
    const empty = !options.length ? el("p", { class: "sa-muted", text: "Add notebooks in step 2 to choose them here." }) : null;
    const fieldset = el("fieldset", { class: "sa-choices" }, el("legend", {}, label(path[path.length - 1]), required ? el("span", { class: "sa-req", "aria-hidden": "true", text: " *" }) : null), ...boxes, empty);
    return wrap(path, "", required, fieldset, schema.description);
  }

  function fileSelect(path, schema, required, choices, noneText) {
    const value = getAt(path);
    const select = el("select", {}, el("option", { value: "", text: choices.length ? (required ? "Choose…" : "—") : noneText }),
      choices.map((v) => el("option", { value: v, text: v, selected: v === value })));
    if (value && !choices.includes(value)) select.append(el("option", { value, text: `${value} (not among the files)`, selected: true }));
    select.addEventListener("change", onValue(path, (t) => (t.value === "" ? undefined : t.value)));
    return wrap(path, label(path[path.length - 1]), required, select, schema.description);
  }

  function arrayInput(path, schema, required) {
    const items = Array.isArray(getAt(path)) ? getAt(path) : [];
    const key = path[path.length - 1];
    const itemLabel = ITEM_LABELS[key] || "Item";
    const itemSchema = schema.items || {};
    const rows = items.map((item, index) => {
      const itemPath = [...path, index];
      const remove = el("button", {
        type: "button", class: "md-button sa-remove", text: "Remove", "aria-label": `Remove ${itemLabel.toLowerCase()} ${index + 1}`,
        onclick: () => { getAt(path).splice(index, 1); state.touched.add(pointer(path)); changed(true); },
      });
      if (itemSchema.type === "object") {
        return el("fieldset", { class: "sa-item", "data-path": pointer(itemPath) }, el("legend", { text: `${itemLabel} ${index + 1}` }),
          objectFields(itemPath, itemSchema, true), remove, el("p", { class: "sa-field__error", id: `${pathId(itemPath)}-error`, hidden: true }));
      }
      const field = textInput(itemPath, itemSchema, true);
      field.querySelector("label").textContent = `${itemLabel} ${index + 1}`;
      field.append(remove);
      return field;
    });
    const canAdd = !schema.maxItems || items.length < schema.maxItems;
    const add = el("button", {
      type: "button", class: "md-button", text: `Add ${itemLabel.toLowerCase()}`, disabled: !canAdd,
      onclick: () => {
        const list = Array.isArray(getAt(path)) ? getAt(path) : [];
        const blank = itemSchema.type === "object" ? Object.fromEntries((itemSchema.required || []).map((k) => [k, ""])) : "";
        if (key === "data_assets") blank.read_only = true;
        list.push(blank);
        setAt(path, list);
        const last = list.length - 1;
        changed(true, itemSchema.type === "object" ? pathId([...path, last, itemSchema.required[0]]) : pathId([...path, last]));
      },
    });
    const fieldset = el("fieldset", { class: "sa-group" },
      el("legend", {}, label(key), required ? el("span", { class: "sa-req", "aria-hidden": "true", text: " *" }) : null), ...rows, add);
    return wrap(path, "", required, fieldset, schema.description);
  }

  /** The fields of an object. Inside an optional group (links, citation) nothing is marked
   * required: its required fields are needed only once the group is filled in, and the check says so. */
  function objectFields(path, schema, needed) {
    const required = new Set(needed ? schema.required || [] : []);
    return el("div", { class: "sa-object" }, Object.entries(schema.properties || {}).map(([key, sub]) => field([...path, key], sub, required.has(key))));
  }

  function field(path, schema, required) {
    const key = path[path.length - 1];
    const top = path.length === 1;
    const doc = state.doc;
    if (top && key === "entry") {
      if (doc.type === "jupyterlab") return fileSelect(path, { description: "The notebook JupyterLab opens first." }, true, notebooks(), "Add a notebook in step 2");
      return textInput(path, { ...schema, description: "The command of the desktop application to start, for example `topcat`; install it with apt.txt (basic) or your Dockerfile." }, true);
    }
    if (top && key === "tests") return doc.type === "jupyterlab" ? choiceGroup(path, schema, false, notebooks(), null) : null;
    if (top && key === "icon") return fileSelect(path, schema, false, pictures(), "Add a picture in step 2");
    if (path.length === 3 && path[0] === "screenshots" && key === "file") return fileSelect(path, schema, true, pictures(), "Add a picture in step 2");
    if (schema.enum) return selectInput(path, schema, required, schema.enum);
    if (schema.type === "array" && schema.items && schema.items.enum) {
      return choiceGroup(path, schema, required, schema.items.enum, enumNames(schema.items.enum));
    }
    if (schema.type === "array") return arrayInput(path, schema, required);
    if (schema.type === "object") {
      const box = el("fieldset", { class: "sa-group" }, el("legend", { text: label(key) }), objectFields(path, schema, required));
      return wrap(path, "", required, box, schema.description);
    }
    if (schema.type === "boolean") return checkboxInput(path, schema);
    if (schema.type === "number" || schema.type === "integer") return numberInput(path, schema, required);
    return textInput(path, schema, required);
  }

  function renderFields(focusId) {
    const active = focusId || (document.activeElement && document.activeElement.id);
    const required = new Set(state.schema.required || []);
    const nodes = Object.entries(state.schema.properties)
      .filter(([key]) => !HIDDEN.has(key))
      .map(([key, schema]) => field([key], schema, required.has(key)))
      .filter(Boolean);
    $(".sa-fields").replaceChildren(...nodes);
    if (active) {
      const again = byId(active);
      if (again) again.focus();
    }
  }

  // ------------------------------------------------------------ checks
  function friendly(error, schemaAt) {
    const m = error.error;
    const s = schemaAt || {};
    switch (error.keyword) {
      case "required": {
        const name = /"([^"]+)"/.exec(m);
        return { extra: name ? name[1] : null, text: "is required" };
      }
      case "minLength": return { text: `needs at least ${s.minLength} character${s.minLength === 1 ? "" : "s"}` };
      case "maxLength": return { text: `has more than ${s.maxLength} characters` };
      case "minimum": return { text: `must be at least ${s.minimum}` };
      case "maximum": return { text: `must be at most ${s.maximum}` };
      case "minItems": return { text: `needs at least ${s.minItems}` };
      case "maxItems": return { text: `has more than ${s.maxItems}` };
      case "uniqueItems": return { text: "lists the same value twice" };
      case "enum": return { text: `is not one of the known values${enumNames(s.enum) ? "" : `: ${s.enum.join(", ")}`}` };
      case "const": return { text: `must be ${JSON.stringify(s.const)}` };
      case "type": return { text: `must be ${Array.isArray(s.type) ? s.type.join(" or ") : s.type === "array" ? "a list" : s.type === "object" ? "a group of fields" : `a ${s.type}`}` };
      case "false": return { text: "is not a field of datalab.yaml" };
      case "pattern": {
        const first = String(s.description || "").replace(/\[([^\]]+)\]\([^)]+\)/g, "$1").split(/(?<=\.)\s/)[0];
        return { text: `is not in the expected form${first ? ` (${first.replace(/\.$/, "")})` : ""}` };
      }
      default: return { text: m };
    }
  }

  function schemaAt(keywordLocation) {
    const parts = keywordLocation.replace(/^#\/?/, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    parts.pop(); // the keyword itself
    let node = state.schema;
    for (const part of parts) node = node && node[part];
    return node;
  }

  function closestName(name) {
    const known = Object.keys(state.schema.properties);
    const distance = (a, b) => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
      for (let j = 1; j <= b.length; j++) d[0][j] = j;
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      return d[a.length][b.length];
    };
    const best = known.map((k) => [distance(name.toLowerCase(), k), k]).sort((a, b) => a[0] - b[0])[0];
    return best && best[0] <= 2 ? best[1] : null;
  }

  function schemaProblems(doc) {
    const result = state.validator.validate(doc);
    const problems = [];
    const seen = new Set();
    for (const error of result.errors) {
      if (["properties", "items", "allOf", "if", "then", "else", "additionalProperties", "$ref", "prefixItems", "unevaluatedProperties"].includes(error.keyword)) continue;
      const where = error.instanceLocation.replace(/^#/, "") || "";
      const { text, extra } = friendly(error, schemaAt(error.keywordLocation));
      const path = extra ? `${where}/${extra}` : where;
      const key = `${path} ${text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const problem = { path, text };
      if (error.keyword === "false" && path.split("/").length === 2) {
        const name = path.slice(1);
        const near = closestName(name);
        problem.text += near ? `; did you mean ${near}?` : "";
        problem.remove = name;
      }
      problems.push(problem);
    }
    return problems;
  }

  function licenceProblem(value) {
    if (typeof value !== "string" || !state.spdx) return null;
    const tokens = value.match(/\(|\)|[^\s()]+/g) || [];
    const unknown = [];
    const canonical = tokens.map((t) => {
      const upper = t.toUpperCase();
      if (t === "(" || t === ")") return t;
      if (["AND", "OR", "WITH"].includes(upper)) return upper;
      const key = state.spdx.symbols[t.toLowerCase()];
      if (!key) unknown.push(t);
      return key || t;
    }).join(" ").replace(/\( /g, "(").replace(/ \)/g, ")");
    if (unknown.length) return `${unknown.join(", ")} ${unknown.length === 1 ? "is not an SPDX licence id" : "are not SPDX licence ids"}; pick one from the list, e.g. BSD-3-Clause or MIT`;
    if (canonical !== value) return `is written ${canonical} in SPDX`;
    return null;
  }

  function orcidOk(orcid) {
    const digits = orcid.replace(/-/g, "");
    let total = 0;
    for (const ch of digits.slice(0, -1)) total = (total + Number(ch)) * 2;
    const check = (12 - (total % 11)) % 11;
    return digits.slice(-1) === (check === 10 ? "X" : String(check));
  }

  /** Everything that would make `sciapps validate` refuse the datalab, as far as a browser can tell. */
  function problems() {
    syncChangelog();
    const doc = output();
    const list = schemaProblems(doc);
    const has = (path) => state.files.some((f) => f.path === path);
    if (typeof doc.id === "string" && state.taken && state.taken.has(doc.id) && doc.id !== state.updating) {
      list.push({ path: "/id", text: `${doc.id} is already a datalab in the store; choose another id, or load that datalab's folder (Continue an existing datalab) to update it` });
    }
    if (typeof doc.license === "string" && !list.some((p) => p.path === "/license")) {
      const problem = licenceProblem(doc.license);
      if (problem) list.push({ path: "/license", text: problem });
    }
    (Array.isArray(doc.maintainers) ? doc.maintainers : []).forEach((m, i) => {
      if (m && typeof m.orcid === "string" && /^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$/.test(m.orcid) && !orcidOk(m.orcid)) {
        list.push({ path: `/maintainers/${i}/orcid`, text: "fails the ORCID checksum; copy the iD from your ORCID record" });
      }
    });
    if (doc.type === "jupyterlab" && typeof doc.entry === "string" && doc.entry.endsWith(".ipynb") && !has(doc.entry)) {
      list.push({ path: "/entry", text: `${doc.entry} is not among the files; add it in step 2` });
    }
    if (doc.type === "jupyterlab" && !notebooks().length) list.push({ path: "files", text: "a JupyterLab datalab needs at least one notebook (.ipynb); add it in step 2" });
    (Array.isArray(doc.tests) ? doc.tests : []).forEach((t, i) => { if (typeof t === "string" && !has(t)) list.push({ path: `/tests/${i}`, text: `${t} is not among the files` }); });
    (Array.isArray(doc.screenshots) ? doc.screenshots : []).forEach((s, i) => {
      if (s && typeof s.file === "string" && !has(s.file)) list.push({ path: `/screenshots/${i}/file`, text: `${s.file} is not among the files` });
    });
    if (typeof doc.icon === "string" && !has(doc.icon)) list.push({ path: "/icon", text: `${doc.icon} is not among the files` });
    const missions = new Set(Array.isArray(doc.missions) ? doc.missions : []);
    const mounts = new Map();
    (Array.isArray(doc.data_assets) ? doc.data_assets : []).forEach((a, i) => {
      if (!a || typeof a !== "object") return;
      if (a.mission && !missions.has(a.mission) && CONFIG.missions[a.mission]) {
        list.push({ path: `/data_assets/${i}/mission`, text: `${CONFIG.missions[a.mission]} is not among the datalab's missions; tick it under Missions` });
      }
      if (a.mount && mounts.has(a.mount)) list.push({ path: `/data_assets/${i}/mount`, text: `${a.mount} is already used by data collection ${mounts.get(a.mount) + 1}` });
      else if (a.mount) mounts.set(a.mount, i);
    });
    const dockerfile = state.files.find((f) => f.path === "Dockerfile");
    if (doc.mode === "basic" && dockerfile) list.push({ path: "files", text: "a Dockerfile is only used in advanced mode: choose Advanced in step 1, or remove the Dockerfile" });
    if (doc.mode === "advanced" && !dockerfile) list.push({ path: "files", text: "advanced mode needs a Dockerfile: add one in step 2, or choose Basic in step 1" });
    if (dockerfile && !CONFIG.approved_bases.includes(dockerfile.base)) {
      list.push({ path: "files", text: `the Dockerfile starts FROM ${dockerfile.base}; start FROM an approved base image: ${CONFIG.approved_bases.join(", ")}` });
    }
    const yamlBytes = new TextEncoder().encode(yamlText(doc)).length;
    if (yamlBytes > LIMITS.metadata_kb * 1024) list.push({ path: "", text: `datalab.yaml would be ${(yamlBytes / 1024).toFixed(0)} KiB, over the ${LIMITS.metadata_kb} KiB limit; shorten the description` });
    return list;
  }

  /** A file of the datalab: its picture as a data: URL for the preview, or a Dockerfile's
   * base image name; read once, when the file is added or the draft restored. */
  async function fileRecord(path, blob) {
    const record = { path, blob, url: PICTURE.test(path) ? await dataUrl(blob) : null, base: null };
    if (path === "Dockerfile") {
      const from = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)/im.exec(await blob.text());
      record.base = from ? from[1].split("@")[0].split("/").pop().split(":")[0] : "(no FROM line)";
    }
    return record;
  }

  function fieldFor(path) {
    const parts = path.split("/").slice(1);
    while (true) {
      const node = app.querySelector(`.sa-fields [data-path="${CSS.escape("/" + parts.join("/"))}"]`);
      if (node && parts.length) return node;
      if (!parts.length) return null;
      parts.pop();
    }
  }

  function isShown(path) {
    if (state.showAll) return true;
    for (const touched of state.touched) if (path === touched || path.startsWith(touched + "/") || touched.startsWith(path + "/")) return true;
    return false;
  }

  let current = [];
  function showErrors() {
    for (const node of app.querySelectorAll(".sa-fields .sa-field__error")) {
      node.hidden = true;
      node.textContent = "";
    }
    for (const node of app.querySelectorAll(".sa-fields [aria-invalid]")) node.removeAttribute("aria-invalid");
    for (const problem of current) {
      const node = problem.path.startsWith("/") ? fieldFor(problem.path) : null;
      if (!node || !isShown(problem.path)) continue; // the summary lists those without a field
      const error = node.querySelector(":scope > .sa-field__error");
      const rest = problem.path.slice(node.dataset.path.length + 1).split("/").filter(Boolean);
      const what = rest.map((p) => (/^\d+$/.test(p) ? String(Number(p) + 1) : label(p))).join(" ");
      const sentence = (what ? `${what} ${problem.text}` : problem.text).replace(/^./, (c) => c.toUpperCase());
      error.textContent = (error.textContent ? error.textContent + " " : "") + sentence.replace(/\.?$/, ".");
      error.hidden = false;
      const control = byId(pathId(node.dataset.path.split("/").slice(1)));
      if (control) control.setAttribute("aria-invalid", "true");
    }
    renderSummary();
  }

  function describe(problem) {
    if (problem.path === "files") return `Files: ${problem.text}.`;
    if (!problem.path) return `${problem.text}.`;
    const parts = problem.path.split("/").slice(1);
    const words = parts.map((p) => (/^\d+$/.test(p) ? String(Number(p) + 1) : label(p)));
    return `${words.join(" › ")}: ${problem.text}.`;
  }

  function renderSummary() {
    const box = $(".sa-summary");
    if (!state.showAll) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    $(".sa-summary__title", box).textContent = current.length
      ? `${current.length} thing${current.length === 1 ? "" : "s"} to fix before it can be submitted`
      : "Ready: sciapps validate will accept it.";
    box.classList.toggle("sa-summary--ok", !current.length);
    $("ul", box).replaceChildren(...current.map((problem) => {
      const node = problem.path.startsWith("/") ? fieldFor(problem.path) : null;
      const text = describe(problem);
      const item = el("li", {});
      if (node) {
        const target = node.querySelector("input, select, textarea") || node;
        item.append(el("a", { href: `#${target.id || ""}`, text, onclick: (e) => { e.preventDefault(); target.focus(); } }));
      } else item.append(text);
      if (problem.remove) {
        item.append(" ", el("button", {
          type: "button", class: "md-button", text: `Remove ${problem.remove}`,
          onclick: () => { delete state.doc[problem.remove]; changed(true); },
        }));
      }
      return item;
    }));
  }

  // ------------------------------------------------------------ preview
  /** HTML of a description as the store shows it: the store's own allow-list of tags,
   * attributes and URL schemes (sciapps/site/markdown.py, sent in the page's settings);
   * no ids, names, classes or data-* attributes, which could pass for the page's controls. */
  const MARKDOWN = CONFIG.markdown;
  const URI = new RegExp("^(?:(?:" + MARKDOWN.schemes.join("|") + "):|[^a-z]|[a-z+.\\-]+(?:[^a-z+.\\-:]|$))", "i");
  function sanitize(html) {
    return V.DOMPurify.sanitize(html, {
      ALLOWED_TAGS: MARKDOWN.tags, ALLOWED_ATTR: MARKDOWN.attributes.filter((a) => a !== "class"), ALLOWED_URI_REGEXP: URI,
      ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false, SANITIZE_NAMED_PROPS: true,
    });
  }

  function renderPreview() {
    const doc = output();
    const names = (ids, vocab) => (Array.isArray(ids) ? ids : []).map((id) => vocab[id] || id);
    const file = (path) => state.files.find((f) => f.path === path);
    const chips = el("ul", { class: "sa-chips", "aria-label": "Missions, type and version" },
      names(doc.missions, CONFIG.missions).map((n) => el("li", { class: "sa-chip sa-chip--mission", text: n })),
      el("li", { class: "sa-chip sa-chip--type", text: doc.type === "vnc" ? "Desktop (VNC)" : "JupyterLab" }),
      el("li", { class: "sa-chip", text: `Version ${doc.version || "?"}` }),
      doc.mode === "advanced" ? el("li", { class: "sa-chip", text: "Own Dockerfile" }) : null,
      names(doc.categories, CONFIG.categories).map((n) => el("li", { class: "sa-chip sa-chip--category", text: n })));
    const icon = doc.icon && file(doc.icon) ? el("img", { class: "sa-datalab__icon", src: file(doc.icon).url, alt: "", width: "64", height: "64" }) : null;
    const description = el("div", { class: "sa-description" });
    description.innerHTML = sanitize(V.marked.parse(String(doc.description || "")));
    const shots = (Array.isArray(doc.screenshots) ? doc.screenshots : []).filter((s) => s && file(s.file)).map((s) =>
      el("figure", {}, el("img", { src: file(s.file).url, alt: s.caption || "" }), el("figcaption", { text: s.caption || "" })));
    const res = { cpu: 1, memory_gb: 2, gpu: 0, storage_gb: 5, ...(doc.resources || {}) };
    const assets = Array.isArray(doc.data_assets) ? doc.data_assets.filter((a) => a && typeof a === "object") : [];
    const article = el("article", { class: "sa-datalab sa-datalab--preview" },
      el("header", { class: "sa-datalab__head" },
        el("div", { class: "sa-datalab__title" }, icon, el("p", { class: "sa-preview__name", text: doc.name || "Name of your datalab" })),
        el("p", { class: "sa-datalab__summary", text: doc.summary || "One line saying what it does." }),
        chips,
        el("p", { class: "sa-actions" }, el("span", { class: "md-button md-button--primary", "aria-disabled": "true", text: "Launch in ESA Datalabs" }))),
      shots.length ? el("div", { class: "sa-shots" }, shots) : null,
      doc.description ? description : null,
      el("div", { class: "sa-facts" },
        el("div", {}, el("p", { class: "sa-preview__heading", text: "Data" }),
          assets.length
            ? el("ul", {}, assets.map((a) => el("li", {}, `${CONFIG.missions[a.mission] || a.mission || "?"}: `, el("code", { text: a.collection || "?" }), " at ", el("code", { text: a.mount || "?" }))))
            : el("p", { text: "Needs no mounted mission data; sample data ships with it." })),
        el("div", {}, el("p", { class: "sa-preview__heading", text: "Resources" }),
          el("p", { text: `${res.cpu} CPU core${res.cpu === 1 ? "" : "s"}, ${res.memory_gb} GiB memory, ${res.gpu || "no"} GPU, ${res.storage_gb} GiB storage. Opens ${doc.entry || "?"}.` })),
        el("div", {}, el("p", { class: "sa-preview__heading", text: "Maintainers" }),
          el("ul", {}, (Array.isArray(doc.maintainers) ? doc.maintainers : []).map((m) => el("li", { text: m && m.name ? `${m.name}${m.email ? " · " + m.email : ""}` : "?" }))),
          el("p", { text: `Licence: ${doc.license || "?"}` }))));
    $(".sa-preview").replaceChildren(article);
  }

  // ------------------------------------------------------------ updates and the draft
  let timer = null;
  function changed(structural, focusId) {
    if (structural) {
      renderFields(focusId);
      renderFiles();
    }
    clearTimeout(timer);
    timer = setTimeout(refresh, structural ? 0 : 150);
  }

  function refresh() {
    current = problems();
    showErrors();
    renderPreview();
    saveDraft();
    const submit = $('[data-sa-action="submit"]');
    submit.disabled = !CONFIG.gitlab || !token();
    app.dataset.checked = String(Number(app.dataset.checked || 0) + 1);
  }

  const DB = { name: "sciapps-create", store: "drafts" };
  function db() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB.name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(DB.store);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function idb(mode, action) {
    const conn = await db();
    return new Promise((resolve, reject) => {
      const tx = conn.transaction(DB.store, mode);
      const request = action(tx.objectStore(DB.store));
      tx.oncomplete = () => { conn.close(); resolve(request.result); };
      tx.onerror = () => { conn.close(); reject(tx.error); };
    });
  }
  let saving = Promise.resolve();
  function saveDraft() {
    const draft = {
      doc: JSON.parse(JSON.stringify(state.doc)),
      files: state.files.map((f) => ({ path: f.path, blob: f.blob })),
      idEdited: state.idEdited,
      autoChangelog: state.autoChangelog,
      updating: state.updating,
      savedAt: new Date().toISOString(),
    };
    const note = $(".sa-create__draft");
    if (note.hidden && (state.files.length || state.doc.name || state.doc.summary)) {
      $(".sa-create__draft-text", note).textContent = "Your draft is kept in this browser until you start over.";
      note.hidden = false;
    }
    saving = saving.then(() => idb("readwrite", (s) => s.put(draft, "current"))).catch(() => {
      $(".sa-files__status").textContent = "This browser does not let the page keep your draft (private mode or storage full): download it before leaving.";
    });
    return saving;
  }
  async function loadDraft() {
    try {
      return await idb("readonly", (s) => s.get("current"));
    } catch (e) {
      return null;
    }
  }

  async function applyDraft(draft) {
    state.doc = draft.doc;
    state.idEdited = Boolean(draft.idEdited);
    state.autoChangelog = draft.autoChangelog !== false;
    state.updating = draft.updating || null;
    state.files = [];
    for (const f of draft.files || []) state.files.push(await fileRecord(f.path, f.blob));
    syncKind();
  }

  function syncKind() {
    for (const radio of app.querySelectorAll('input[name="sa-type"]')) radio.checked = radio.value === state.doc.type;
    for (const radio of app.querySelectorAll('input[name="sa-mode"]')) radio.checked = radio.value === (state.doc.mode || "basic");
  }

  // ------------------------------------------------------------ import
  async function importFile(file) {
    const status = $(".sa-import__status");
    try {
      if (/\.zip$/i.test(file.name)) {
        if (file.size > LIMITS.datalab_mb * MIB) throw new Error(`${file.name} is ${mib(file.size)}, over the ${LIMITS.datalab_mb} MiB a datalab may hold`);
        const entries = unzipWithinLimits(new Uint8Array(await file.arrayBuffer()), file.name);
        const names = Object.keys(entries).filter((n) => !n.endsWith("/"));
        const meta = names.find((n) => /^(?:[^/]+\/)?datalab\.yaml$/.test(n));
        if (!meta) throw new Error(`${file.name} has no datalab.yaml (at its top or in one folder)`);
        const prefix = meta.slice(0, -"datalab.yaml".length);
        const doc = parseYaml(V.zip.strFromU8(entries[meta]), `${file.name}: ${meta}`);
        const items = names.filter((n) => n !== meta && n.startsWith(prefix)).map((n) => ({ path: n.slice(prefix.length), blob: new Blob([entries[n]]) }));
        startFrom(doc);
        state.files = [];
        await addFiles(items);
      } else {
        if (file.size > LIMITS.metadata_kb * 1024) throw new Error(`${file.name} is ${size(file.size)}, over the ${LIMITS.metadata_kb} KiB limit of datalab.yaml`);
        const doc = parseYaml(await file.text(), file.name);
        startFrom(doc);
        changed(true);
      }
      status.textContent = `Loaded ${file.name}.`;
    } catch (e) {
      status.textContent = `${e.message}. Nothing was changed.`;
    }
  }

  function parseYaml(text, where) {
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > LIMITS.metadata_kb * 1024) throw new Error(`${where} is ${size(bytes)}, over the ${LIMITS.metadata_kb} KiB limit of datalab.yaml`);
    let doc;
    try {
      doc = V.yaml.load(text);
    } catch (e) {
      const line = e.mark ? ` line ${e.mark.line + 1}` : "";
      throw new Error(`${where}:${line} is not valid YAML (${e.reason || e.message})`);
    }
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${where} does not hold the fields of a datalab (it should be a mapping such as "id: my-datalab")`);
    checkExpansion(doc, where);
    return doc;
  }

  /** Aliases make a few lines stand for millions of values (an "alias bomb"): count the
   * values as if expanded, each shared object once, and stop at the CLI's bounds before
   * anything walks the document. */
  function checkExpansion(doc, where) {
    const { max_nodes: maxNodes, max_depth: maxDepth } = CONFIG.yaml;
    const sizes = new Map();
    const count = (node, depth) => {
      if (depth > maxDepth) throw new Error(`${where} nests deeper than ${maxDepth} levels`);
      if (!node || typeof node !== "object") return 1;
      if (sizes.has(node)) return sizes.get(node);
      let total = 1;
      for (const child of Array.isArray(node) ? node : Object.values(node)) {
        total += count(child, depth + 1);
        if (total > maxNodes) throw new Error(`${where} expands to more than ${maxNodes} values (aliases repeated over and over); write the values out instead`);
      }
      sizes.set(node, total);
      return total;
    };
    count(doc, 0);
  }

  /** The entries of a .zip, refused before anything is inflated when its central directory
   * declares more files or bytes than a datalab may have (a 400 KB zip can declare 400 MB). */
  function unzipWithinLimits(bytes, name) {
    let files = 0;
    let total = 0;
    const check = (entry) => {
      if (entry.name.endsWith("/")) return false;
      files += 1;
      total += entry.originalSize;
      if (files > LIMITS.max_files + 1) throw new Error(`${name} holds more than ${LIMITS.max_files} files`);
      if (entry.originalSize > LIMITS.file_mb * MIB) throw new Error(`${name}: ${entry.name} would be ${mib(entry.originalSize)}, over the ${LIMITS.file_mb} MiB limit per file`);
      if (total > LIMITS.datalab_mb * MIB) throw new Error(`${name} would unpack to more than the ${LIMITS.datalab_mb} MiB a datalab may hold`);
      return false; // this pass only reads the directory
    };
    try {
      V.zip.unzipSync(bytes, { filter: check });
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(name)) throw e;
      throw new Error(`${name} is not a readable .zip file`);
    }
    const entries = V.zip.unzipSync(bytes, { filter: (entry) => !entry.name.endsWith("/") });
    for (const [entryName, data] of Object.entries(entries)) {
      if (data.length > LIMITS.file_mb * MIB) throw new Error(`${name}: ${entryName} is larger than its zip entry says`);
    }
    return entries;
  }

  function startFrom(doc) {
    state.doc = doc;
    state.updating = typeof doc.id === "string" ? doc.id : null; // an existing datalab keeps its id
    if (doc.type === undefined) doc.type = "jupyterlab";
    state.idEdited = true;
    state.autoChangelog = false;
    state.touched = new Set();
    state.showAll = true;
    syncKind();
  }

  // ------------------------------------------------------------ download
  async function buildZip(doc) {
    const entries = {};
    const root = doc.id;
    entries[`${root}/datalab.yaml`] = V.zip.strToU8(yamlText(doc));
    for (const f of state.files) {
      const data = new Uint8Array(await f.blob.arrayBuffer());
      entries[`${root}/${f.path}`] = EXECUTABLE.includes(f.path) ? [data, { os: 3, attrs: (0o100755 << 16) >>> 0 }] : data;
    }
    return new Blob([V.zip.zipSync(entries, { level: 6 })], { type: "application/zip" });
  }

  async function ready() {
    clearTimeout(timer);
    current = problems();
    state.showAll = true;
    showErrors();
    if (current.length) {
      $(".sa-summary").focus();
      return null;
    }
    return output();
  }

  async function download() {
    const doc = await ready();
    if (!doc) return;
    const blob = await buildZip(doc);
    const name = `${doc.id}-${doc.version}.zip`;
    const link = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    const branch = branchName(doc);
    $("#sa-create-commands code").textContent =
      `unzip ${name} -d datalabs/\n` +
      `sciapps validate datalabs/${doc.id}\n` +
      `git switch -c ${branch} && git add datalabs/${doc.id} && git commit -m "Add datalab ${doc.id} ${doc.version}"`;
    $(".sa-out__next").hidden = false;
  }

  // ------------------------------------------------------------ GitLab
  class GitLabError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  const gitlab = CONFIG.gitlab;
  const redirectUri = () => location.origin + location.pathname;

  // The GitLab token lives in this page's memory only: never in sessionStorage or any
  // other storage that another page of the store's origin could read. A reload asks again.
  let session = null;
  sessionStorage.removeItem(TOKEN_KEY); // where older versions of this page kept it
  const token = () => session;
  const keepToken = (value) => { session = value; };

  async function api(method, path, body) {
    const auth = token();
    if (!auth) throw new GitLabError("you are not signed in to GitLab", 401);
    const headers = auth.kind === "oauth" ? { Authorization: `Bearer ${auth.value}` } : { "PRIVATE-TOKEN": auth.value };
    if (body) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(`${gitlab.url}/api/v4${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined, cache: "no-store" });
    } catch (e) {
      throw new GitLabError(`cannot reach GitLab at ${gitlab.url} (network error)`, 0);
    }
    let data = null;
    const text = await response.text();
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const message = data && (data.message || data.error_description || data.error);
      const detail = typeof message === "string" ? message
        : Array.isArray(message) ? message.join("; ")
        : message ? Object.entries(message).map(([k, v]) => `${k} ${[].concat(v).join(", ")}`).join("; ") : `HTTP ${response.status}`;
      throw new GitLabError(detail, response.status);
    }
    return { data, headers: response.headers, status: response.status };
  }

  async function exists(path) {
    try {
      await api("GET", path);
      return true;
    } catch (e) {
      if (e.status === 404) return false;
      throw e;
    }
  }

  function branchName(doc) {
    return `datalab/${doc.id}-${doc.version}`.replace(/[^A-Za-z0-9._/-]+/g, "-");
  }

  async function treeOf(project, dir, ref) {
    const paths = [];
    for (let page = 1; page; ) {
      const { data, headers } = await api("GET", `${project}/repository/tree?path=${encodeURIComponent(dir)}&ref=${encodeURIComponent(ref)}&recursive=true&per_page=100&page=${page}`);
      for (const item of data || []) if (item.type === "blob") paths.push(item.path);
      page = Number(headers.get("X-Next-Page")) || 0;
    }
    return paths;
  }

  function base64(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(out);
  }

  function say(text) {
    $(".sa-gitlab__status").textContent = text;
  }

  /** One commit with every file on the datalab's branch, then the merge request. */
  async function openMergeRequest() {
    const doc = await ready();
    if (!doc) return;
    const button = $('[data-sa-action="submit"]');
    button.disabled = true;
    let createdBranch = null;
    let project = `/projects/${encodeURIComponent(gitlab.project)}`; // where the branch goes: the catalog, or the user's fork
    const branch = branchName(doc);
    const dir = `datalabs/${doc.id}`;
    try {
      say("Checking the catalog's project…");
      const { data: info } = await api("GET", project);
      const upstream = `/projects/${info.id}`;
      project = upstream;
      const target = gitlab.target_branch || info.default_branch || "main";
      const known = await exists(`${upstream}/repository/files/${encodeURIComponent(`${dir}/datalab.yaml`)}?ref=${encodeURIComponent(target)}`);
      const title = `${known ? "Update" : "Add"} datalab ${doc.id} ${doc.version}`;
      let fork = null;
      if (!canPush(info)) {
        fork = await forkOf(upstream);
        project = `/projects/${fork.id}`;
      }
      const sourceId = fork ? fork.id : info.id;
      const { data: listed } = await api("GET", `${upstream}/merge_requests?source_branch=${encodeURIComponent(branch)}&state=opened`);
      const open = (Array.isArray(listed) ? listed : []).filter((mr) => (mr.source_project_id || info.id) === sourceId);
      const branchExists = await exists(`${project}/repository/branches/${encodeURIComponent(branch)}`);
      // what the branch holds before this commit: itself if it exists, else the catalog's target branch
      const before = branchExists ? await treeOf(project, dir, branch) : known ? await treeOf(upstream, dir, target) : [];
      const files = [{ path: "datalab.yaml", bytes: V.zip.strToU8(yamlText(doc)) }];
      for (const f of state.files) files.push({ path: f.path, bytes: new Uint8Array(await f.blob.arrayBuffer()) });
      const wanted = new Set(files.map((f) => `${dir}/${f.path}`));
      const actions = files.map((f) => ({
        action: before.includes(`${dir}/${f.path}`) ? "update" : "create",
        file_path: `${dir}/${f.path}`,
        content: base64(f.bytes),
        encoding: "base64",
      }));
      for (const path of before) if (!wanted.has(path)) actions.push({ action: "delete", file_path: path });
      say(`Committing ${files.length} files to ${branch}…`);
      const commit = { branch, commit_message: title, actions };
      if (!branchExists) {
        commit.start_branch = target;
        if (fork) commit.start_project = info.id; // a fork may be behind: start from the catalog itself
      }
      await api("POST", `${project}/repository/commits`, commit);
      if (!branchExists) createdBranch = branch;
      if (open.length) {
        createdBranch = null;
        done(open[0].web_url, "Merge request updated with your changes: ");
        return;
      }
      say("Opening the merge request…");
      const { data } = await api("POST", `${project}/merge_requests`, {
        source_branch: branch,
        target_branch: target,
        title,
        description: `${doc.summary}\n\nSubmitted from the store's Create page.\n\n${CONFIG.checklist}`,
        remove_source_branch: true,
        ...(fork ? { target_project_id: info.id } : {}),
      });
      createdBranch = null;
      done(data.web_url, "Merge request opened: ");
    } catch (e) {
      let cleanup = "";
      if (createdBranch) {
        try {
          await api("DELETE", `${project}/repository/branches/${encodeURIComponent(createdBranch)}`);
          cleanup = ` The branch ${createdBranch} it had created was deleted, so nothing is left half-done.`;
        } catch (again) {
          cleanup = ` The branch ${createdBranch} was created but could not be removed; pressing the button again reuses it.`;
        }
      } else cleanup = " Nothing was left half-done on GitLab.";
      if (e.status === 403) {
        say(`GitLab does not let this account push to ${gitlab.project} (403: ${e.message}).${cleanup} Ask the catalog's moderators for Developer access, or download the .zip and send it to them. Your datalab is kept on this page.`);
      } else if (e.status === 401) {
        keepToken(null);
        showAuth();
        say(`GitLab refused the sign-in (expired or revoked token): sign in again, then press Open merge request.${cleanup} Your datalab is kept on this page.`);
      } else {
        say(`The merge request could not be opened: ${e.message}.${cleanup} Your datalab is kept on this page; press Open merge request to try again.`);
      }
    } finally {
      button.disabled = !token();
    }
  }

  /** Developer access or more lets the user push branches to the catalog's project. */
  function canPush(info) {
    const p = info.permissions;
    if (!p) return true; // not told: try, a refusal is explained
    const level = Math.max((p.project_access && p.project_access.access_level) || 0, (p.group_access && p.group_access.access_level) || 0);
    return level >= 30;
  }

  /** The user's fork of the catalog (made once, then reused), for users who may not push to it. */
  async function forkOf(upstream) {
    say("You cannot push to the catalog's project, so the merge request comes from your fork; looking for it…");
    const { data: forks } = await api("GET", `${upstream}/forks?owned=true`);
    let fork = Array.isArray(forks) && forks.length ? forks[0] : null;
    if (!fork) {
      say("Making your fork of the catalog (once)…");
      fork = (await api("POST", `${upstream}/fork`, {})).data;
    }
    for (let i = 0; fork.import_status && fork.import_status !== "finished" && fork.import_status !== "none"; i++) {
      if (fork.import_status === "failed" || i >= 120) throw new GitLabError(`GitLab could not make your fork of ${gitlab.project} (${fork.import_status})`, 0);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      fork = (await api("GET", `/projects/${fork.id}`)).data;
    }
    return fork;
  }

  function done(url, text) {
    const status = $(".sa-gitlab__status");
    status.replaceChildren(text, el("a", { href: url, rel: "noopener", text: url }));
  }

  const base64url = (bytes) => base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const randomString = (bytes) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

  async function signIn() {
    const verifier = randomString(48);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const challenge = base64url(digest);
    const stateValue = randomString(24);
    sessionStorage.setItem(OAUTH_KEY, JSON.stringify({ verifier, state: stateValue }));
    await saveDraft();
    const query = new URLSearchParams({
      client_id: gitlab.oauth_application_id, redirect_uri: redirectUri(), response_type: "code", state: stateValue,
      scope: "api", code_challenge: challenge, code_challenge_method: "S256",
    });
    location.assign(`${gitlab.url}/oauth/authorize?${query}`);
  }

  /** Back from GitLab's sign-in page: trade the code for a token (PKCE, no client secret). */
  async function finishSignIn() {
    const params = new URLSearchParams(location.search);
    if (!params.has("code") && !params.has("error")) return;
    history.replaceState(null, "", redirectUri());
    const saved = JSON.parse(sessionStorage.getItem(OAUTH_KEY) || "null");
    sessionStorage.removeItem(OAUTH_KEY);
    if (params.has("error")) {
      say(`GitLab did not sign you in: ${params.get("error_description") || params.get("error")}.`);
      return;
    }
    if (!saved || saved.state !== params.get("state")) {
      say("The answer from GitLab does not belong to this sign-in (state differs); sign in again.");
      return;
    }
    say("Signing in…");
    try {
      const response = await fetch(`${gitlab.url}/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          client_id: gitlab.oauth_application_id, code: params.get("code"), grant_type: "authorization_code",
          redirect_uri: redirectUri(), code_verifier: saved.verifier,
        }),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok || !data.access_token) throw new Error(data.error_description || data.error || `HTTP ${response.status}`);
      keepToken({ kind: "oauth", value: data.access_token });
      say("");
    } catch (e) {
      say(`GitLab did not sign you in (${e.message === "Failed to fetch" ? `cannot reach ${gitlab.url}` : e.message}); try again.`);
    }
  }

  async function showAuth() {
    const box = $("[data-sa-gitlab]");
    if (!gitlab) {
      $(".sa-gitlab__none", box).hidden = false;
      $(".sa-gitlab__auth", box).hidden = true;
      $('[data-sa-action="submit"]').hidden = true;
      return;
    }
    $(".sa-gitlab__where", box).textContent = `To ${gitlab.project} on ${gitlab.url}, branch ${gitlab.target_branch || "main"}.`;
    $('[data-sa-action="oauth"]', box).hidden = !gitlab.oauth_application_id;
    const auth = token();
    $(".sa-gitlab__auth", box).hidden = Boolean(auth);
    $(".sa-gitlab__who", box).hidden = !auth;
    $('[data-sa-action="submit"]').disabled = !auth;
    if (auth) {
      const who = $(".sa-gitlab__who span", box);
      who.textContent = "Signed in to GitLab.";
      try {
        const { data } = await api("GET", "/user");
        who.textContent = `Signed in to GitLab as @${data.username}.`;
      } catch (e) {
        if (e.status === 401) {
          keepToken(null);
          say("GitLab refused the token (expired or revoked); sign in again.");
          return showAuth();
        }
      }
    }
  }

  // ------------------------------------------------------------ start
  async function start() {
    $(".sa-create__bases").textContent = CONFIG.approved_bases.join(", ");
    CONFIG.checklist = CONFIG.checklist || "";
    // The store's ids, to say at once when an id is taken (CI checks the whole catalog).
    fetch(new URL("api/catalog.json", ROOT)).then((r) => r.json()).then((catalog) => {
      state.taken = new Map((catalog.datalabs || []).map((e) => [e.id, e.urls && e.urls.page]));
      if (state.doc) changed(false);
    }).catch(() => null);
    // The SPDX list only feeds the licence picker and check: it loads beside the form, not before it.
    fetch(new URL("api/spdx.json", ROOT)).then((r) => r.json()).then((spdx) => {
      state.spdx = spdx;
      app.append(el("datalist", { id: "sa-spdx" }, spdx.ids.map((id) => el("option", { value: id }))));
      if (state.doc) changed(false);
    }).catch(() => null);
    try {
      const schema = await fetch(new URL("schemas/datalab.schema.json", ROOT)).then((r) => r.json());
      state.schema = schema;
      state.validator = new V.Validator(schema, "2020-12", false);
    } catch (e) {
      $("#sa-create-loading").textContent = "The form could not load the datalab schema; reload the page.";
      return;
    }
    const draft = await loadDraft();
    if (draft && draft.doc) {
      await applyDraft(draft);
      const note = $(".sa-create__draft");
      $(".sa-create__draft-text", note).textContent = `Your draft from ${new Date(draft.savedAt).toLocaleString()} is back.`;
      note.hidden = false;
    } else state.doc = newDoc();
    await finishSignIn();
    $("#sa-create-loading").remove();
    app.querySelector("form").removeAttribute("aria-describedby");
    changed(true);
    await showAuth();

    for (const radio of app.querySelectorAll('input[name="sa-type"]')) {
      radio.addEventListener("change", () => {
        state.doc.type = radio.value;
        if (radio.value === "vnc" && String(state.doc.entry || "").endsWith(".ipynb")) state.doc.entry = "";
        if (radio.value === "jupyterlab" && !String(state.doc.entry || "").endsWith(".ipynb")) state.doc.entry = "";
        if (radio.value === "vnc") delete state.doc.tests;
        autoFill();
        changed(true);
      });
    }
    for (const radio of app.querySelectorAll('input[name="sa-mode"]')) {
      radio.addEventListener("change", () => {
        state.doc.mode = radio.value;
        changed(true);
      });
    }
    const picker = $("[data-sa-files]");
    picker.addEventListener("change", async () => {
      const chosen = [...picker.files];
      picker.value = "";
      await route(chosen);
    });
    const drop = $("[data-sa-drop]");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("sa-drop--over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("sa-drop--over"));
    drop.addEventListener("drop", async (e) => {
      e.preventDefault();
      drop.classList.remove("sa-drop--over");
      await route([...e.dataTransfer.files]);
    });
    $("[data-sa-import]").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      e.target.value = "";
      if (file) await importFile(file);
    });
    app.addEventListener("click", (e) => {
      const action = ours(e.target.closest("[data-sa-action]"));
      if (!action) return;
      const name = action.dataset.saAction;
      if (name === "download") download();
      else if (name === "submit") openMergeRequest();
      else if (name === "oauth") signIn();
      else if (name === "use-token") {
        const input = $("#sa-gitlab-token");
        if (!input.value.trim()) return say("Paste a personal access token first.");
        keepToken({ kind: "pat", value: input.value.trim() });
        input.value = "";
        say("");
        showAuth();
      } else if (name === "sign-out") {
        keepToken(null);
        showAuth();
      } else if (name === "start-over") {
        if (!confirm("Start over? Your draft and its files are removed from this browser.")) return;
        state.doc = newDoc();
        state.files = [];
        state.touched = new Set();
        state.showAll = false;
        state.idEdited = false;
        state.autoChangelog = true;
        state.updating = null;
        syncKind();
        $(".sa-create__draft").hidden = true;
        changed(true);
      }
    });
    app.dataset.ready = "true";
  }

  /** Files dropped or picked: a .zip or datalab.yaml continues a datalab, the rest are added. */
  async function route(files) {
    const meta = files.find((f) => f.name === "datalab.yaml" || /\.zip$/i.test(f.name));
    if (meta) await importFile(meta);
    const rest = files.filter((f) => f !== meta);
    if (rest.length) await addFiles(rest.map((f) => ({ path: placeFor(f.name), blob: f, name: f.name })));
  }

  // test hooks: the same paths the form uses (import, check), for the no-drift test
  window.__sciappsCreate = {
    problems: () => problems(),
    load: (doc) => { startFrom(doc); changed(true); return problems(); },
  };

  start();
})();
