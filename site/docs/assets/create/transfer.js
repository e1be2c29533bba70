/* SciApps store, the Create page: Import (a datalab.yaml or a .zip) and download (a .zip of the folder). */
import { problems, showErrors } from "./checks.js";
import { $, branchName, changed, CONFIG, el, EXECUTABLE, LIMITS, MIB, mib, output, size, state, V, yamlText } from "./core.js";
import { syncKind } from "./draft.js";
import { addFiles } from "./files.js";

// ------------------------------------------------------------ import
export async function importFile(file) {
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

export function parseYaml(text, where) {
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
export function checkExpansion(doc, where) {
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
export function unzipWithinLimits(bytes, name) {
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

export function startFrom(doc) {
  state.doc = doc;
  state.updating = typeof doc.id === "string" ? doc.id : null; // an existing datalab keeps its id
  if (doc.type === undefined) doc.type = Object.keys(CONFIG.types)[0];
  state.idEdited = true;
  state.autoChangelog = false;
  state.touched = new Set();
  state.showAll = true;
  syncKind();
}

// ------------------------------------------------------------ download
export async function buildZip(doc) {
  const entries = {};
  const root = doc.id;
  entries[`${root}/datalab.yaml`] = V.zip.strToU8(yamlText(doc));
  for (const f of state.files) {
    const data = new Uint8Array(await f.blob.arrayBuffer());
    entries[`${root}/${f.path}`] = EXECUTABLE.includes(f.path) ? [data, { os: 3, attrs: (0o100755 << 16) >>> 0 }] : data;
  }
  return new Blob([V.zip.zipSync(entries, { level: 6 })], { type: "application/zip" });
}

export async function ready() {
  clearTimeout(state.timer);
  state.current = problems();
  state.showAll = true;
  showErrors();
  if (state.current.length) {
    $(".sa-summary").focus();
    return null;
  }
  return output();
}

export async function download() {
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
