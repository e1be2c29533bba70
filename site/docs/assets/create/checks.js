/* SciApps store, the Create page: The checks: the schema's and those that mirror `sciapps validate`, each citing its rule id. */
import { $, app, byId, changed, CONFIG, el, enumNames, label, LIMITS, output, pathId, rule, state, syncChangelog, typeOf, yamlText } from "./core.js";
import { idFrom, notebooks } from "./files.js";

// ------------------------------------------------------------ checks
export function friendly(error, schemaAt) {
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

/** What is wrong with an identifier, concretely, and the one it could be ("My Analysis" -> my-analysis). */
export function idProblem(value) {
  const text = String(value || "");
  const suggestion = idFrom(text);
  const why = /[A-Z]/.test(text)
    ? "has capital letters"
    : /\s/.test(text)
      ? "has spaces"
      : /^-|-$/.test(text)
        ? "starts or ends with a hyphen"
        : text.length > 63
          ? "is longer than 63 characters"
          : "has characters other than lower-case letters, digits and hyphens";
  return `${why}: an identifier is lower-case letters, digits and hyphens${suggestion && suggestion !== text ? `, such as ${suggestion}` : ""}`;
}

export function schemaAt(keywordLocation) {
  const parts = keywordLocation.replace(/^#\/?/, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  parts.pop(); // the keyword itself
  let node = state.schema;
  for (const part of parts) node = node && node[part];
  return node;
}

export function closestName(name) {
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

export function schemaProblems(doc) {
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
    const problem = { path, text: path === "/id" && error.keyword === "pattern" ? idProblem(doc.id) : text, rule: schemaRule(error, path) };
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

/** The rule of `sciapps validate` that reports a schema error, chosen as the CLI's
 * schema refinements choose (catalog/rules/schema.py: the first that claims it). */
export function schemaRule(error, path) {
  if (error.keyword === "false") return "DL-011";
  if (error.keyword === "required") return "DL-012";
  if (path === "/version") return "DL-013";
  const vocabulary = error.keyword === "enum" ? (schemaAt(error.keywordLocation) || {})["x-vocabulary"] : null;
  if (vocabulary === "missions") return "DL-014";
  if (vocabulary === "categories") return "DL-015";
  if (error.keyword === "type") return "DL-016";
  return "DL-010";
}

export function licenceProblem(value) {
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

/* DL-074 and DL-075 as sciapps.catalog.rules.identity has them (tests/site/test_create.py holds the two alike). */
const DOI = /^10\.[0-9]{4,9}\/[-._;()/:<>[\]A-Za-z0-9]+$/;

/** [given names, family names] of a name a citation can carry, else null: `Marta Lindqvist` or `Lindqvist, Marta`. */
export function citedName(name) {
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u.test(name)) return null;
  let given, family;
  if (name.includes(",")) {
    const at = name.indexOf(",");
    [family, given] = [name.slice(0, at), name.slice(at + 1)];
  } else {
    const words = name.split(/\s+/).filter(Boolean);
    [given, family] = [words.slice(0, -1).join(" "), words.length ? words[words.length - 1] : ""];
  }
  given = given.split(/\s+/).filter(Boolean).join(" ");
  family = family.split(/\s+/).filter(Boolean).join(" ");
  const letters = /\p{L}/u;
  if (!given || !family || given.includes(",") || !letters.test(family) || !letters.test(given)) return null;
  return [given, family];
}

export function orcidOk(orcid) {
  const digits = orcid.replace(/-/g, "");
  let total = 0;
  for (const ch of digits.slice(0, -1)) total = (total + Number(ch)) * 2;
  const check = (12 - (total % 11)) % 11;
  return digits.slice(-1) === (check === 10 ? "X" : String(check));
}

/** Everything that would make `sciapps validate` refuse the datalab, as far as a browser can tell. */
export function problems() {
  syncChangelog();
  const doc = output();
  const list = schemaProblems(doc);
  const has = (path) => state.files.some((f) => f.path === path);
  if (typeof doc.id === "string" && state.taken && state.taken.has(doc.id) && doc.id !== state.updating) {
    list.push({ path: "/id", rule: "DL-021", text: `${doc.id} is already a datalab in the store; choose another id, or load that datalab's folder (Continue an existing datalab) to update it` });
  }
  if (typeof doc.license === "string" && !list.some((p) => p.path === "/license")) {
    const problem = licenceProblem(doc.license);
    if (problem) list.push({ path: "/license", rule: "DL-022", text: problem });
  }
  for (const field of ["maintainers", "authors"]) {
    (Array.isArray(doc[field]) ? doc[field] : []).forEach((m, i) => {
      if (m && typeof m.orcid === "string" && /^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$/.test(m.orcid) && !orcidOk(m.orcid)) {
        list.push({ path: `/${field}/${i}/orcid`, rule: "DL-023", text: "fails the ORCID checksum; copy the iD from your ORCID record" });
      }
    });
  }
  (Array.isArray(doc.authors) ? doc.authors : []).forEach((a, i) => {
    if (a && typeof a.name === "string" && a.name.length >= 2 && !citedName(a.name)) {
      list.push({ path: `/authors/${i}/name`, rule: "DL-074", text: "is not a name a citation can carry; write given names then family name (Marta Lindqvist), or Lindqvist, Marta" });
    }
  });
  const doi = doc.links && typeof doc.links.doi === "string" && doc.links.doi ? doc.links.doi : null;
  if (doi && !DOI.test(doi)) {
    const bare = doi.replace(/^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:)/i, "");
    list.push({ path: "/links/doi", rule: "DL-075", text: bare !== doi && DOI.test(bare) ? `is a DOI with a prefix; write ${bare}` : "is not a DOI; write it alone, e.g. 10.1051/0004-6361/202243940" });
  }
  if (typeOf(doc).entry_is_file && typeof doc.entry === "string" && doc.entry.endsWith(".ipynb") && !has(doc.entry)) {
    list.push({ path: "/entry", rule: "DL-031", text: `${doc.entry} is not among the files; add it in step 2` });
  }
  if (typeOf(doc).entry_is_file && !notebooks().length) list.push({ path: "files", rule: "DL-031", text: `a ${typeOf(doc).label} datalab needs at least one notebook (.ipynb); add it in step 2` });
  (Array.isArray(doc.tests) ? doc.tests : []).forEach((t, i) => { if (typeof t === "string" && !has(t)) list.push({ path: `/tests/${i}`, rule: "DL-031", text: `${t} is not among the files` }); });
  (Array.isArray(doc.screenshots) ? doc.screenshots : []).forEach((s, i) => {
    if (s && typeof s.file === "string" && !has(s.file)) list.push({ path: `/screenshots/${i}/file`, rule: "DL-031", text: `${s.file} is not among the files` });
  });
  if (typeof doc.icon === "string" && !has(doc.icon)) list.push({ path: "/icon", rule: "DL-031", text: `${doc.icon} is not among the files` });
  const missions = new Set(Array.isArray(doc.missions) ? doc.missions : []);
  const mounts = new Map();
  (Array.isArray(doc.data_assets) ? doc.data_assets : []).forEach((a, i) => {
    if (!a || typeof a !== "object") return;
    if (a.mission && !missions.has(a.mission) && CONFIG.missions[a.mission]) {
      list.push({ path: `/data_assets/${i}/mission`, rule: "DL-062", text: `${CONFIG.missions[a.mission]} is not among the datalab's missions; tick it under Missions` });
    }
    if (a.mount && mounts.has(a.mount)) list.push({ path: `/data_assets/${i}/mount`, rule: "DL-061", text: `${a.mount} is already used by data collection ${mounts.get(a.mount) + 1}` });
    else if (a.mount) mounts.set(a.mount, i);
  });
  const dockerfile = state.files.find((f) => f.path === "Dockerfile");
  if (doc.mode === "basic" && dockerfile) list.push({ path: "files", rule: "DL-050", text: "a Dockerfile is only used in advanced mode: choose Advanced in step 1, or remove the Dockerfile" });
  if (doc.mode === "advanced" && !dockerfile) list.push({ path: "files", rule: "DL-051", text: "advanced mode needs a Dockerfile: add one in step 2, or choose Basic in step 1" });
  if (dockerfile && !CONFIG.approved_bases.includes(dockerfile.base)) {
    list.push({ path: "files", rule: "DL-052", text: `the Dockerfile starts FROM ${dockerfile.base}; start FROM an approved base image: ${CONFIG.approved_bases.join(", ")}` });
  }
  const yamlBytes = new TextEncoder().encode(yamlText(doc)).length;
  if (yamlBytes > LIMITS.metadata_kb * 1024) list.push({ path: "", rule: "DL-006", text: `datalab.yaml would be ${(yamlBytes / 1024).toFixed(0)} KiB, over the ${LIMITS.metadata_kb} KiB limit; shorten the description` });
  return list;
}

export function fieldFor(path) {
  const parts = path.split("/").slice(1);
  while (true) {
    const node = app.querySelector(`.sa-fields [data-path="${CSS.escape("/" + parts.join("/"))}"]`);
    if (node && parts.length) return node;
    if (!parts.length) return null;
    parts.pop();
  }
}

export function isShown(path) {
  if (state.showAll) return true;
  for (const touched of state.touched) if (path === touched || path.startsWith(touched + "/") || touched.startsWith(path + "/")) return true;
  return false;
}

export function showErrors() {
  for (const node of app.querySelectorAll(".sa-fields .sa-field__error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const node of app.querySelectorAll(".sa-fields [aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const problem of state.current) {
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

export function describe(problem) {
  if (problem.path === "files") return `Files: ${problem.text}.`;
  if (!problem.path) return `${problem.text}.`;
  const parts = problem.path.split("/").slice(1);
  const words = parts.map((p) => (/^\d+$/.test(p) ? String(Number(p) + 1) : label(p)));
  return `${words.join(" › ")}: ${problem.text}.`;
}

export function renderSummary() {
  const box = $(".sa-summary");
  if (!state.showAll) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  $(".sa-summary__title", box).textContent = state.current.length
    ? `${state.current.length} thing${state.current.length === 1 ? "" : "s"} to fix before it can be submitted`
    : "Ready: sciapps validate will accept it.";
  box.classList.toggle("sa-summary--ok", !state.current.length);
  $("ul", box).replaceChildren(...state.current.map((problem) => {
    const node = problem.path.startsWith("/") ? fieldFor(problem.path) : null;
    const text = describe(problem);
    const item = el("li", {});
    if (node) {
      const target = node.querySelector("input, select, textarea") || node;
      item.append(el("a", { href: `#${target.id || ""}`, text, onclick: (e) => { e.preventDefault(); target.focus(); } }));
    } else item.append(text);
    if (problem.rule) {
      // what `sciapps validate` would say, for developers: plain sentences first, codes on request
      const cited = rule(problem.rule);
      const more = el("details", { class: "sa-rule-details" }, el("summary", { text: "For developers" }));
      more.append(el("span", { class: "sa-rule", text: `${cited.id}${cited.name ? " " + cited.name : ""}` }));
      if (cited.hint) more.append(el("span", { class: "sa-rule__hint", text: ` Fix: ${cited.hint}` }));
      item.append(" ", more);
    }
    if (problem.remove) {
      item.append(" ", el("button", {
        type: "button", class: "md-button", text: `Remove ${problem.remove}`,
        onclick: () => { delete state.doc[problem.remove]; changed(true); },
      }));
    }
    return item;
  }));
}
