/* SciApps store, the Create page: Updates after each change, and the draft kept in IndexedDB. */
import { $, app, state } from "./core.js";
import { fileRecord } from "./files.js";

// ------------------------------------------------------------ updates and the draft
export const DB = { name: "sciapps-create", store: "drafts" };
export function db() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB.name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(DB.store);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
export async function idb(mode, action) {
  const conn = await db();
  return new Promise((resolve, reject) => {
    const tx = conn.transaction(DB.store, mode);
    const request = action(tx.objectStore(DB.store));
    tx.oncomplete = () => { conn.close(); resolve(request.result); };
    tx.onerror = () => { conn.close(); reject(tx.error); };
  });
}
export let saving = Promise.resolve();
export function saveDraft() {
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
export async function loadDraft() {
  try {
    return await idb("readonly", (s) => s.get("current"));
  } catch (e) {
    return null;
  }
}

export async function applyDraft(draft) {
  state.doc = draft.doc;
  state.idEdited = Boolean(draft.idEdited);
  state.autoChangelog = draft.autoChangelog !== false;
  state.updating = draft.updating || null;
  state.files = [];
  for (const f of draft.files || []) state.files.push(await fileRecord(f.path, f.blob));
  syncKind();
}

export function syncKind() {
  for (const radio of app.querySelectorAll('input[name="sa-type"]')) radio.checked = radio.value === state.doc.type;
  for (const radio of app.querySelectorAll('input[name="sa-mode"]')) radio.checked = radio.value === (state.doc.mode || "basic");
}
