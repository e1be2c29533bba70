"""How to cite one published build of a datalab: CITATION.cff, CodeMeta, an RO-Crate,
BibTeX and APA, all from the same facts.

The facts are the datalab's metadata (`authors`, else its maintainers, in that order;
name, summary, licence, keywords, links, missions and data) and one verified release
(version, build, date, image digest, chart, source commit). A scientist who ran
XMM fit 2.1.1 build 1 cites exactly that build: the image digest is in every form, and
a version's DOI, when the catalog mints one, is its identifier.

Standards: Citation File Format 1.2.0, CodeMeta 3.0 (JSON-LD), RO-Crate 1.1. Every value
is text from a validated datalab.yaml; each writer quotes or escapes it for its format.
"""

from __future__ import annotations

import json
from typing import Any

from sciapps.yamlio import dump_unambiguous

CFF_VERSION = "1.2.0"
CODEMETA_CONTEXT = "https://w3id.org/codemeta/3.0"
RO_CRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context"
RO_CRATE_PROFILE = "https://w3id.org/ro/crate/1.1"
FILES = ("CITATION.cff", "codemeta.json", "ro-crate-metadata.json")


def split_name(name: str) -> tuple[str, str]:
    """(given names, family names): `Lindqvist, Marta` or `Marta Lindqvist`; DL-074 refuses
    a name that is neither, so a published datalab's names always split."""
    if "," in name:
        family, _, given = name.partition(",")
    else:
        given, _, family = " ".join(name.split()).rpartition(" ")
    return " ".join(given.split()), " ".join(family.split())


def people(meta: dict) -> list[dict]:
    """The people a citation names, in order: `authors`, else the maintainers."""
    found = []
    for person in meta.get("authors") or meta.get("maintainers") or []:
        given, family = split_name(str(person.get("name", "")))
        found.append(
            {
                "given": given,
                "family": family,
                "orcid": person.get("orcid"),
                "affiliation": person.get("affiliation"),
            }
        )
    return found


def _page(store_url: str, meta: dict) -> str:
    return f"{store_url.rstrip('/')}/datalabs/{meta['id']}/"


def _title(meta: dict, release: dict) -> str:
    return f"{meta['name']} {release['version']} (build {release['build']})"


def cff(meta: dict, release: dict, store_url: str, doi: str | None = None) -> str:
    """CITATION.cff (Citation File Format 1.2.0) of one build."""
    authors = []
    for p in people(meta):
        author: dict[str, Any] = {"family-names": p["family"], "given-names": p["given"]}
        if p["orcid"]:
            author["orcid"] = f"https://orcid.org/{p['orcid']}"
        if p["affiliation"]:
            author["affiliation"] = p["affiliation"]
        authors.append(author)
    data: dict[str, Any] = {
        "cff-version": CFF_VERSION,
        "message": "If you use this datalab, please cite this version of it as below.",
        "type": "software",
        "title": meta["name"],
        "version": f"{release['version']}+build.{release['build']}",
        "date-released": release["published"][:10],
        "abstract": meta["summary"],
        "authors": authors,
        "license": meta["license"],
        "url": _page(store_url, meta),
        "identifiers": [
            *([{"type": "doi", "value": doi, "description": "This version's DOI"}] if doi else []),
            {"type": "other", "value": release["image"], "description": "The container image, by digest"},
        ],
    }
    if meta.get("keywords"):
        data["keywords"] = list(meta["keywords"])
    source = (meta.get("links") or {}).get("source")
    if source:
        data["repository-code"] = source
    commit = (release.get("source") or {}).get("commit")
    if commit:
        data["commit"] = commit
    return dump_unambiguous(data)


def codemeta(meta: dict, release: dict, store_url: str, doi: str | None = None) -> dict:
    """CodeMeta 3.0 (JSON-LD) of one build."""
    authors = []
    for p in people(meta):
        person: dict[str, Any] = {"@type": "Person", "givenName": p["given"], "familyName": p["family"]}
        if p["orcid"]:
            person["@id"] = f"https://orcid.org/{p['orcid']}"
        if p["affiliation"]:
            person["affiliation"] = {"@type": "Organization", "name": p["affiliation"]}
        authors.append(person)
    data: dict[str, Any] = {
        "@context": CODEMETA_CONTEXT,
        "@type": "SoftwareSourceCode",
        "name": meta["name"],
        "description": meta["summary"],
        "version": release["version"],
        "softwareVersion": f"{release['version']}+build.{release['build']}",
        "datePublished": release["published"][:10],
        "author": authors,
        "license": f"https://spdx.org/licenses/{meta['license']}" if " " not in meta["license"] else meta["license"],
        "url": _page(store_url, meta),
        "identifier": [*([f"https://doi.org/{doi}"] if doi else []), release["image"]],
        "keywords": list(meta.get("keywords") or []),
        "applicationCategory": "Astronomy",
    }
    source = (meta.get("links") or {}).get("source")
    if source:
        data["codeRepository"] = source
    paper = (meta.get("links") or {}).get("doi")
    if paper:
        data["referencePublication"] = f"https://doi.org/{paper}"
    return data


