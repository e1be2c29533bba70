"""The store's search index: built at build time with lunr.py's builder, shipped packed.

lunr.py's builder reads the documents (the same tokenizer, stop words and stemmer as
lunr.js). Its own serialization repeats every document reference in every posting and
ships a float score per term and document, about 3 MB gzipped at 10,000 datalabs. The
packed form ships what the scores are computed from instead: the sorted terms, per term
and field the delta-encoded documents that contain it and the term counts, and each
field's length per document. `store.js` scores a query from it with lunr's BM25, word by
word from typed arrays, in the visitor's browser; `ids` lets a search that is an id offer
to open it.

Field weights: name 10, summary / keywords / missions / id 5, description 1. The id is
searched in its parts (`gaia-dr3-hrd` is found by "hrd").
"""

from __future__ import annotations

import re

from lunr import get_default_builder
from lunr.token import Token

from sciapps.datalab_types import TYPES

FIELDS = (("name", 10), ("summary", 5), ("keywords", 5), ("missions", 5), ("id", 5), ("description", 1))
DESCRIPTION_WORDS = 200  # enough to find a datalab by what it does; the rest is on its page


def _document(index: int, e: dict) -> dict:
    return {
        "ref": str(index),
        "name": e["name"],
        "summary": e["summary"],
        "keywords": " ".join(e["keywords"]),
        "missions": " ".join(f"{m['id']} {m['name']}" for m in e["missions"]),
        "id": e["id"].replace("-", " "),
        "description": " ".join(e["description"].split()[:DESCRIPTION_WORDS]),
    }


_SEPARATORS = re.compile("[ \t\n\r\f\v\xa0-]+")  # lunr.tokenizer.SEPARATOR_CHARS, after lower-casing


def _fields_terms(builder, documents: list[dict]):
    """(field lengths, {term: {field: {doc: count}}}) as lunr.py's `Builder.add` computes them:
    its tokenizer's split, then its pipeline (trimmer, stop words, stemmer). The pipeline
    works token by token, so each distinct word of a field is run through it once (a
    catalog repeats its words: 10,000 datalabs hold about a million words, a few thousand
    distinct), where `Builder.add` ran it, and a tokenizer that walks the text character
    by character, for every word: three quarters of the store's build."""
    names = [name for name, _ in FIELDS]
    memo: dict[tuple[str, str], tuple[str, ...]] = {}
    lengths = [[0] * len(documents) for _ in names]
    index: dict[str, dict[str, dict[int, int]]] = {}
    for d, document in enumerate(documents):
        for f, name in enumerate(names):
            count = 0
            for raw in _SEPARATORS.split(str(document[name]).lower()):
                if not raw:
                    continue
                terms = memo.get((name, raw))
                if terms is None:
                    terms = memo[(name, raw)] = tuple(str(t) for t in builder.pipeline.run([Token(raw)], name))
                count += len(terms)
                for term in terms:
                    field = index.setdefault(term, {}).setdefault(name, {})
                    field[d] = field.get(d, 0) + 1
            lengths[f][d] = count
    return lengths, index


def pack(entries: list[dict], ids: list[list[str]] = ()) -> dict:
    """The packed index (see the module docstring) plus what the cards and facets need;
    `ids`: [mission, mission name, kind, label, pattern] of each kind of id the catalog
    declares, so that a search holding such an id offers to open it first."""
    builder = get_default_builder()  # what lunr() uses: trimmer, stop words, stemmer
    field_names = [name for name, _ in FIELDS]
    lengths, index = _fields_terms(builder, [_document(i, e) for i, e in enumerate(entries)])
    terms = sorted(index)
    postings = []
    for term in terms:
        per_field = []
        for name in field_names:
            counts = index[term].get(name)
            if not counts:
                per_field.append(0)
                continue
            deltas, tfs, previous = [], [], 0
            for ref in sorted(counts):
                deltas.append(ref - previous)
                previous = ref
                tfs.append(counts[ref])
            per_field.append([deltas, tfs] if any(tf != 1 for tf in tfs) else deltas)
        postings.append(per_field)
    return {
        "version": 1,
        "lunr": "2.3.9",
        "fields": field_names,
        "boosts": [boost for _, boost in FIELDS],
        "k1": builder._k1,
        "b": builder._b,
        "terms": terms,
        "postings": postings,
        "lengths": lengths,
        "docs": _docs_table(entries),
        "ids": [list(i) for i in ids],
    }


def _docs_table(entries: list[dict]) -> dict:
    """Card and facet data, as columns of small integers where values repeat."""
    missions = sorted({m["id"] for e in entries for m in e["missions"]})
    categories = sorted({c["id"] for e in entries for c in e["categories"]})
    licenses = sorted({e["license"] for e in entries})
    people = sorted({m["username"] for e in entries for m in e["maintainers"]})
    names = {m["id"]: m["name"] for e in entries for m in e["missions"]}
    cat_names = {c["id"]: c["name"] for e in entries for c in e["categories"]}
    mission_ix = {m: i for i, m in enumerate(missions)}
    category_ix = {c: i for i, c in enumerate(categories)}
    license_ix = {x: i for i, x in enumerate(licenses)}
    person_ix = {p: i for i, p in enumerate(people)}
    rank = [0] * len(entries)
    for place, i in enumerate(sorted(range(len(entries)), key=lambda i: (entries[i]["name"].casefold(), entries[i]["id"]))):
        rank[i] = place
    return {
        "types": [[t.name, t.label] for t in TYPES.values()],  # the rows' type column indexes this
        "missions": [[m, names[m]] for m in missions],
        "categories": [[c, cat_names[c]] for c in categories],
        "licenses": licenses,
        "maintainers": people,
        "columns": [
            "id",
            "name",
            "summary",
            "type",
            "missions",
            "categories",
            "license",
            "maintainers",
            "archived",
            "version",
            "updated",
            "face",
            "face_kind",  # icon, screenshot or mission: an icon is shown whole, a picture fills the card
            "rank",  # its place by name, for ties in the order of results (sorted here, not in the browser)
        ],
        "rows": [
            [
                e["id"],
                e["name"],
                e["summary"],
                list(TYPES).index(e["type"]),  # a type's place in the table
                [mission_ix[m["id"]] for m in e["missions"]],
                [category_ix[c["id"]] for c in e["categories"]],
                license_ix[e["license"]],
                [person_ix[m["username"]] for m in e["maintainers"]],
                1 if e["status"] == "archived" else 0,
                e["version"],
                e["updated"] or "",
                e.get("face", {}).get("url", ""),
                e.get("face", {}).get("kind", ""),
                rank[i],
            ]
            for i, e in enumerate(entries)
        ],
    }
