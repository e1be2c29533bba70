"""The store's machine-readable files and assets: API, search index, feed, badge, schemas."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from sciapps import __version__, launchparams
from sciapps.catalog.rules.images import SUFFIXES, picture_format
from sciapps.errors import SciAppsError
from sciapps.resources import schemas_dir
from sciapps.safefiles import UnsafeFile, read_inside
from sciapps.site import search
from sciapps.site.model import sort_newest
from sciapps.text import xml_text

ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50

BADGE = """<svg xmlns="http://www.w3.org/2000/svg" width="178" height="20" role="img" aria-label="Launch in ESA Datalabs">
<title>Launch in ESA Datalabs</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>
<stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="178" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="52" height="20" fill="#003247"/><rect x="52" width="126" height="20" fill="#0098db"/>
<rect width="178" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110"
 text-rendering="geometricPrecision">
<text x="260" y="140" transform="scale(.1)">Launch</text><text x="1140" y="140" transform="scale(.1)">in ESA Datalabs</text></g>
</svg>
"""


def _dump(path: Path, data, made: set | None = None) -> None:
    """`data` as compact JSON at `path`; `made`: folders already made in this build (each
    is made once, not once per file: a store of 10,000 datalabs writes 10,000 of them)."""
    if made is None or path.parent not in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(path.parent)
    with open(path, "w", encoding="utf-8") as fh:  # dumps, not dump: json.dump never uses the C encoder
        fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def write_api(out: Path, entries: list[dict], store_url: str, preview: dict | None = None) -> None:
    """api/catalog.json and one api/datalabs/<id>.json per entry; a preview's say so."""
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _dump(
        out / "api" / "catalog.json",
        {
            **({"preview": preview} if preview else {}),
            "generator": f"sciapps {__version__}",
            "generated": generated,
            "store": store_url,
            "schema": "schemas/datalab.schema.json",
            "count": len(entries),
            "datalabs": [
                {k: e[k] for k in ("id", "name", "summary", "version", "type", "status", "license", "updated")}
                | {"missions": [m["id"] for m in e["missions"]], "url": e["urls"]["page"], "api": e["urls"]["api"]}
                for e in entries
            ],
        },
    )
    made: set = set()
    for e in entries:
        _dump(out / e["urls"]["api"], e, made)


def mission_kinds(id_kinds: dict, missions: dict) -> dict[str, dict]:
    """{mission: {kind: {label, pattern, example, collection}}}: the kinds of id each mission's
    collections declare (a kind two collections declare: the first collection's)."""
    found: dict[str, dict] = {}
    for mission, collections in sorted(id_kinds.items()):
        kinds: dict = {}
        for collection, declared in sorted(collections.items()):
            for kind, spec in sorted(declared.items()):
                kinds.setdefault(kind, {**dict(spec), "collection": collection})
        if kinds and mission in missions:
            found[mission] = kinds
    return found


def open_index(entries: list[dict], id_kinds: dict, missions: dict) -> dict[str, dict]:
    """What the store's `open/` page reads, one file per mission (`api/open/<mission>.json`):
    the kinds of id the catalog declares for the mission's collections (label, pattern,
    example) and, per kind, the published datalabs that take such an id as a parameter,
    those with a verified release first (with its version), then those without (version
    None: listed, not launchable yet). An archive links `open/?mission=MISSION&KIND=VALUE`."""
    index: dict[str, dict] = {
        mission: {"mission": mission, "name": missions[mission]["name"], "kinds": kinds, "datalabs": []}
        for mission, kinds in mission_kinds(id_kinds, missions).items()
    }
    newest = [e for e in sort_newest(entries) if e["status"] == "published"]
    verified = [(e, e["release"]) for e in newest if (e.get("release") or {}).get("verified")]
    waiting = [(e, None) for e in newest if not (e.get("release") or {}).get("verified")]
    for e, release in verified + waiting:
        for p in e.get("parameters") or []:
            selects = p.get("selects") or {}
            found = index.get(selects.get("mission"))
            if found is None or selects.get("kind") not in found["kinds"]:
                continue
            found["datalabs"].append(
                {
                    "id": e["id"],
                    "name": e["name"],
                    "summary": e["summary"],
                    "version": release["version"] if release else None,
                    "build": release["build"] if release else None,
                    "page": e["urls"]["page"],
                    "kind": selects["kind"],
                    "parameter": p["name"],
                    "spec": p,
                }
            )
    return index


def write_open(out: Path, entries: list[dict], id_kinds: dict) -> None:
    from sciapps.schema import vocabulary

    for mission, data in open_index(entries, id_kinds, vocabulary("missions")).items():
        _dump(out / "api" / "open" / f"{mission}.json", data)