def ro_crate(meta: dict, release: dict, store_url: str, files: dict[str, str], record_digest: str | None = None) -> dict:
    """The RO-Crate 1.1 metadata of one build: the datalab's files (`files`: path ->
    sha256 hex), the image by digest, the chart, the mission data collections it mounts
    and, when known, its signed release record's digest."""
    page = _page(store_url, meta)
    authors = people(meta)
    parts = [{"@id": path} for path in sorted(files)]
    image = {"@id": f"#image-{release['digest']}"}
    graph: list[dict[str, Any]] = [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": {"@id": RO_CRATE_PROFILE},
            "about": {"@id": "./"},
        },
        {
            "@id": "./",
            "@type": "Dataset",
            "name": _title(meta, release),
            "description": meta["summary"],
            "datePublished": release["published"][:10],
            "license": {"@id": f"https://spdx.org/licenses/{meta['license']}"},
            "url": page,
            "version": release["version"],
            "author": [{"@id": f"#author-{i}"} for i in range(len(authors))],
            "hasPart": [*parts, image],
            "mentions": [{"@id": f"#data-{a['mission']}-{a['collection']}"} for a in meta.get("data_assets") or []],
        },
        {
            "@id": image["@id"],
            "@type": "SoftwareApplication",
            "name": f"The container image of {_title(meta, release)}",
            "identifier": release["image"],
            "softwareVersion": release["version"],
        },
    ]
    for i, p in enumerate(authors):
        person: dict[str, Any] = {"@id": f"#author-{i}", "@type": "Person", "name": f"{p['given']} {p['family']}"}
        if p["orcid"]:
            person["identifier"] = f"https://orcid.org/{p['orcid']}"
        if p["affiliation"]:
            person["affiliation"] = p["affiliation"]
        graph.append(person)
    for path, sha256 in sorted(files.items()):
        graph.append({"@id": path, "@type": "File", "sha256": sha256})
    chart = release.get("chart")
    if chart:
        graph[1]["hasPart"].append({"@id": "#chart"})
        graph.append(
            {
                "@id": "#chart",
                "@type": "SoftwareApplication",
                "name": "Helm chart",
                "identifier": f"{chart['uri']}@{chart['digest']}",
            }
        )
    for a in meta.get("data_assets") or []:
        graph.append(
            {
                "@id": f"#data-{a['mission']}-{a['collection']}",
                "@type": "Dataset",
                "name": f"{a['mission']} {a['collection']}",
                "description": f"Mounted read-only at {a['mount']}",
            }
        )
    if record_digest:
        graph[1]["hasPart"].append({"@id": "#release-record"})
        graph.append(
            {"@id": "#release-record", "@type": "CreativeWork", "name": "Signed release record (DSSE)", "sha256": record_digest}
        )
    return {"@context": RO_CRATE_CONTEXT, "@graph": graph}


def _bibtex_text(value: str) -> str:
    """Text safe in a BibTeX field: braces and backslashes balanced away, special characters escaped."""
    out = []
    for ch in value:
        if ch in "{}\\":
            continue
        out.append("\\" + ch if ch in "&%$#_" else ch)
    return "".join(out)


def bibtex(meta: dict, release: dict, store_url: str, doi: str | None = None) -> str:
    authors = " and ".join(f"{_bibtex_text(p['family'])}, {_bibtex_text(p['given'])}" for p in people(meta))
    key = f"{meta['id'].replace('-', '_')}_{release['version'].replace('.', '_').replace('-', '_')}_b{release['build']}"
    fields = [
        ("author", authors),
        ("title", _bibtex_text(f"{meta['name']}, version {release['version']} (build {release['build']})")),
        ("year", release["published"][:4]),
        ("version", _bibtex_text(f"{release['version']}+build.{release['build']}")),
        ("url", _page(store_url, meta)),
        ("note", _bibtex_text(f"ESA Datalabs, container image {release['image']}")),
    ]
    if doi:
        fields.insert(4, ("doi", doi))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@software{{{key},\n{body}\n}}\n"


def apa(meta: dict, release: dict, store_url: str, doi: str | None = None) -> str:
    """APA 7 style for software: Authors (Year). Title (Version x) [Computer software]. Publisher. URL"""
    names = [
        f"{p['family']}, {' '.join(part[0] + '.' for part in p['given'].split() if part[0].isalpha())}" for p in people(meta)
    ]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1] if names else ""
    where = f"https://doi.org/{doi}" if doi else _page(store_url, meta)
    return (
        f"{who} ({release['published'][:4]}). {meta['name']} (Version {release['version']}, build {release['build']}) "
        f"[Computer software]. ESA Datalabs. {where}"
    )


def as_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
