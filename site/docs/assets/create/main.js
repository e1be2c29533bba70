/* SciApps store, the Create page: Start: wire the page's controls, restore the draft. */
import { problems, showErrors } from "./checks.js";
import { $, app, changed, CONFIG, el, newDoc, onChange, ours, ROOT, state, typeOf, V } from "./core.js";
import { applyDraft, loadDraft, saveDraft, syncKind } from "./draft.js";
import { addFiles, autoFill, placeFor, renderFiles } from "./files.js";
import { renderFields } from "./form.js";
import { finishSignIn, keepToken, openMergeRequest, say, showAuth, signIn, token } from "./gitlab.js";
import { renderPreview } from "./preview.js";
import { download, importFile, startFrom } from "./transfer.js";

// ------------------------------------------------------------ start
/** The one place where a change leads to the re-render (at once when structural) and,
 * shortly after, to the checks, the preview and the saved draft. */
function refresh() {
  state.current = problems();
  showErrors();
  renderPreview();
  saveDraft();
  const submit = $('[data-sa-action="submit"]');
  submit.disabled = !CONFIG.gitlab || !token();
  app.dataset.checked = String(Number(app.dataset.checked || 0) + 1);
}

onChange((structural, focusId) => {
  if (structural) {
    renderFields(focusId);
    renderFiles();
  }
  clearTimeout(state.timer);
  state.timer = setTimeout(refresh, structural ? 0 : 150);
});

/** What the form can do without, loaded beside it: each check runs again when it arrives. */
function loadBeside() {
  // The store's ids, to say at once when an id is taken (CI checks the whole catalog).
  fetch(new URL("api/catalog.json", ROOT)).then((r) => r.json()).then((catalog) => {
    state.taken = new Map((catalog.datalabs || []).map((e) => [e.id, e.urls && e.urls.page]));
    if (state.doc) changed(false);
  }).catch(() => null);
  // The CLI's rules, so each check shows the id and the hint `sciapps validate` would give.
  fetch(new URL("reference/rules.json", ROOT)).then((r) => r.json()).then((data) => {
    state.rules = new Map(data.rules.map((r) => [r.id, r]));
    if (state.doc) changed(false);
  }).catch(() => null);
  // The SPDX list only feeds the licence picker and check: it loads beside the form, not before it.
  fetch(new URL("api/spdx.json", ROOT)).then((r) => r.json()).then((spdx) => {
    state.spdx = spdx;
    app.append(el("datalist", { id: "sa-spdx" }, spdx.ids.map((id) => el("option", { value: id }))));
    if (state.doc) changed(false);
  }).catch(() => null);
}

/** Someone coming back (a draft kept here, or an earlier visit) is offered to continue an
 * existing datalab before the steps of a new one; a first visit sees the steps first. */
const VISITED = "sciapps-create-visited";
function continueFirst(hasDraft) {
  let returning = hasDraft;
  try {
    returning = returning || localStorage.getItem(VISITED) === "1";
    localStorage.setItem(VISITED, "1");
  } catch (e) {
    /* storage refused (private mode): every visit is a first one */
  }
  if (!returning) return;
  const section = $(".sa-step--continue");
  section.classList.add("sa-step--first");
  $(".sa-step", app.querySelector("form")).before(section);
}

export async function start() {
  $(".sa-create__bases").textContent = CONFIG.approved_bases.join(", ");
  CONFIG.checklist = CONFIG.checklist || "";
  loadBeside();
  try {
    const schema = await fetch(new URL("schemas/datalab.schema.json", ROOT)).then((r) => r.json());
    state.schema = schema;
    state.validator = new V.Validator(schema, "2020-12", false);
  } catch (e) {
    $("#sa-create-loading").textContent = "The form could not load the datalab schema; reload the page.";
    return;
  }
  const draft = await loadDraft();
  continueFirst(Boolean(draft && draft.doc));
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
  wireChoices();
  wireFiles();
  app.addEventListener("click", onAction);
  app.dataset.ready = "true";
}

/** Step 1: the type and the build mode. */
function wireChoices() {
  for (const radio of app.querySelectorAll('input[name="sa-type"]')) {
    radio.addEventListener("change", () => {
      state.doc.type = radio.value;
      const kind = typeOf(state.doc);
      if (!new RegExp(kind.entry_pattern).test(String(state.doc.entry || ""))) state.doc.entry = ""; // not this type's kind of entry
      if (!kind.entry_is_file) delete state.doc.tests; // tests are notebooks
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
}

/** Step 2 and import: files picked, dropped, or a datalab loaded to continue. */
function wireFiles() {
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
}

function useToken() {
  const input = $("#sa-gitlab-token");
  if (!input.value.trim()) return say("Paste a personal access token first.");
  keepToken({ kind: "pat", value: input.value.trim() });
  input.value = "";
  say("");
  showAuth();
}

function startOver() {
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

/** The page's buttons, by their data-sa-action. */
const ACTIONS = {
  download: () => download(),
  submit: () => openMergeRequest(),
  oauth: () => signIn(),
  "use-token": useToken,
  "sign-out": () => { keepToken(null); showAuth(); },
  "start-over": startOver,
};

function onAction(e) {
  const action = ours(e.target.closest("[data-sa-action]")); // never a button inside the preview
  const run = action && Object.hasOwn(ACTIONS, action.dataset.saAction) ? ACTIONS[action.dataset.saAction] : null;
  if (run) run();
}

/** Files dropped or picked: a .zip or datalab.yaml continues a datalab, the rest are added. */
export async function route(files) {
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

if (app && window.top !== window.self) {
  // A GitLab token is typed here: the page never runs inside another site's frame, where
  // that site could overlay or script around it (a meta CSP cannot set frame-ancestors).
  const refusal = document.createElement("p");
  refusal.textContent = "The Create page does not run inside another page. Open it directly: " + location.href;
  app.replaceChildren(refusal);
} else if (app) {
  start();
}
