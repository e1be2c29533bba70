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

  /* The search index, read from the packed form lunr.py's builder wrote (see
   * tools/sciapps/site/search.py): per term and field the documents holding it and the
   * term counts, each field's length per document. A query is scored here, from typed
   * arrays, with lunr's BM25 (the same k1, b, field boosts and idf): per word, its stem
   * (weight 10) and, from the second letter on, every indexed term it begins (weight 1,
   * found by binary search in the sorted terms); a document must hold every word. No
   * lunr.Index is built: lunr.js's own query expands a prefix into thousands of objects
   * and froze the tab for seconds at 10,000 datalabs. lunr.js gives the tokenizer, the stop
   * words and the stemmer, so a query's words meet the index's own. */
  function indexFromPack(p) {
    const n = p.docs.rows.length;
    const F = p.fields.length;
    const k1 = p.k1, b = p.b;
    const decoded = new Array(p.terms.length * F);
    function postings(t, f) {
      const at = t * F + f;
      if (decoded[at] !== undefined) return decoded[at];
      const list = p.postings[t][f];
      if (!list) return (decoded[at] = null);
      const deltas = Array.isArray(list[0]) ? list[0] : list;
      const docs = new Int32Array(deltas.length);
      let d = 0;
      for (let i = 0; i < deltas.length; i++) docs[i] = d += deltas[i];
      return (decoded[at] = { docs, tfs: Array.isArray(list[0]) ? list[1] : null });
    }
    // norm[f * n + d] = k1 * (1 - b + b * length / average length), as lunr.Builder computes it
    const norm = new Float64Array(F * n);
    for (let f = 0; f < F; f++) {
      const ls = p.lengths[f];
      let sum = 0;
      for (let d = 0; d < n; d++) sum += ls[d];
      const avg = sum / Math.max(n, 1);
      for (let d = 0; d < n; d++) norm[f * n + d] = k1 * (1 - b + (b * ls[d]) / avg);
    }
    const idfs = new Float64Array(p.terms.length).fill(-1);
    function idf(t) {
      if (idfs[t] < 0) {
        let withTerm = 0;
        for (let f = 0; f < F; f++) {
          const list = p.postings[t][f];
          if (list) withTerm += (Array.isArray(list[0]) ? list[0] : list).length;
        }
        idfs[t] = Math.log(1 + Math.abs((n - withTerm + 0.5) / (withTerm + 0.5)));
      }
      return idfs[t];
    }
    // the terms in JavaScript's order (Python sorted them by code point: the same, short of astral characters)
    let order = null;
    for (let t = 1; t < p.terms.length && order === null; t++) if (!(p.terms[t - 1] < p.terms[t])) order = [];
    if (order !== null) order = p.terms.map((_, t) => t).sort((x, y) => (p.terms[x] < p.terms[y] ? -1 : 1));
    const termAt = (i) => (order ? order[i] : i);
    const termIndex = new Map(p.terms.map((term, t) => [term, t]));

    /** Add term t's score, times `weight`, to every document holding it. */
    function add(t, weight, into, hit) {
      const w = idf(t) * (k1 + 1) * weight;
      for (let f = 0; f < F; f++) {
        const l = postings(t, f);
        if (!l) continue;
        const boost = p.boosts[f];
        for (let i = 0; i < l.docs.length; i++) {
          const d = l.docs[i];
          const tf = l.tfs ? l.tfs[i] : 1;
          into[d] += ((w * tf) / (norm[f * n + d] + tf)) * boost;
          hit[d] = 1;
        }
      }
    }

    /** The terms that begin with `prefix`, by binary search in the sorted terms. */
    function* beginning(prefix) {
      let lo = 0, hi = p.terms.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (p.terms[termAt(mid)] < prefix) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < p.terms.length && p.terms[termAt(i)].startsWith(prefix); i++) yield termAt(i);
    }

    const cache = new Map();
    /** One word's scores: {score: Float64Array(n), hit: Uint8Array(n)}, kept for the next keystrokes. */
    function word(token) {
      if (cache.has(token)) return cache.get(token);
      const score = new Float64Array(n);
      const hit = new Uint8Array(n);
      const stem = lunr.stemmer(new lunr.Token(token)).toString();
      if (termIndex.has(stem)) add(termIndex.get(stem), 10, score, hit);
      if (token.length > 1) for (const t of beginning(token)) add(t, 1, score, hit);
      if (cache.size >= 64) cache.delete(cache.keys().next().value);
      const found = { score, hit };
      cache.set(token, found);
      return found;
    }
    return { size: n, word };
  }

  /** Scores of the documents a query found: has(ref), get(ref), size. */
  class Found {
    constructor(score, hit) {
      this.score = score;
      this.hit = hit;
      let size = 0;
      for (let d = 0; d < hit.length; d++) size += hit[d];
      this.size = size;
    }
    has(ref) {
      return this.hit[ref] === 1;
    }
    get(ref) {
      return this.hit[ref] === 1 ? this.score[ref] : undefined;
    }
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
        timing.fetchedMs = t0;
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
          rank: r[col.rank],
        }));
        const index = indexFromPack(pack);
        timing.indexBuildMs = performance.now() - t0;
        timing.store = { docs, rows, index, root, ids: pack.ids || [] }; // for tests and the benchmark
        timing.find = search;
        return timing.store;
      });
    }
    return storePromise;
  }

  function search(store, q) {
    if (store.last && store.last.q === q) return store.last.found;
    const tokens = lunr
      .tokenizer(q)
      .map((t) => t.toString())
      .filter((t) => t && lunr.stopWordFilter(t) !== undefined);
    if (!tokens.length) return null; // no query: everything
    const score = new Float64Array(store.index.size);
    const hit = new Uint8Array(store.index.size).fill(1);
    for (const token of tokens) {
      const one = store.index.word(token);
      for (let d = 0; d < score.length; d++) {
        if (hit[d] && one.hit[d]) score[d] += one.score[d];
        else hit[d] = 0;
      }
    }
    const found = new Found(score, hit);
    store.last = { q, found };
    return found;
  }

  /** Each row's place by name (the index's `rank` column, sorted at build time). */
  function nameRank(store) {
    if (!store.rank) store.rank = Int32Array.from(store.rows, (row) => row.rank);
    return store.rank;
  }

  /* A search that is an id of a kind the catalog declares (an XMM-Newton observation, a
   * Gaia source) offers to open it first: open/ lists the datalabs that take it. */
  function offerToOpen(store, q, list) {
    const text = q.trim();
    const links = [];
    if (text && text.length <= 256 && !/\s/.test(text)) {
      for (const [mission, name, kind, label, pattern] of store.ids || []) {
        let compiled = null;
        try {
          compiled = new RegExp(`^(?:${pattern})$`, "u");
        } catch (e) {
          continue;
        }
        if (!compiled.test(text)) continue;
        const href = new URL("open/", store.root);
        href.search = new URLSearchParams([["mission", mission], [kind, text]]).toString();
        links.push(el("li", {}, el("a", { class: "md-button md-button--primary", href: href.href }, `Open ${label} ${text}`)));
      }
    }
    list.replaceChildren(...links);
    list.hidden = links.length === 0;
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
    const offer = el("ul", { class: "sa-open-offer", "aria-label": "Open this id" });
    offer.hidden = true;
    results.before(offer);
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
        input.addEventListener("input", (event) => {
          timing.inputAt = event.timeStamp; // when the key was pressed: a busy page's wait counts too
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
          const rank = nameRank(store);
          if (scores) shown.sort((a, b) => scores.get(b.ref) - scores.get(a.ref) || rank[a.ref] - rank[b.ref]);
          else shown.sort((a, b) => (b.updated > a.updated ? 1 : b.updated < a.updated ? -1 : rank[a.ref] - rank[b.ref]));
          offerToOpen(store, state.q, offer);
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

        const first = performance.now();
        update();
        timing.readyMs = performance.now();
        timing.firstUpdateMs = timing.readyMs - first;
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
