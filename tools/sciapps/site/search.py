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

from lunr import get_default_builder

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


def pack(entries: list[dict], ids: list[list[str]] = ()) -> dict:
    """The packed index (see the module docstring) plus what the cards and facets need;
    `ids`: [mission, mission name, kind, label, pattern] of each kind of id the catalog
    declares, so that a search holding such an id offers to open it first."""
    builder = get_default_builder()  # what lunr() uses: trimmer, stop words, stemmer
    builder.ref("ref")
    for name, boost in FIELDS:
        builder.field(name, boost=boost)
    for i, e in enumerate(entries):
        builder.add(_document(i, e))
    field_names = [name for name, _ in FIELDS]
    terms = sorted(builder.inverted_index)
    postings = []
    for term in terms:
        posting = builder.inverted_index[term]
        per_field = []
        for name in field_names:
            refs = sorted(int(ref) for ref in posting[name])
            if not refs:
                per_field.append(0)
                continue
            deltas, tfs, previous = [], [], 0
            for ref in refs:
                deltas.append(ref - previous)
                previous = ref
                tfs.append(builder.field_term_frequencies[f"{name}/{ref}"][term])
            per_field.append([deltas, tfs] if any(tf != 1 for tf in tfs) else deltas)
        postings.append(per_field)
    lengths = [[builder.field_lengths[f"{name}/{i}"] for i in range(len(entries))] for name in field_names]
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
            ]
            for e in entries
        ],
    }
