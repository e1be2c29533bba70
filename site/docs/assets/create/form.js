/* SciApps store, the Create page: The metadata form, generated from the datalab schema. */
import { showErrors } from "./checks.js";
import { $, byId, changed, el, enumNames, getAt, HIDDEN, ITEM_LABELS, label, pathId, pointer, ROOT, setAt, state, typeOf, V } from "./core.js";
import { notebooks, pictures, suggestId } from "./files.js";

// ------------------------------------------------------------ the form, from the schema
export function help(text) {
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

/** A field's help on this page: the schema's words for people (`x-help`), else its description. */
const said = (schema) => schema["x-help"] || schema.description;

export function wrap(path, title, required, control, description) {
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

export function onValue(path, read) {
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

export function blurTouch(path) {
  return () => {
    state.touched.add(pointer(path));
    showErrors();
  };
}

export function textInput(path, schema, required) {
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
  return wrap(path, label(path[path.length - 1]), required, input, said(schema));
}

export function numberInput(path, schema, required) {
  const value = getAt(path);
  const input = el("input", { type: "number", inputmode: "decimal" });
  if (schema.minimum !== undefined) input.min = schema.minimum;
  if (schema.maximum !== undefined) input.max = schema.maximum;
  input.step = schema.type === "integer" ? "1" : "any";
  input.value = value === undefined ? "" : String(value);
  if (schema.default !== undefined) input.placeholder = String(schema.default);
  input.addEventListener("input", onValue(path, (t) => (t.value === "" ? undefined : Number(t.value))));
  input.addEventListener("blur", blurTouch(path));
  return wrap(path, label(path[path.length - 1]), required, input, said(schema));
}

export function selectInput(path, schema, required, options) {
  const value = getAt(path);
  const names = enumNames(options) || {};
  const select = el("select", {}, el("option", { value: "", text: required ? "Choose…" : "—" }),
    options.map((v) => el("option", { value: v, text: names[v] || v, selected: v === value })));
  select.addEventListener("change", onValue(path, (t) => (t.value === "" ? undefined : t.value)));
  return wrap(path, label(path[path.length - 1]), required, select, said(schema));
}

export function checkboxInput(path, schema) {
  const value = getAt(path);
  const box = el("input", { type: "checkbox", checked: value === undefined ? schema.default === true : Boolean(value) });
  box.addEventListener("change", onValue(path, (t) => t.checked));
  const id = pathId(path);
  box.id = id;
  return el("div", { class: "sa-field sa-field--check", "data-path": pointer(path) },
    box, el("label", { for: id, text: label(path[path.length - 1]) }), said(schema) ? help(said(schema)) : null,
    el("p", { class: "sa-field__error", id: `${id}-error`, hidden: true }));
}

/** A group of checkboxes for an array of choices (missions, categories, test notebooks). */
export function choiceGroup(path, schema, required, options, names) {
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
  return wrap(path, "", required, fieldset, said(schema));
}

export function fileSelect(path, schema, required, choices, noneText) {
  const value = getAt(path);
  const select = el("select", {}, el("option", { value: "", text: choices.length ? (required ? "Choose…" : "—") : noneText }),
    choices.map((v) => el("option", { value: v, text: v, selected: v === value })));
  if (value && !choices.includes(value)) select.append(el("option", { value, text: `${value} (not among the files)`, selected: true }));
  select.addEventListener("change", onValue(path, (t) => (t.value === "" ? undefined : t.value)));
  return wrap(path, label(path[path.length - 1]), required, select, said(schema));
}

export function arrayInput(path, schema, required) {
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
  return wrap(path, "", required, fieldset, said(schema));
}

/** The fields of an object. Inside an optional group (links, citation) nothing is marked
 * required: its required fields are needed only once the group is filled in, and the check says so. */
export function objectFields(path, schema, needed) {
  const required = new Set(needed ? schema.required || [] : []);
  return el("div", { class: "sa-object" }, Object.entries(schema.properties || {}).map(([key, sub]) => field([...path, key], sub, required.has(key))));
}

export function field(path, schema, required) {
  const key = path[path.length - 1];
  const top = path.length === 1;
  const doc = state.doc;
  if (top && key === "entry") {
    if (typeOf(doc).entry_is_file) return fileSelect(path, { description: `The notebook ${typeOf(doc).label} opens first.` }, true, notebooks(), "Add a notebook in step 2");
    return textInput(path, { ...schema, description: "The command of the desktop application to start, for example `topcat`; install it with apt.txt (basic) or your Dockerfile." }, true);
  }
  if (top && key === "tests") return typeOf(doc).entry_is_file ? choiceGroup(path, schema, false, notebooks(), null) : null;
  if (top && key === "icon") return fileSelect(path, schema, false, pictures(), "Add a picture in step 2");
  if (path.length === 3 && path[0] === "screenshots" && key === "file") return fileSelect(path, schema, true, pictures(), "Add a picture in step 2");
  if (schema.enum) return selectInput(path, schema, required, schema.enum);
  if (schema.type === "array" && schema.items && schema.items.enum) {
    return choiceGroup(path, schema, required, schema.items.enum, enumNames(schema.items.enum));
  }
  if (schema.type === "array") return arrayInput(path, schema, required);
  if (schema.type === "object") {
    const box = el("fieldset", { class: "sa-group" }, el("legend", { text: label(key) }), objectFields(path, schema, required));
    return wrap(path, "", required, box, said(schema));
  }
  if (schema.type === "boolean") return checkboxInput(path, schema);
  if (schema.type === "number" || schema.type === "integer") return numberInput(path, schema, required);
  return textInput(path, schema, required);
}

export function renderFields(focusId) {
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