def write_citation(out: Path, e: dict, store_url: str) -> None:
    """CITATION.cff, codemeta.json and ro-crate-metadata.json of each verified build of the
    entry, where its `cite["files"]` says (`model.cite_entry`)."""
    from sciapps import citing

    for release in e["versions"]:
        if not release.get("cite"):
            continue
        texts = {
            "CITATION.cff": citing.cff(e, release, store_url),
            "codemeta.json": citing.as_json(citing.codemeta(e, release, store_url)),
            "ro-crate-metadata.json": citing.as_json(citing.ro_crate(e, release, store_url, {})),
        }
        for name, path in release["cite"]["files"].items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(texts[name], encoding="utf-8")


def write_datalink(out: Path, entries: list[dict], id_kinds: dict, store_url: str) -> list[str]:
    """The DataLink service descriptors archives add to their responses (`site.datalink`)."""
    from sciapps.schema import vocabulary
    from sciapps.site import datalink

    missions = vocabulary("missions")
    return datalink.write_descriptors(out, entries, mission_kinds(id_kinds, missions), missions, store_url)


def write_search(out: Path, entries: list[dict], id_kinds: dict | None = None) -> Path:
    """The search index; with the kinds of id (`mission_kinds`), so that a search for an id
    offers to open it."""
    from sciapps.schema import vocabulary

    missions = vocabulary("missions")
    ids = [
        [mission, missions[mission]["name"], kind, spec["label"], spec["pattern"]]
        for mission, kinds in mission_kinds(id_kinds or {}, missions).items()
        for kind, spec in kinds.items()
    ]

    def narrowest(row: list) -> int:  # an id that fits a 10-digit obsid and a 1-19 digit source: the obsid first
        digits = launchparams.digit_count(row[4])
        return digits[1] - digits[0] if digits else 1000

    ids.sort(key=narrowest)
    path = out / "search" / "index.json"
    _dump(path, search.pack(entries, ids))
    return path


def write_feed(out: Path, entries: list[dict], store_url: str, title: str) -> None:
    """Atom feed of the newest and latest-updated datalabs."""
    base = store_url.rstrip("/") + "/"
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    newest = sort_newest(entries)[:FEED_ENTRIES]
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"{title}: new and updated datalabs"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = base
    ET.SubElement(feed, f"{{{ATOM}}}link", href=base + "feed.xml", rel="self")
    ET.SubElement(feed, f"{{{ATOM}}}link", href=base)
    latest = newest[0]["updated"] if newest and newest[0]["updated"] else "2000-01-01"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = f"{latest}T00:00:00Z"
    ET.SubElement(feed, f"{{{ATOM}}}generator", version=__version__).text = "SciApps"
    for e in newest:
        item = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(item, f"{{{ATOM}}}title").text = xml_text(f"{e['name']} {e['version']}")
        ET.SubElement(item, f"{{{ATOM}}}id").text = f"{base}{e['urls']['page']}#{e['version']}"
        ET.SubElement(item, f"{{{ATOM}}}link", href=base + e["urls"]["page"])
        ET.SubElement(item, f"{{{ATOM}}}updated").text = f"{e['updated'] or '2000-01-01'}T00:00:00Z"
        if e["created"]:
            ET.SubElement(item, f"{{{ATOM}}}published").text = f"{e['created']}T00:00:00Z"
        author = ET.SubElement(item, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = xml_text(", ".join(m["name"] for m in e["maintainers"]))
        changes = e["changelog"][0]["changes"] if e["changelog"] else []
        summary = e["summary"] + (" What is new: " + "; ".join(changes) if changes else "")
        ET.SubElement(item, f"{{{ATOM}}}summary").text = xml_text(summary)
        for m in e["missions"]:
            ET.SubElement(item, f"{{{ATOM}}}category", term=m["id"], label=xml_text(m["name"]))
    tree = ET.ElementTree(feed)
    ET.indent(tree)
    tree.write(out / "feed.xml", encoding="utf-8", xml_declaration=True)


def write_marks(out: Path) -> None:
    """assets/marks/<mission>.svg: the face of a datalab with neither icon nor screenshot."""
    from sciapps.schema import vocabulary
    from sciapps.site.faces import MARKS, mark_svg

    folder = out / MARKS
    folder.mkdir(parents=True, exist_ok=True)
    for mission, entry in vocabulary("missions").items():
        (folder / f"{mission}.svg").write_text(mark_svg(entry["name"]), encoding="utf-8")
    (folder / "_any.svg").write_text(mark_svg("SciApps"), encoding="utf-8")


def write_static(out: Path) -> None:
    write_marks(out)
    (out / "badge").mkdir(parents=True, exist_ok=True)
    (out / "badge" / "launch.svg").write_text(BADGE, encoding="utf-8")
    target = out / "schemas"
    target.mkdir(parents=True, exist_ok=True)
    for name in (
        "datalab.schema.json",
        "sciapps-config.schema.json",
        "feedback-export.schema.json",
        "stage-result.schema.json",
        "release-record.schema.json",
    ):
        shutil.copyfile(schemas_dir() / name, target / name)
        # also where its $id says it lives, e.g. schemas/datalab/v1/datalab.schema.json
        with open(schemas_dir() / name, encoding="utf-8") as fh:
            schema_id = json.load(fh)["$id"]
        versioned = out / urlsplit(schema_id).path.lstrip("/")
        versioned.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(schemas_dir() / name, versioned)


def write_nbformat_schemas(out: Path) -> None:
    """schemas/nbformat/: the notebook format 4 schemas of the installed nbformat (the ones
    `sciapps validate` checks notebooks with), so the Create page checks uploads the same way."""
    import nbformat

    source = Path(nbformat.__file__).parent / "v4"
    target = out / "schemas" / "nbformat"
    target.mkdir(parents=True, exist_ok=True)
    for schema in source.glob("nbformat.v4.*.schema.json"):
        shutil.copyfile(schema, target / schema.name)


def write_spdx(out: Path) -> None:
    """api/spdx.json: the SPDX licence and exception ids `sciapps validate` knows (from
    license-expression), for the Create page's licence picker and check. `ids` are the ones
    to offer; `symbols` maps every id and alias, lower-cased, to its SPDX spelling."""
    from license_expression import get_spdx_licensing

    symbols: dict[str, str] = {}
    ids, exceptions = set(), set()
    for symbol in get_spdx_licensing().known_symbols.values():
        for name in (symbol.key, *symbol.aliases):
            symbols.setdefault(name.lower(), symbol.key)
        if not symbol.key.startswith("LicenseRef-"):
            (exceptions if symbol.is_exception else ids).add(symbol.key)
    target = out / "api" / "spdx.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(
            {"ids": sorted(ids, key=str.lower), "exceptions": sorted(exceptions, key=str.lower), "symbols": symbols},
            separators=(",", ":"),
        ),
        encoding="utf-8",
    )


