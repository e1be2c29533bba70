/* SciApps: launch on the data. A datalab page's launch form, the launch page that reads a
 * launch link, and the open page that reads an archive's link. Every value from a link is
 * hostile: checked with assets/params.js against the datalab's declaration in api/, and
 * written into the page with textContent, never as HTML. Nothing starts until the
 * scientist has read the summary and pressed Launch. */
(() => {
  "use strict";

  const P = window.SciAppsParams;
  const ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  const VERSION = /^[0-9A-Za-z.+-]{1,64}$/;
  const MISSION = /^[a-z0-9][a-z0-9-]{0,62}$/;
  const MAX_LINK_CHARS = 8192;
  const timing = (window.__sciapps = window.__sciapps || {});

  function root(app) {
    return new URL(app.dataset.root || "./", location.href);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  }

  /* A link's [name, value] pairs. Names are read case-insensitively, as IVOA's DALI says
   * of a service's parameters: pyvo and TOPCAT send a DataLink descriptor's OBSID=… */
  function pairsOf(search) {
    if (search.length > MAX_LINK_CHARS) return null;
    return [...new URLSearchParams(search)].map(([k, v]) => [k.toLowerCase(), v]);
  }

  /* An id as an archive publishes it, an IVOA publisher DID (<the collection's ivoid>?<id>),
   * is that id: [the id, null], or [null, why] for an IVOA identifier of another collection. */
  function fromDid(spec, text) {
    if (typeof text !== "string" || !/^ivo:\/\//i.test(text)) return [text, null];
    const prefix = spec.ivoid ? `${spec.ivoid}?` : null;
    if (prefix && text.length > prefix.length && text.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()) {
      return [text.slice(prefix.length), null];
    }
    const expected = prefix ? `; it takes ids of ${spec.ivoid}, as ${prefix}<id>` : "";
    return [null, `is an IVOA identifier of another collection${expected}`];
  }

  function encodePairs(pairs) {
    return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return null;
    return response.json();
  }

  function resourceProblems(entry, asked) {
    const problems = [];
    const chosen = { ...entry.resources };
    for (const [name, text] of asked) {
      const limit = entry.resource_limits[name];
      const value = /^[0-9]{1,4}(\.[0-9]{1,3})?$/.test(text) ? Number(text) : NaN;
      const unit = name === "memory_gb" ? " GiB" : "";
      if (Number.isNaN(value)) problems.push(`${name} ${JSON.stringify(text.slice(0, 20))} is not a number.`);
      else if (value < limit.min || value > limit.max) {
        problems.push(`${name} ${value}${unit} is outside what ${entry.id} allows (${limit.min} to ${limit.max}${unit}).`);
      } else chosen[name] = value;
    }
    return { chosen, problems };
  }

  // ------------------------------------------------------------ the launch page
  function refuse(app, cls, sentence) {
    app.querySelector(`.${cls}__status`).textContent = "";
    const box = app.querySelector(`.${cls}__refused`);
    box.textContent = sentence;
    box.hidden = false;
    timing.launchReady = performance.now();
  }

  async function launchPage(app) {
    const settings = JSON.parse(app.querySelector(".sa-launch__settings").textContent);
    const pairs = pairsOf(location.search);
    if (pairs === null) return refuse(app, "sa-launch", "This launch link is too long to be a real one.");
    const single = {};
    const given = [];
    const asked = [];
    for (const [key, value] of pairs) {
      if (["datalab", "version", "digest"].includes(key)) {
        if (key in single) return refuse(app, "sa-launch", `This launch link gives ${key} more than once.`);
        single[key] = value;
      } else if (key === "cpu" || key === "memory_gb") {
        if (asked.some(([k]) => k === key)) return refuse(app, "sa-launch", `This launch link gives ${key} more than once.`);
        asked.push([key, value]);
      } else given.push([key, value]);
    }
    const id = single.datalab || "";
    if (!ID.test(id)) return refuse(app, "sa-launch", "This launch link names no datalab: it needs ?datalab=<id>.");
    const entry = await getJson(new URL(`api/datalabs/${id}.json`, root(app)));
    if (!entry || entry.id !== id) return refuse(app, "sa-launch", `The store has no datalab ${id}.`);
    if (entry.status === "archived") return refuse(app, "sa-launch", `${entry.name} is archived and can no longer be launched.`);
    // a preview site (serve --drafts, a merge request's) launches the previewed datalab's review image, and says so
    const preview = entry.preview && entry.preview.previewed ? entry.preview : null;
    if (preview && !/@sha256:[0-9a-f]{64}$/.test(preview.image || "")) return refuse(app, "sa-launch", `This preview of ${entry.name} has no review image to launch yet.`);
    if (!preview && entry.status !== "published") return refuse(app, "sa-launch", `${entry.name} is not published yet.`);
    if (!preview && !single.version && !entry.release) return refuse(app, "sa-launch", `${entry.name} has no verified release to launch yet.`);
    const version = preview ? entry.version : single.version || entry.release.version;
    if (!VERSION.test(version)) return refuse(app, "sa-launch", `This launch link names no version of ${entry.name} that exists.`);
    const builds = entry.versions.filter((v) => v.version === version && v.verified && v.launch);
    const release = preview
      ? { version, build: "review", published: "not published", digest: preview.image.split("@")[1], preview }
      : single.digest
        ? builds.find((v) => v.digest === single.digest)
        : builds.sort((a, b) => b.build - a.build)[0];
    if (!release) {
      return refuse(
        app,
        "sa-launch",
        single.digest
          ? `${entry.name} ${version} has no verified build with the digest this link gives.`
          : `${entry.name} has no verified release of version ${version} to launch.`
      );
    }
    const specs = new Map((entry.parameters || []).map((spec) => [spec.name, spec]));
    const didProblems = [];
    for (const pair of given) {
      if (!specs.has(pair[0])) continue;
      const [id, why] = fromDid(specs.get(pair[0]), pair[1]);
      if (why) didProblems.push(`${specs.get(pair[0]).label} ${why}.`);
      else pair[1] = id;
    }
    if (didProblems.length) return repair(app, entry, release, single, given, asked, didProblems);
    const { values, problems } = P.readValues(entry.parameters || [], given);
    const resources = resourceProblems(entry, asked);
    const all = [...problems, ...resources.problems];
    if (all.length) return repair(app, entry, release, single, given, asked, all);

    const summary = app.querySelector(".sa-launch__summary");
    summary.querySelector("h2").textContent = `${entry.name} ${release.version}`;
    const facts = summary.querySelector(".sa-launch__facts");
    const fact = (name, value) => facts.append(el("dt", {}, name), el("dd", {}, value));
    fact("Datalab", `${entry.name} (${entry.id})`);
    if (release.preview) {
      fact("Version", `${release.version}, the review image of ${release.preview.label}`);
      fact("Verified", "no: a preview, built by the merge request's pipeline, never reviewed or signed");
    } else {
      fact("Version", `${release.version}, build ${release.build}, published ${release.published}`);
      fact("Verified", "yes: its signed release record verifies");
    }
    fact("Image", el("code", {}, release.digest));
    fact("Resources", `${resources.chosen.cpu} CPU core${resources.chosen.cpu === 1 ? "" : "s"}, ${resources.chosen.memory_gb} GiB memory`);
    const list = summary.querySelector(".sa-launch__values");
    const params = [];
    for (const spec of entry.parameters || []) {
      const text = P.asText(values[spec.name]);
      list.append(el("dt", {}, spec.label), el("dd", {}, el("code", {}, text)));
      params.push([spec.name, text]);
    }
    if (!params.length) list.append(el("dt", {}, "None"), el("dd", {}, "this datalab takes no parameters"));
    for (const [name] of asked) params.push([name, String(resources.chosen[name])]);
    const fill = { id: entry.id, version: release.version, digest: release.digest };
    const url = settings.launch_url.replace(/\{(id|version|digest|params)\}/g, (_, key) =>
      key === "params" ? params.map((pair) => `&${encodePairs([pair])}`).join("") : encodeURIComponent(fill[key])
    );
    const go = summary.querySelector(".sa-launch__go");
    go.href = url;
    go.textContent = release.preview ? `Launch the preview of ${entry.name} ${release.version}` : `Launch ${entry.name} ${release.version}`;
    summary.querySelector(".sa-launch__about").href = new URL(entry.urls.page, root(app)).href;
    app.querySelector(".sa-launch__status").textContent = "Check what will start, then launch.";
    summary.hidden = false;
    timing.launchReady = performance.now();
  }

  /* A launch link with values that are wrong or missing: every reason, a form holding the
   * link's values with each field's own error beside it, and the datalab's page. */
  function repair(app, entry, release, single, given, asked, problems) {
    app.querySelector(".sa-launch__status").textContent = "";
    const box = app.querySelector(".sa-launch__refused");
    const named = el("a", { href: new URL(entry.urls.page, root(app)).href }, `${entry.name} ${release.version}`);
    box.replaceChildren(
      el("strong", {}, "This link cannot start "),
      named,
      el("strong", {}, problems.length === 1 ? " yet: one value needs correcting." : ` yet: ${problems.length} values need correcting.`),
      el("ul", {}, ...problems.map((p) => el("li", {}, p)))
    );
    box.hidden = false;
    const values = new Map();
    for (const [k, v] of [...given, ...asked]) if (!values.has(k)) values.set(k, v);
    const form = el("form", { class: "sa-form sa-launch__repair", method: "get", action: "./", novalidate: "" });
    const hidden = [["datalab", entry.id], ["version", release.version]];
    if (single.digest) hidden.push(["digest", single.digest]);
    for (const [name, value] of hidden) form.append(el("input", { type: "hidden", name, value }));
    const limits = {};
    for (const spec of entry.parameters || []) form.append(field(spec, values.has(spec.name) ? values.get(spec.name) : null));
    for (const [name] of asked) {
      const limit = entry.resource_limits[name];
      if (!limit) continue;
      limits[name] = limit;
      const label = name === "cpu" ? "CPU cores" : "Memory (GiB)";
      form.append(field({ name, label, type: "resource", help: `From ${limit.min} to ${limit.max}.` }, values.get(name)));
    }
    form.append(el("p", { class: "sa-actions" }, el("button", { class: "md-button md-button--primary", type: "submit" }, "Check again")));
    const section = el("section", { class: "sa-launch__fix", "aria-labelledby": "sa-launch-fix" }, el("h2", { id: "sa-launch-fix" }, `Correct the values for ${entry.name}`), form);
    box.after(section);
    launchForm(form, { parameters: entry.parameters || [], resource_limits: limits });
    const first = form.querySelector("[aria-invalid='true']");
    if (first) first.focus();
    timing.launchReady = performance.now();
  }

  /** One field of a launch form, as _launch_form.html writes them; `value` null: not given. */
  function field(spec, value) {
    const id = `sa-p-${spec.name}`;
    const described = `${id}-help ${id}-error`;
    let input;
    if (spec.type === "boolean" || spec.type === "choice") {
      const options = spec.type === "boolean" ? [["true", "yes"], ["false", "no"]] : (spec.choices || []).map((c) => [String(c), String(c)]);
      const chosen = value !== null ? value : P.defaultText(spec);
      input = el("select", { id, name: spec.name, "aria-describedby": described });
      for (const [v, label] of options) {
        const option = el("option", { value: v }, label);
        if (v === chosen) option.selected = true;
        input.append(option);
      }
    } else {
      input = el("input", { id, name: spec.name, type: "text", maxlength: "256", autocomplete: "off", spellcheck: "false", "aria-describedby": described });
      input.value = value !== null ? value : P.defaultText(spec) || "";
      if (spec.example) input.placeholder = `for example ${spec.example}`;
      else if (spec.type === "date") input.placeholder = "YYYY-MM-DD";
    }
    const help = [spec.help, spec.form ? `${spec.form}.` : ""].filter(Boolean).join(" ");
    return el(
      "div",
      { class: "sa-field" },
      el("label", { for: id }, spec.label || spec.name),
      input,
      el("p", { class: "sa-field__help", id: `${id}-help` }, help),
      el("p", { class: "sa-field__error", id: `${id}-error`, hidden: "" })
    );
  }

  // ------------------------------------------------------------ the open page
  async function openPage(app) {
    const pairs = pairsOf(location.search);
    if (pairs === null) return refuse(app, "sa-open", "This link is too long to be a real one.");
    const missions = pairs.filter(([k]) => k === "mission");
    if (missions.length !== 1 || !MISSION.test(missions[0][1])) {
      refuse(app, "sa-open", "This link names no mission: it needs ?mission=<mission>&<kind of id>=<id>.");
      return app.querySelector(".sa-open__refused").append(" ", el("a", { href: new URL("missions/", root(app)).href }, "Open an id from a mission's page."));
    }
    const mission = missions[0][1];
    const index = await getJson(new URL(`api/open/${mission}.json`, root(app)));
    if (!index) {
      refuse(app, "sa-open", `The store has no datalab that opens ${mission} data by id.`);
      return app.querySelector(".sa-open__refused").append(" ", el("a", { href: new URL("missions/", root(app)).href }, "See the missions it has."));
    }
    const kinds = Object.entries(index.kinds).map(([kind, k]) => `${kind} (${k.label})`).join(", ");
    const given = pairs.filter(([k]) => k !== "mission");
    const known = (kind) => Object.prototype.hasOwnProperty.call(index.kinds, kind);
    if (given.length !== 1) {
      return openRefused(
        app,
        index,
        given.find(([k]) => known(k)) || null,
        given.length ? `This link gives more than one id; it takes one of: ${kinds}.` : `This link gives no ${index.name} id; it takes one of: ${kinds}.`
      );
    }
    const [kind, given0] = given[0];
    const declared = known(kind) ? index.kinds[kind] : null;
    if (!declared) return openRefused(app, index, null, `${JSON.stringify(kind.slice(0, 40))} is not a kind of ${index.name} id the store knows; it takes one of: ${kinds}.`);
    const [value, notOurs] = fromDid(declared, given0);
    if (notOurs) return openRefused(app, index, [kind, given0], `The ${declared.label} ${notOurs}.`);
    const [, why] = P.readValue(openSpec(declared), value);
    if (why) return openRefused(app, index, [kind, value], `The ${declared.label} ${why}.`);
    const results = app.querySelector(".sa-open__results");
    const shown = [];
    let waiting = 0;
    for (const d of index.datalabs.filter((d) => d.kind === kind)) {
      const [, own] = P.readValue(d.spec, value); // its own bounds too, if it adds any
      if (own) continue;
      const title = el("h3", { class: "sa-card__title" }, el("a", { href: new URL(d.page, root(app)).href }, d.name));
      let action;
      if (d.version) {
        const link = new URL("launch/", root(app));
        link.search = encodePairs([["datalab", d.id], ["version", d.version], [d.parameter, value]]);
        action = el("p", {}, el("a", { class: "md-button md-button--primary sa-open__launch", href: link.href }, `Open ${value} in ${d.name} ${d.version}`));
        shown.push(d.id);
      } else {
        action = el("p", { class: "sa-open__waiting" }, "Not launchable yet: it has no verified release.");
        waiting += 1;
      }
      results.append(el("article", { class: "sa-card" + (d.version ? "" : " sa-card--waiting"), "data-id": d.id }, title, el("p", { class: "sa-card__summary" }, d.summary), action));
    }
    const status = shown.length
      ? `${shown.length === 1 ? "1 datalab opens" : `${shown.length} datalabs open`} the ${declared.label} ${value}:`
      : `No published datalab opens a ${declared.label} yet.`;
    app.querySelector(".sa-open__status").textContent = status + (waiting ? ` ${waiting === 1 ? "1 more takes" : `${waiting} more take`} one, not launchable yet.` : "");
    timing.launchReady = performance.now();
  }

  function openSpec(declared) {
    const form = declared.example ? `for example ${declared.example}` : declared.pattern;
    return { type: "string", pattern: declared.pattern, label: declared.label, form, example: declared.example };
  }

  /* A refused archive link: the sentence, one form per kind of id the mission has, the
   * given value in its own kind's form with the error beside it, and the mission's page. */
  function openRefused(app, index, pair, sentence) {
    refuse(app, "sa-open", sentence);
    const mission = new URL(`missions/${index.mission}/`, root(app)).href;
    app.querySelector(".sa-open__refused").append(" ", el("a", { href: mission }, `See every ${index.name} datalab.`));
    const section = el("section", { class: "sa-open__fix", "aria-labelledby": "sa-open-fix" }, el("h2", { id: "sa-open-fix" }, `Open ${index.name} data by id`));
    for (const [kind, declared] of Object.entries(index.kinds)) {
      const id = `sa-open-${kind}`;
      const input = el("input", { id, name: kind, type: "text", maxlength: "256", autocomplete: "off", spellcheck: "false", "aria-describedby": `${id}-error` });
      const error = el("p", { class: "sa-field__error", id: `${id}-error` });
      if (pair && pair[0] === kind) {
        input.value = pair[1];
        input.setAttribute("aria-invalid", "true");
        error.textContent = sentence;
      } else error.hidden = true;
      if (declared.example) input.placeholder = `for example ${declared.example}`;
      section.append(
        el(
          "form",
          { class: "sa-form sa-open-form", method: "get", action: "./" },
          el("input", { type: "hidden", name: "mission", value: index.mission }),
          el("div", { class: "sa-field" }, el("label", { for: id }, declared.label), input, error),
          el("button", { class: "md-button md-button--primary", type: "submit" }, "Open")
        )
      );
    }
    app.querySelector(".sa-open__refused").after(section);
    const bad = section.querySelector("[aria-invalid='true']");
    if (bad) bad.focus();
  }

  // ------------------------------------------------------------ a datalab page's form
  /* `given`: the declaration, for a form built here (the launch page's repair form), whose
   * errors show at once; a datalab page's form shows a field's error once it is touched. */
  function launchForm(form, given) {
    const spec = given || JSON.parse(form.querySelector(".sa-launch-form__spec").textContent);
    const byName = new Map(spec.parameters.map((p) => [p.name, p]));
    const share = form.parentElement.querySelector(".sa-launch-form__share");
    const touched = new Set();
    let all = Boolean(given);

    function check(input) {
      const error = document.getElementById(`${input.id}-error`);
      let why = null;
      if (byName.has(input.name)) {
        const p = byName.get(input.name);
        if (input.value === "" && P.defaultText(p) === null) why = `${p.label} needs a value${p.example ? `, for example ${p.example}` : ""}.`;
        else {
          [, why] = P.readValue(p, input.value);
          if (why) why = `${p.label} ${why}.`;
        }
      } else if (spec.resource_limits[input.name]) {
        why = resourceProblems({ id: "this datalab", resources: {}, resource_limits: spec.resource_limits }, [[input.name, input.value]]).problems[0] || null;
      }
      const shown = why && (all || touched.has(input.name));
      if (!error) return why;
      error.textContent = shown ? why : "";
      error.hidden = !shown;
      if (shown) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      return why;
    }

    function fields() {
      return [...form.elements].filter((x) => x.name && x.type !== "hidden" && x.type !== "submit");
    }

    function paint() {
      const bad = fields().map(check).filter(Boolean);
      const link = new URL(form.getAttribute("action"), location.href);
      link.search = encodePairs([...new FormData(form)].map(([k, v]) => [k, String(v)]));
      const shareable = spec.store ? new URL(link.pathname + link.search, spec.store.replace(/\/?$/, "/")).href : link.href;
      if (share) {
        share.hidden = bad.length > 0;
        share.querySelector("pre").replaceChildren(el("code", {}, shareable)); // the theme renames its id
      }
      return bad;
    }

    form.addEventListener("input", (event) => {
      if (event.target.name) touched.add(event.target.name);
      paint();
    });
    form.addEventListener("submit", (event) => {
      all = true;
      const bad = paint();
      if (bad.length) {
        event.preventDefault();
        const first = fields().find((x) => x.getAttribute("aria-invalid") === "true");
        if (first) first.focus();
      }
    });
    paint();
  }

  function start() {
    const app = document.querySelector("[data-sa-app]");
    if (!app || !P) return;
    const kind = app.dataset.saApp;
    const failed = (cls) => () => refuse(app, cls, "The store's data could not be read; try again later.");
    if (kind === "launch") launchPage(app).catch(failed("sa-launch"));
    else if (kind === "open") openPage(app).catch(failed("sa-open"));
    document.querySelectorAll('[data-sa-app="launch-form"]').forEach(launchForm);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
