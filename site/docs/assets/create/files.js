/* SciApps store, the Create page: The datalab's files: where each goes, the limits and checks each must pass. */
import { $, changed, el, ENV_FILES, LIMITS, MIB, mib, PICTURE, ROOT, rule, size, state, typeOf, V } from "./core.js";

// ------------------------------------------------------------ files
export function placeFor(name) {
  if (/\.ipynb$/i.test(name)) return `notebooks/${name}`;
  if (/\.(png|jpe?g|webp|gif)$/i.test(name)) return `screenshots/${name}`;
  if (ENV_FILES.includes(name) || name === "Dockerfile") return name;
  return `data/${name}`;
}

/** A refusal that names the rule of `sciapps validate` it mirrors: "reason (DL-040 invalid_notebook)". */
export function cite(id, text) {
  const known = rule(id);
  return `${text} (${known.id}${known.name ? " " + known.name : ""})`;
}

export function nameProblem(path) {
  if (/[\x00-\x1f\x7f]/.test(path)) return cite("DL-024", "its name contains a control character; rename the file");
  if (path.includes("\\")) return "its name contains a backslash; rename the file";
  if (path.split("/").some((part) => part === ".." || part.includes(".."))) return cite("DL-030", "its name contains '..'; rename the file");
  if (path.startsWith("/")) return cite("DL-030", "it is an absolute path");
  if (path.split("/").some((part) => part === "" || part === ".")) return "its name is empty or '.'; rename the file";
  if (path.length > 200) return "its name is longer than 200 characters; rename the file";
  return null;
}

export function limitFor(path) {
  if (path.endsWith(".ipynb")) return [LIMITS.notebook_mb * MIB, "notebooks"];
  if (/^screenshots\//.test(path) || PICTURE.test(path)) return [LIMITS.image_mb * MIB, "pictures"];
  return [LIMITS.file_mb * MIB, "other files"];
}

export function jsonLine(text, message) {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const pos = /position (\d+)/.exec(message);
  return pos ? text.slice(0, Number(pos[1])).split("\n").length : null;
}

/** Why the content of a file cannot go into a datalab, or null. */
export async function contentProblem(path, blob) {
  const [limit, kind] = limitFor(path);
  if (blob.size > limit) {
    const hint = path.endsWith(".ipynb") ? "clear its outputs (Kernel → Restart and clear outputs) and save it again" : "add a smaller sample; mount the full data as mission data";
    return cite("DL-033", `it is ${mib(blob.size)}, over the ${mib(limit)} limit for ${kind}: ${hint}`);
  }
  if (path.endsWith(".ipynb")) return notebookProblem(blob);
  if (/(^|\/)environment\.ya?ml$/.test(path)) {
    return cite("DL-056", "conda environments are not supported: list Python packages in requirements.txt and system packages in apt.txt");
  }
  if (path === "apt.txt") return aptProblem(blob);
  if (path === "Dockerfile") return dockerfileProblem(await blob.text());
  if (/\.(png|jpe?g|webp|gif)$/i.test(path)) return pictureProblem(blob);
  return null;
}

/** A file's text, or null when it is not UTF-8. */
async function utf8Text(blob) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(await blob.arrayBuffer());
  } catch (e) {
    return null;
  }
}

/** A notebook as nbformat reads it: UTF-8 JSON, format 4, valid against its schema. */
async function notebookProblem(blob) {
  const text = await utf8Text(blob);
  if (text === null) return cite("DL-040", "it is not a notebook: not UTF-8 text; open it in JupyterLab and save it again");
  let nb;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    const line = jsonLine(text, e.message);
    return cite("DL-040", `it is not a notebook: not valid JSON${line ? ` (line ${line})` : ""}; open it in JupyterLab and save it again`);
  }
  if (!nb || typeof nb !== "object" || Array.isArray(nb) || !("nbformat" in nb)) {
    return cite("DL-040", "it is JSON but not a Jupyter notebook (no nbformat field)");
  }
  if (nb.nbformat !== 4) return cite("DL-040", `it uses notebook format ${JSON.stringify(nb.nbformat)}; save it again with Jupyter (format 4)`);
  const problem = await notebookSchemaProblem(nb);
  if (problem) return cite("DL-040", problem);
  return null;
}

/** apt.txt: one Debian package name (optionally =version) per line, # comments. */
async function aptProblem(blob) {
  const text = await utf8Text(blob);
  if (text === null) return cite("DL-055", "apt.txt is not UTF-8 text");
  const bad = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    for (const word of raw.split("#")[0].trim().split(/\s+/).filter(Boolean)) {
      if (!APT_PACKAGE.test(word)) bad.push(`line ${i + 1}: ${JSON.stringify(word)}`);
    }
  });
  if (bad.length) return cite("DL-055", `apt.txt lists what is not a Debian package name (${bad.slice(0, 3).join("; ")}); write one package name per line, e.g. saods9 or topcat=4.8.7-3`);
  return null;
}

