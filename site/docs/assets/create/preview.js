/* SciApps store, the Create page: The preview of the datalab's store page. */
import { $, CONFIG, el, output, state, typeOf, V } from "./core.js";

// ------------------------------------------------------------ preview
/** HTML of a description as the store shows it: the store's own allow-list of tags,
 * attributes and URL schemes (sciapps/site/markdown.py, sent in the page's settings);
 * no ids, names, classes or data-* attributes, which could pass for the page's controls. */
export const MARKDOWN = CONFIG.markdown;
export const URI = new RegExp("^(?:(?:" + MARKDOWN.schemes.join("|") + "):|[^a-z]|[a-z+.\\-]+(?:[^a-z+.\\-:]|$))", "i");
export function sanitize(html) {
  return V.DOMPurify.sanitize(html, {
    ALLOWED_TAGS: MARKDOWN.tags, ALLOWED_ATTR: MARKDOWN.attributes.filter((a) => a !== "class"), ALLOWED_URI_REGEXP: URI,
    ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false, SANITIZE_NAMED_PROPS: true,
  });
}

export function renderPreview() {
  const doc = output();
  const names = (ids, vocab) => (Array.isArray(ids) ? ids : []).map((id) => vocab[id] || id);
  const file = (path) => state.files.find((f) => f.path === path);
  const chips = el("ul", { class: "sa-chips", "aria-label": "Missions, type and version" },
    names(doc.missions, CONFIG.missions).map((n) => el("li", { class: "sa-chip sa-chip--mission", text: n })),
    el("li", { class: "sa-chip sa-chip--type", text: typeOf(doc).label }),
    doc.version ? el("li", { class: "sa-chip", text: `Version ${doc.version}` }) : null,
    doc.mode === "advanced" ? el("li", { class: "sa-chip", text: "Own Dockerfile" }) : null,
    names(doc.categories, CONFIG.categories).map((n) => el("li", { class: "sa-chip sa-chip--category", text: n })));
  const icon = doc.icon && file(doc.icon) ? el("img", { class: "sa-datalab__icon", src: file(doc.icon).url, alt: "", width: "64", height: "64" }) : null;
  const description = el("div", { class: "sa-description" });
  description.innerHTML = sanitize(V.marked.parse(String(doc.description || "")));
  const shots = (Array.isArray(doc.screenshots) ? doc.screenshots : []).filter((s) => s && file(s.file)).map((s) =>
    el("figure", {}, el("img", { src: file(s.file).url, alt: s.caption || "" }), el("figcaption", { text: s.caption || "" })));
  const res = { cpu: 1, memory_gb: 2, gpu: 0, storage_gb: 5, ...(doc.resources || {}) };
  // Only what has been filled in shows: no placeholder stands for a missing value.
  const assets = Array.isArray(doc.data_assets) ? doc.data_assets.filter((a) => a && typeof a === "object" && a.mission) : [];
  const asset = (a) => el("li", {}, CONFIG.missions[a.mission] || a.mission,
    a.collection ? [": ", el("code", { text: a.collection })] : null, a.mount ? [" at ", el("code", { text: a.mount })] : null);
  const people = (Array.isArray(doc.maintainers) ? doc.maintainers : []).filter((m) => m && m.name);
  const article = el("article", { class: "sa-datalab sa-datalab--preview" },
    el("header", { class: "sa-datalab__head" },
      el("div", { class: "sa-datalab__title" }, icon, el("p", { class: "sa-preview__name", text: doc.name || "Name of your datalab" })),
      el("p", { class: "sa-datalab__summary", text: doc.summary || "One line saying what it does." }),
      chips,
      el("p", { class: "sa-actions" }, el("span", { class: "sa-nothing-yet", text: "Nothing to launch until it is reviewed, built and published." }))),
    shots.length ? el("div", { class: "sa-shots" }, shots) : null,
    doc.description ? description : null,
    el("div", { class: "sa-facts" },
      el("div", {}, el("p", { class: "sa-preview__heading", text: "Data" }),
        assets.length
          ? el("ul", {}, assets.map(asset))
          : el("p", { text: "Needs no mounted mission data; sample data ships with it." })),
      el("div", {}, el("p", { class: "sa-preview__heading", text: "Resources" }),
        el("p", { text: `${res.cpu} CPU core${res.cpu === 1 ? "" : "s"}, ${res.memory_gb} GiB memory, ${res.gpu || "no"} GPU, ${res.storage_gb} GiB storage.${doc.entry ? ` Opens ${doc.entry}.` : ""}` })),
      people.length || doc.license ? el("div", {}, el("p", { class: "sa-preview__heading", text: "Maintainers" }),
        people.length ? el("ul", {}, people.map((m) => el("li", { text: `${m.name}${m.email ? " · " + m.email : ""}` }))) : null,
        doc.license ? el("p", { text: `Licence: ${doc.license}` }) : null) : null));
  $(".sa-preview").replaceChildren(article);
}
