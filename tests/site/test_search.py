"""The store's search index: what `pack` counts is what lunr.py's own Builder counts."""

from __future__ import annotations

from lunr import get_default_builder

from sciapps.site.search import FIELDS, _document, _fields_terms

TRICKY = [
    "Gaia DR3 light-curves\u00a0of the brightest RR Lyrae; the the THE",
    "  leading and trailing spaces  \t\n with a tab and (parentheses), commas, and 'quotes'!",
    "Ünïcödé wörds: ångström, naïve, Æther — em dash, and a mid\u2011word non-breaking hyphen",
    "x-ray X-RAY x--ray -x- 2MASS J1234+5678 0123456789 α-Cen",
    "",
]


def _reference(documents: list[dict]):
    builder = get_default_builder()
    builder.ref("ref")
    for name, boost in FIELDS:
        builder.field(name, boost=boost)
    for document in documents:
        builder.add(document)
    return builder


def test_the_index_counts_as_lunr_builder_does():
    documents = []
    for i, text in enumerate(TRICKY * 3):
        document = {"ref": str(i), **{name: text[i % 7 :] for name, _ in FIELDS}}
        documents.append(document)
    documents.append(
        _document(
            len(documents),
            {
                "name": "XMM-Newton EPIC spectrum fit",
                "summary": "Fit an absorbed power law to an EPIC-pn spectrum",
                "keywords": ["X-ray spectrum", "Cash statistic"],
                "missions": [{"id": "xmm-newton", "name": "XMM-Newton"}],
                "id": "xmm-epic-spectrum-fit",
                "description": "Forward-folds a model through the response. " * 50,
            },
        )
    )
    builder = _reference(documents)
    lengths, index = _fields_terms(get_default_builder(), documents)
    names = [name for name, _ in FIELDS]
    for f, name in enumerate(names):
        assert lengths[f] == [builder.field_lengths[f"{name}/{d}"] for d in range(len(documents))], name
    assert set(index) == set(builder.inverted_index)
    for term, fields in index.items():
        for name in names:
            expected = {
                int(ref): builder.field_term_frequencies[f"{name}/{ref}"][term] for ref in builder.inverted_index[term][name]
            }
            assert fields.get(name, {}) == expected, (term, name)
