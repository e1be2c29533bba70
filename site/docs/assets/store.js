/* SciApps store: search, facets, bookmarks, copy buttons. No framework; every value from
 * the catalog goes into the page with textContent, never as HTML. */
(() => {
  "use strict";

  const BOOKMARKS_KEY = "sciapps.bookmarks.v1";
  const PAGE_SIZE = 60;
  const timing = (window.__sciapps = window.__sciapps || { searches: [] });

  // ------------------------------------------------------------ site root
  function siteRoot() {
    const app = document.querySelector("[data-root]");
    if (app) return new URL(app.dataset.root || "./", location.href);
    const config = document.getElementById("__config");
    const base = config ? JSON.parse(config.textContent).base : ".";
    return new URL(base.replace(/\/?$/, "/"), location.href);
  }

  // ------------------------------------------------------------ bookmarks
  const bookmarks = {
    all() {
      try {
        const ids = JSON.parse(localStorage.getItem(BOOKMARKS_KEY) || "[]");
        return Array.isArray(ids) ? ids.filter((x) => typeof x === "string") : [];
      } catch (e) {
        return [];
      }
    },
    save(ids) {
      try {
        localStorage.setItem(BOOKMARKS_KEY, JSON.stringify([...new Set(ids)]));
      } catch (e) {
        alert("This browser does not allow saving bookmarks (private mode or storage full).");
      }
      document.dispatchEvent(new CustomEvent("sciapps:bookmarks"));
    },
    has(id) {
      return this.all().includes(id);
    },
    toggle(id) {
      const ids = this.all();
      this.save(ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id]);
    },
  };

  function paintStar(button) {
    const on = bookmarks.has(button.dataset.id);
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? "\u2605" : "\u2606";
    button.title = on ? "Remove bookmark" : "Bookmark";
  }

  document.addEventListener("click", (event) => {
    const star = event.target.closest(".sa-star");
    if (star) {
      bookmarks.toggle(star.dataset.id);
      return;
    }
    const copy = event.target.closest(".sa-copy");
    if (copy) copyFrom(copy);
  });
  document.addEventListener("sciapps:bookmarks", () => document.querySelectorAll(".sa-star").forEach(paintStar));
  window.addEventListener("storage", (e) => {
    if (e.key === BOOKMARKS_KEY) document.querySelectorAll(".sa-star").forEach(paintStar);
  });

  // ------------------------------------------------------------ copy buttons
  async function copyFrom(button) {
    const target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    const text = target.textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(target);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand("copy");
    }
    button.dataset.copied = "true";
    setTimeout(() => delete button.dataset.copied, 2000);
  }

  // ------------------------------------------------------------ "/" to search
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (document.activeElement && document.activeElement.tagName) || "";
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || document.activeElement.isContentEditable) return;
    const input = document.getElementById("sa-q");
    event.preventDefault();
    if (input) input.focus();
    else location.href = new URL("browse/", siteRoot()).href;
  });

  // ------------------------------------------------------------ catalog + index
  let storePromise = null;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error("could not load " + src));
      document.head.appendChild(s);
    });
  }

  /* Rebuild the lunr.Index that lunr.py built, from the packed form (see
   * tools/sciapps/site/search.py): the same postings, and field vectors scored with
   * lunr's own BM25 formula from the term counts and field lengths. Two passes over
   * typed arrays; postings and vectors become lunr objects only when a query needs them. */
  function indexFromPack(p) {
    const n = p.docs.rows.length;
    const F = p.fields.length;
    const k1 = p.k1, b = p.b;
    const lists = (t, f) => {
      const list = p.postings[t][f];
      if (!list) return null;
      return Array.isArray(list[0]) ? { docs: list[0], tfs: list[1] } : { docs: list, tfs: null };
    };
    // norm[f * n + d] = k1 * (1 - b + b * length / average length), as lunr.Builder computes it
    const norm = new Float64Array(F * n);
    for (let f = 0; f < F; f++) {
      const ls = p.lengths[f];
      let sum = 0;
      for (let d = 0; d < n; d++) sum += ls[d];
      const avg = sum / Math.max(n, 1);
      for (let d = 0; d < n; d++) norm[f * n + d] = k1 * (1 - b + (b * ls[d]) / avg);
    }
    // pass 1: idf of each term, and how many terms each document field has
    const idf = new Float64Array(p.terms.length);
    const size = new Int32Array(F * n);
    for (let t = 0; t < p.terms.length; t++) {
      let withTerm = 0;
      for (let f = 0; f < F; f++) {
        const l = lists(t, f);
        if (!l) continue;
        withTerm += l.docs.length;
        let d = 0;
        for (let i = 0; i < l.docs.length; i++) size[f * n + (d += l.docs[i])]++;
      }
      const x = (n - withTerm + 0.5) / (withTerm + 0.5);
      idf[t] = Math.log(1 + Math.abs(x));
    }
    const start = new Int32Array(F * n + 1);
    for (let i = 0; i < F * n; i++) start[i + 1] = start[i] + 2 * size[i];
    // pass 2: every field vector, interleaved [term, score, term, score, ...], in one array
    const elements = new Float64Array(start[F * n]);
    const fill = start.slice(0, F * n);
    for (let t = 0; t < p.terms.length; t++) {
      for (let f = 0; f < F; f++) {
        const l = lists(t, f);
        if (!l) continue;
        let d = 0;
        for (let i = 0; i < l.docs.length; i++) {
          d += l.docs[i];
          const tf = l.tfs ? l.tfs[i] : 1;
          const score = ((idf[t] * ((k1 + 1) * tf)) / (norm[f * n + d] + tf)) * p.boosts[f];
          const at = fill[f * n + d];
          elements[at] = t;
          elements[at + 1] = Math.round(score * 1000) / 1000;
          fill[f * n + d] = at + 2;
        }
      }
    }
    const builder = new lunr.TokenSet.Builder();
    for (const term of p.terms) builder.insert(term);
    builder.finish();
    const termIndex = new Map(p.terms.map((term, t) => [term, t]));
    const fieldIndex = new Map(p.fields.map((field, f) => [field, f]));
    const EMPTY = Object.freeze({});
    const invertedIndex = new Proxy(Object.create(null), {
      get(cache, term) {
        if (term in cache) return cache[term];
        const t = termIndex.get(term);
        if (t === undefined) return undefined;
        const posting = { _index: t };
        for (let f = 0; f < F; f++) {
          const fieldPosting = {};
          const l = lists(t, f);
          if (l) {
            let d = 0;
            for (let i = 0; i < l.docs.length; i++) fieldPosting[(d += l.docs[i])] = EMPTY;
          }
          posting[p.fields[f]] = fieldPosting;
        }
        return (cache[term] = posting);
      },
    });
    const fieldVectors = new Proxy(Object.create(null), {
      get(cache, ref) {
        if (ref in cache) return cache[ref];
        const slash = typeof ref === "string" ? ref.lastIndexOf("/") : -1;
        const f = fieldIndex.get(ref.slice(0, slash));
        const d = Number(ref.slice(slash + 1));
        if (f === undefined || !(d >= 0 && d < n)) return undefined;
        const i = f * n + d;
        return (cache[ref] = new lunr.Vector(elements.subarray(start[i], start[i + 1])));
      },
    });
    return new lunr.Index({ invertedIndex, fieldVectors, tokenSet: builder.root, fields: p.fields, pipeline: lunr.Pipeline.load(["stemmer"]) });
  }

  function loadStore() {
    if (!storePromise) {
      const root = siteRoot();
      storePromise = Promise.all([
        fetch(new URL("search/index.json", root)).then((r) => {
          if (!r.ok) throw new Error("search/index.json: HTTP " + r.status);
          return r.json();
        }),
        loadScript(new URL("assets/vendor/lunr-2.3.9.min.js", root).href),
      ]).then(([pack]) => {
        const t0 = performance.now();
        const docs = pack.docs;
        const col = Object.fromEntries(docs.columns.map((c, i) => [c, i]));
        const rows = docs.rows.map((r, i) => ({
          ref: i,
          id: r[col.id],
          name: r[col.name],
          summary: r[col.summary],
          type: r[col.type],
          missions: r[col.missions],
          categories: r[col.categories],
          license: r[col.license],
          maintainers: r[col.maintainers],
          archived: r[col.archived] === 1,
          version: r[col.version],
          updated: r[col.updated],
          face: r[col.face],
          faceKind: r[col.face_kind],
        }));
        const index = indexFromPack(pack);
        timing.indexBuildMs = performance.now() - t0;
        timing.store = { docs, rows, index, root }; // for tests and the benchmark
        return timing.store;
      });
    }
    return storePromise;
  }

  function search(store, q) {
    const tokens = lunr
      .tokenizer(q)
      .map((t) => t.toString())
      .filter((t) => t && lunr.stopWordFilter(t) !== undefined);
    if (!tokens.length) return null; // no query: everything
    let scores = null;
    for (const term of tokens) {
      const found = new Map();
      for (const r of store.index.query((query) => {
        query.term(term, { boost: 10 });
        // prefix matches from the second character on: one letter would expand to most terms
        if (term.length > 1) query.term(term, { usePipeline: false, wildcard: lunr.Query.wildcard.TRAILING });
      })) {
        found.set(Number(r.ref), r.score);
      }
      if (scores === null) scores = found;
      else {
        const both = new Map();
        for (const [ref, s] of scores) if (found.has(ref)) both.set(ref, s + found.get(ref));
        scores = both;
      }
      if (!scores.size) break;
    }
    return scores;
  }

  // ------------------------------------------------------------ cards
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  function card(store, row) {
    const href = new URL("datalabs/" + encodeURIComponent(row.id) + "/", store.root).href;
    const star = el("button", { class: "sa-star", type: "button", "data-id": row.id, "aria-label": "Bookmark " + row.name });
    paintStar(star);
    const chips = el("ul", { class: "sa-chips", "aria-label": "Missions and type" });
    for (const m of row.missions) chips.append(el("li", { class: "sa-chip sa-chip--mission" }, store.docs.missions[m][1]));
    chips.append(el("li", { class: "sa-chip sa-chip--type" }, store.docs.types[row.type][1]));
    if (row.archived) chips.append(el("li", { class: "sa-chip sa-chip--archived" }, "Archived"));
    const face = row.face
      ? el("img", { class: "sa-card__face sa-card__face--" + row.faceKind, src: new URL(row.face, store.root).href, alt: "", width: "384", height: "240", loading: "lazy" })
      : null;
    return el(
      "article",
      { class: "sa-card" + (row.archived ? " sa-card--archived" : ""), "data-id": row.id },
      face,
      el("div", { class: "sa-card__head" }, el("h3", { class: "sa-card__title" }, el("a", { href }, row.name)), star),
      el("p", { class: "sa-card__summary" }, row.summary),
      chips,
      el("p", { class: "sa-card__meta" }, `Version ${row.version}` + (row.updated ? ` \u00b7 updated ${row.updated}` : ""))
    );
  }

  function arrowKeys(container, input) {
    container.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      const links = [...container.querySelectorAll(".sa-card__title a")];
      const at = links.indexOf(document.activeElement);
      if (at === -1) return;
      event.preventDefault();
      const next = event.key === "ArrowDown" ? at + 1 : at - 1;
      if (next < 0 && input) input.focus();
      else if (links[next]) links[next].focus();
    });
    if (input)
      input.addEventListener("keydown", (event) => {
        if (event.key === "ArrowDown") {
          const first = container.querySelector(".sa-card__title a");
          if (first) {
            event.preventDefault();
            first.focus();
          }
        }
      });
  }

  // ------------------------------------------------------------ browse
  const FACETS = [
    { key: "mission", label: "Mission", values: (s) => s.docs.missions.map((m) => m[1]), of: (r) => r.missions },
    { key: "type", label: "Type", values: (s) => s.docs.types.map((t) => t[1]), of: (r) => [r.type] },
    { key: "category", label: "Category", values: (s) => s.docs.categories.map((c) => c[1]), of: (r) => r.categories },
    { key: "license", label: "Licence", values: (s) => s.docs.licenses, of: (r) => [r.license] },
    { key: "maintainer", label: "Maintainer", values: (s) => s.docs.maintainers, of: (r) => r.maintainers },
  ];
  const FACET_IDS = {
    mission: (s) => s.docs.missions.map((m) => m[0]),
    type: (s) => s.docs.types.map((t) => t[0]),
    category: (s) => s.docs.categories.map((c) => c[0]),
    license: (s) => s.docs.licenses,
    maintainer: (s) => s.docs.maintainers,
  };

  function browse(app) {
    const input = app.querySelector("#sa-q");
    const facetsBox = app.querySelector(".sa-facets");
    const results = app.querySelector(".sa-results");
    const status = app.querySelector(".sa-results__status");
    const more = app.querySelector(".sa-more");
    // on a phone the results come first: the filters fold behind one control
    const fold = app.querySelector(".sa-facets-fold");
    if (window.matchMedia("(max-width: 60em)").matches) fold.open = false;
    const params = new URLSearchParams(location.search);
    const state = { q: params.get("q") || "", archived: params.get("archived") === "1", limit: PAGE_SIZE, picked: {} };
    input.value = state.q;
    arrowKeys(results, input);

    loadStore()
      .then((store) => {
        for (const facet of FACETS) {
          const ids = FACET_IDS[facet.key](store);
          const wanted = new Set(params.getAll(facet.key));
          state.picked[facet.key] = new Set(ids.map((id, i) => (wanted.has(id) ? i : -1)).filter((i) => i >= 0));
        }
        const toggle = el("label", {}, el("input", { type: "checkbox", id: "sa-archived" }), " Show archived datalabs");
        const boxes = {};
        facetsBox.replaceChildren(el("p", {}, toggle));
        const archivedBox = toggle.querySelector("input");
        archivedBox.checked = state.archived;
        archivedBox.addEventListener("change", () => {
          state.archived = archivedBox.checked;
          update();
        });
        for (const facet of FACETS) {
          const list = el("div", { class: "sa-facets__list" });
          facetsBox.append(el("fieldset", { "data-facet": facet.key }, el("legend", {}, facet.label), list));
          boxes[facet.key] = list;
        }
        input.addEventListener("input", () => {
          timing.inputAt = performance.now();
          state.q = input.value;
          state.limit = PAGE_SIZE;
          update();
        });
        app.querySelector("form").addEventListener("submit", (event) => {
          event.preventDefault();
          const first = results.querySelector(".sa-card__title a");
          if (first) first.focus();
        });
        more.addEventListener("click", () => {
          state.limit += PAGE_SIZE;
          update();
        });

        function update() {
          const scores = search(store, state.q);
          const matches = [];
          for (const row of store.rows) {
            if (row.archived && !state.archived) continue;
            if (scores && !scores.has(row.ref)) continue;
            matches.push(row);
          }
          const passes = (row, except) =>
            FACETS.every((f) => f.key === except || !state.picked[f.key].size || f.of(row).some((v) => state.picked[f.key].has(v)));
          const shown = matches.filter((row) => passes(row, null));
          if (scores) shown.sort((a, b) => scores.get(b.ref) - scores.get(a.ref) || a.name.localeCompare(b.name));
          else shown.sort((a, b) => (b.updated > a.updated ? 1 : b.updated < a.updated ? -1 : a.name.localeCompare(b.name)));
          for (const facet of FACETS) paintFacet(facet, matches.filter((row) => passes(row, facet.key)));
          const picked = FACETS.reduce((n, f) => n + state.picked[f.key].size, 0) + (state.archived ? 1 : 0);
          fold.querySelector("summary").textContent = picked ? `Filters (${picked})` : "Filters";
          results.replaceChildren(...shown.slice(0, state.limit).map((row) => card(store, row)));
          if (!shown.length) results.append(waysOn(matches));
          more.hidden = shown.length <= state.limit;
          const what = shown.length === 1 ? "1 datalab" : shown.length + " datalabs";
          status.textContent = state.q.trim() ? `${what} match \u201c${state.q.trim()}\u201d` : what;
          saveUrl();
          if (timing.inputAt) {
            timing.searches.push(performance.now() - timing.inputAt);
            timing.inputAt = 0;
          }
          app.dataset.results = String(shown.length);
        }

        function waysOn(matches) {
          // no result is never a dead end: archived matches, the filters, everything, or a new datalab
          const hidden = state.archived ? [] : store.rows.filter((row) => row.archived && (!search(store, state.q) || search(store, state.q).has(row.ref)));
          const picked = FACETS.some((f) => state.picked[f.key].size);
          const ways = el("ul", { class: "sa-noresults__ways" });
          if (hidden.length) {
            const show = el("button", { type: "button", class: "md-button" }, hidden.length === 1 ? "Show 1 archived datalab that matches" : `Show ${hidden.length} archived datalabs that match`);
            show.addEventListener("click", () => {
              state.archived = true;
              facetsBox.querySelector("#sa-archived").checked = true;
              update();
            });
            ways.append(el("li", {}, show));
          }
          if (picked) {
            const clear = el("button", { type: "button", class: "md-button" }, "Clear the filters");
            clear.addEventListener("click", () => {
              for (const f of FACETS) state.picked[f.key].clear();
              facetsBox.querySelectorAll("input[type=checkbox]:not(#sa-archived)").forEach((box) => (box.checked = false));
              update();
            });
            ways.append(el("li", {}, clear));
          }
          ways.append(el("li", {}, el("a", { href: new URL("browse/", store.root).href }, "Browse all datalabs")));
          ways.append(el("li", {}, el("a", { href: new URL("create/", store.root).href }, "Create a datalab for it")));
          const said = matches.length ? "Nothing matches with these filters." : "No published datalab matches.";
          return el("div", { class: "sa-noresults" }, el("p", {}, said), ways);
        }

        function paintFacet(facet, rows) {
          const counts = new Map();
          for (const row of rows) for (const v of facet.of(row)) counts.set(v, (counts.get(v) || 0) + 1);
          const labels = facet.values(store);
          const ids = FACET_IDS[facet.key](store);
          const picked = state.picked[facet.key];
          const items = labels
            .map((label, i) => ({ label, i, n: counts.get(i) || 0 }))
            .filter((it) => it.n > 0 || picked.has(it.i))
            .sort((a, b) => b.n - a.n || a.label.localeCompare(b.label))
            .slice(0, 50);
          boxes[facet.key].closest("fieldset").hidden = items.length === 0; // an empty facet is not shown
          boxes[facet.key].replaceChildren(
            ...items.map((it) => {
              const box = el("input", { type: "checkbox", value: ids[it.i], "data-facet": facet.key });
              box.checked = picked.has(it.i);
              box.addEventListener("change", () => {
                if (box.checked) picked.add(it.i);
                else picked.delete(it.i);
                state.limit = PAGE_SIZE;
                update();
              });
              return el("label", {}, box, " " + it.label, el("span", { class: "sa-count" }, String(it.n)));
            })
          );
        }

        function saveUrl() {
          const out = new URLSearchParams();
          if (state.q) out.set("q", state.q);
          for (const facet of FACETS) {
            const ids = FACET_IDS[facet.key](store);
            for (const i of state.picked[facet.key]) out.append(facet.key, ids[i]);
          }
          if (state.archived) out.set("archived", "1");
          const query = out.toString();
          history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
        }

        update();
        timing.readyMs = performance.now();
        document.body.dataset.searchReady = "true";
      })
      .catch((error) => {
        status.textContent = "The catalog could not be loaded: " + error.message;
      });
  }

  // ------------------------------------------------------------ bookmarks page
  function bookmarksPage(app) {
    const results = app.querySelector(".sa-results");
    const status = app.querySelector(".sa-results__status");
    let notice = "";
    let paint = () => {
      status.textContent = notice;
    };
    loadStore()
      .then((store) => {
        const byId = new Map(store.rows.map((r) => [r.id, r]));
        paint = () => {
          const ids = bookmarks.all();
          const known = ids.filter((id) => byId.has(id));
          const gone = ids.filter((id) => !byId.has(id));
          results.replaceChildren(...known.map((id) => card(store, byId.get(id))));
          status.textContent =
            notice +
            (ids.length
              ? `${known.length} bookmarked datalab${known.length === 1 ? "" : "s"}` +
                (gone.length ? `; no longer in the store: ${gone.join(", ")}` : "")
              : "No bookmarks yet: press the star on any datalab to keep it here.");
          document.body.dataset.bookmarksReady = "true";
        };
        document.addEventListener("sciapps:bookmarks", () => paint());
        paint();
      })
      .catch((error) => {
        status.textContent = "The catalog could not be loaded: " + error.message;
      });

    app.querySelector('[data-sa-action="export"]').addEventListener("click", () => {
      const payload = { format: "sciapps-bookmarks", version: 1, exported: new Date().toISOString(), ids: bookmarks.all() };
      const link = el("a", {
        href: URL.createObjectURL(new Blob([JSON.stringify(payload, null, 2)], { type: "application/json" })),
        download: "sciapps-bookmarks.json",
      });
      document.body.append(link);
      link.click();
      link.remove();
    });
    app.querySelector('[data-sa-action="import"]').addEventListener("change", async (event) => {
      const file = event.target.files[0];
      event.target.value = "";
      if (!file) return;
      try {
        if (file.size > 1024 * 1024) throw new Error("the file is larger than 1 MB");
        const data = JSON.parse(await file.text());
        if (!data || data.format !== "sciapps-bookmarks" || !Array.isArray(data.ids)) throw new Error("it is not a SciApps bookmarks export");
        const ids = data.ids.filter((id) => typeof id === "string" && /^[a-z0-9][a-z0-9-]{0,62}$/.test(id));
        notice = `Imported ${ids.length} bookmark${ids.length === 1 ? "" : "s"}. `;
        bookmarks.save([...bookmarks.all(), ...ids]);
      } catch (error) {
        notice = `${file.name} could not be imported: ${error.message}. `;
        paint();
      }
    });
  }

  // ------------------------------------------------------------ start
  function start() {
    document.querySelectorAll(".sa-star").forEach(paintStar);
    // On a phone the datalab page's Versions shows the newest; earlier ones fold away.
    const older = document.querySelector(".sa-history__older");
    if (older && window.matchMedia("(max-width: 60em)").matches) older.open = false;
    const app = document.querySelector("[data-sa-app]");
    if (app && app.dataset.saApp === "browse") browse(app);
    if (app && app.dataset.saApp === "bookmarks") bookmarksPage(app);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