def picture_names(folder: Path, meta: dict, limit: int) -> dict[str, str]:
    """{file named in datalab.yaml: name the store publishes it under} for the screenshots
    and the icon: `media/<content hash>.<png|jpg|webp>`, the suffix from the content, never
    from the name the merge request gave. So no file becomes a page, a script, SVG or XML,
    and none can be written over a page. Files that are not such pictures are left out."""
    names = {}
    wanted = [s.get("file") for s in meta.get("screenshots") or [] if isinstance(s, dict)] + [meta.get("icon")]
    for rel in filter(None, wanted):
        try:
            data = read_inside(folder, rel, limit)
        except UnsafeFile:
            continue
        kind = picture_format(data)
        if kind:
            names[rel] = f"media/{hashlib.sha256(data).hexdigest()[:20]}{SUFFIXES[kind][0]}"
    return names


def copy_assets(out: Path, folder: Path, e: dict, limit: int) -> None:
    """Screenshots and icon of one datalab, under the names `picture_names` gave them (one
    file per content: an icon that is also a screenshot is written once)."""
    made = set()
    for name, rel in {name: rel for rel, name in e["media"].items()}.items():
        data = read_inside(folder, rel, limit)
        target = out / e["urls"]["page"] / name
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        with open(target, "xb") as fh:  # never over another file, let alone a page
            fh.write(data)


SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"


def write_sitemap(out: Path, site_url: str, entries: list[dict]) -> None:
    """Add the datalab pages to the sitemap mkdocs wrote (it knows only its own pages)."""
    path = out / "sitemap.xml"
    if not path.is_file():
        return
    ET.register_namespace("", SITEMAP)
    tree = ET.parse(path)
    for e in entries:
        url = ET.SubElement(tree.getroot(), f"{{{SITEMAP}}}url")
        ET.SubElement(url, f"{{{SITEMAP}}}loc").text = site_url + e["urls"]["page"]
        if e["updated"]:
            ET.SubElement(url, f"{{{SITEMAP}}}lastmod").text = e["updated"]
    tree.write(path, encoding="utf-8", xml_declaration=True)
    with open(path, "rb") as src, gzip.open(out / "sitemap.xml.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)


def write_public_key(out: Path, key: Path) -> None:
    """keys/release.pub: the catalog's public key, which every release record is signed for."""
    from sciapps.releases.signing import public_pem

    try:
        pem = public_pem(key)
    except SciAppsError:
        return  # no key, nothing to publish: the build already warned
    (out / "keys").mkdir(parents=True, exist_ok=True)
    (out / "keys" / "release.pub").write_bytes(pem)