/** A PNG, JPEG or WebP picture that decodes, as the CLI's Pillow check reads it. */
async function pictureProblem(blob) {
  const head = new Uint8Array(await blob.slice(0, 12).arrayBuffer());
  const ascii = String.fromCharCode(...head);
  const png = head[0] === 0x89 && ascii.slice(1, 4) === "PNG";
  const jpeg = head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
  const webp = ascii.slice(0, 4) === "RIFF" && ascii.slice(8, 12) === "WEBP";
  if (ascii.startsWith("GIF")) return cite("DL-041", "GIF pictures are not accepted; save it as PNG, JPEG or WebP");
  if (!png && !jpeg && !webp) return cite("DL-041", "it is not a PNG, JPEG or WebP picture");
  try {
    (await createImageBitmap(blob)).close(); // decodes it, as the CLI's Pillow check does
  } catch (e) {
    return cite("DL-041", "the picture cannot be decoded (truncated or damaged); export it again");
  }
  return null;
}

export const APT_PACKAGE = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$/;
export const nbSchemas = new Map();

/** Checks a notebook against nbformat's own schema for its minor version, as the CLI does. */
export async function notebookSchemaProblem(nb) {
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
export function dockerfileProblem(text) {
  const lines = text.split(/\r?\n/);
  let lastUser = null;
  for (const [i, raw] of lines.entries()) {
    const m = /^\s*(\w+)\s+(.*)$/.exec(raw);
    if (!m) continue;
    const [instruction, value] = [m[1].toUpperCase(), m[2].trim()];
    if (instruction === "FROM") lastUser = null;
    else if (instruction === "USER") lastUser = { value, line: i + 1 };
    else if (instruction === "ADD" && /(^|\s)(https?|ftp|git)(:\/\/|@)|(^|\s)git@/.test(value)) {
      return cite("DL-054", `the Dockerfile downloads with ADD ${value} (line ${i + 1}); put the file in the datalab and COPY it, or install it with apt-get or pip`);
    }
  }
  if (lastUser && ["root", "0"].includes(lastUser.value.split(":")[0].trim())) {
    return cite("DL-053", `the Dockerfile's image ends as ${lastUser.value} (line ${lastUser.line}); end it with USER 1000`);
  }
  return null;
}

/** A file of the datalab: its picture as a data: URL for the preview, or a Dockerfile's
 * base image name; read once, when the file is added or the draft restored. */
export async function fileRecord(path, blob) {
  const record = { path, blob, url: PICTURE.test(path) ? await dataUrl(blob) : null, base: null };
  if (path === "Dockerfile") {
    const from = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)/im.exec(await blob.text());
    record.base = from ? from[1].split("@")[0].split("/").pop().split(":")[0] : "(no FROM line)";
  }
  return record;
}

export function dataUrl(blob) {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => resolve(null);
    reader.readAsDataURL(blob);
  });
}

/** Add files: each is checked; those refused are named with the reason, the rest kept. */
export async function addFiles(items) {
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
      refused.push(`${name}: ${cite("DL-034", `a datalab has at most ${LIMITS.max_files} files; mount large collections as mission data`)}.`);
      continue;
    }
    const total = others.reduce((sum, f) => sum + f.blob.size, 0) + blob.size;
    if (total > LIMITS.datalab_mb * MIB) {
      refused.push(`${name}: ${cite("DL-034", `the datalab would hold ${mib(total)}, over the ${mib(LIMITS.datalab_mb * MIB)} limit; add a smaller sample`)}.`);
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

export function removeFile(path) {
  state.files = state.files.filter((f) => f.path !== path);
  const doc = state.doc;
  if (doc.entry === path) doc.entry = "";
  if (Array.isArray(doc.tests)) doc.tests = doc.tests.filter((t) => t !== path);
  if (doc.icon === path) delete doc.icon;
  $(".sa-files__status").textContent = `Removed ${path}.`;
  changed(true);
}

export function renderFiles() {
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

export const notebooks = () => state.files.filter((f) => f.path.endsWith(".ipynb")).map((f) => f.path);
export const pictures = () => state.files.filter((f) => f.url).map((f) => f.path);

/** Sensible values a scientist would otherwise have to type. */
export function autoFill() {
  const doc = state.doc;
  if (typeOf(doc).entry_is_file && !state.files.some((f) => f.path === doc.entry) && notebooks().length) doc.entry = notebooks()[0];
  if (!doc.name && typeOf(doc).entry_is_file && doc.entry) {
    const stem = doc.entry.split("/").pop().replace(/\.ipynb$/, "").replace(/[_-]+/g, " ").trim();
    if (stem.length >= 3) {
      doc.name = stem.charAt(0).toUpperCase() + stem.slice(1);
      suggestId();
    }
  }
}

/** The identifier a name suggests: "My Analysis" -> my-analysis. */
export function idFrom(text) {
  return String(text || "")
    .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
}

export function suggestId() {
  if (state.idEdited) return;
  state.doc.id = idFrom(state.doc.name);
}
