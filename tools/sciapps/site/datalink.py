"""DataLink service descriptors: archives launch datalabs through their own standard.

An astronomy archive offers "do something with this row" through IVOA DataLink 1.1: a
*service descriptor*, a VOTable `RESOURCE type="meta" utype="adhoc:service"` whose
`inputParams` name the row's columns (`ref`). TOPCAT, pyvo, ESASky and the archives' own
pages invoke it with a row's values. The store publishes, as static files:

- `datalink/open/<mission>/<kind>.xml`, one per kind of id the catalog declares
  (`collections: … ids:` in sciapps.yaml): its access URL is the store's `open/` page, with
  the mission fixed and the id taken from the archive's column, and it lists the
  datalabs that take such an id;
- `datalink/launch/<id>/<parameter>.xml`, one per datalab parameter that selects a kind
  of id, for datalabs with a verified release: its access URL is the store's `launch/`
  page, pinned to that release (version and digest), where the scientist sees what starts
  before anything does.

`ref` names the archive's column: the kind's name here (`obsid`), which an archive sets to
the ID of its own column when it adds the descriptor to its responses (OPERATIONS.md, "Archives").
Nothing of a merge request reaches these files but what validation accepted: ids, names
and patterns are escaped by ElementTree.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

VOTABLE_NS = "http://www.ivoa.net/xml/VOTable/v1.3"
DATALINK_STANDARD = "ivo://ivoa.net/std/DataLink#links-1.1"  # the standard whose service descriptors these are


def _param(parent: ET.Element, name: str, value: str = "", **attributes: str) -> ET.Element:
    return ET.SubElement(
        parent, f"{{{VOTABLE_NS}}}PARAM", {"name": name, "datatype": "char", "arraysize": "*", "value": value, **attributes}
    )


def _descriptor(
    resource_id: str, description: str, access_url: str, example: str, fixed: list[tuple[str, str]], taken: dict
) -> bytes:
    """One VOTable holding one service descriptor; `taken`: the parameter an archive fills
    from its row (name, ref, ucd, its description)."""
    ET.register_namespace("", VOTABLE_NS)
    votable = ET.Element(f"{{{VOTABLE_NS}}}VOTABLE", {"version": "1.4"})
    resource = ET.SubElement(
        votable, f"{{{VOTABLE_NS}}}RESOURCE", {"type": "meta", "utype": "adhoc:service", "ID": resource_id, "name": resource_id}
    )
    ET.SubElement(resource, f"{{{VOTABLE_NS}}}DESCRIPTION").text = description
    _param(resource, "accessURL", access_url, ucd="meta.ref.url")
    _param(resource, "contentType", "text/html")
    _param(resource, "exampleURL", example, ucd="meta.ref.url")
    group = ET.SubElement(resource, f"{{{VOTABLE_NS}}}GROUP", {"name": "inputParams"})
    for name, value in fixed:
        _param(group, name, value)
    extra = {"ucd": taken["ucd"]} if taken.get("ucd") else {}
    param = _param(group, taken["name"], "", ref=taken["ref"], **extra)
    ET.SubElement(param, f"{{{VOTABLE_NS}}}DESCRIPTION").text = taken["description"]
    ET.indent(votable)
    return ET.tostring(votable, encoding="utf-8", xml_declaration=True) + b"\n"


def _taken(kind: str, spec: dict) -> dict:
    did = f" or the IVOA publisher DID {spec['ivoid']}?<id>" if spec.get("ivoid") else ""
    example = f", for example {spec['example']}" if spec.get("example") else ""
    return {
        "name": kind,
        "ref": kind,
        "ucd": spec.get("ucd"),
        "description": f"{spec['label']}: the whole value matches {spec['pattern']}{example}{did}.",
    }


def open_descriptor(store_url: str, mission: str, mission_name: str, kind: str, spec: dict) -> bytes:
    base = store_url.rstrip("/") + "/"
    return _descriptor(
        f"sciapps-open-{mission}-{kind}",
        f"Open this {spec['label']} in ESA Datalabs: the SciApps store lists the datalabs that take it, and the "
        f"scientist reviews a launch before anything starts ({mission_name} data, mounted read-only).",
        f"{base}open/",
        f"{base}open/?mission={mission}&{kind}={spec.get('example', '')}",
        [("mission", mission)],
        _taken(kind, spec),
    )


def launch_descriptor(store_url: str, entry: dict, parameter: dict, spec: dict) -> bytes:
    base = store_url.rstrip("/") + "/"
    release = entry["release"]
    fixed = [("datalab", entry["id"]), ("version", release["version"]), ("digest", release["digest"])]
    name = parameter["name"]
    example = parameter.get("example") or spec.get("example", "")
    return _descriptor(
        f"sciapps-launch-{entry['id']}-{name}",
        f"Launch {entry['name']} {release['version']} (build {release['build']}, verified) in ESA Datalabs on this "
        f"{spec['label']}: the SciApps store shows what will start before anything does.",
        f"{base}launch/",
        f"{base}launch/?datalab={entry['id']}&version={release['version']}&{name}={example}",
        fixed,
        {**_taken(spec["kind"], spec), "name": name},
    )


def write_descriptors(out: Path, entries: list[dict], kinds: dict[str, dict], missions: dict, store_url: str) -> list[str]:
    """Every descriptor (see the module docstring), as store paths; `kinds` is
    `data.mission_kinds`. Only kinds a datalab's parameter may select, and datalabs with a
    verified release, get one."""
    written = []

    def write(path: str, data: bytes) -> None:
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(path)

    for mission, declared in kinds.items():
        for kind, spec in declared.items():
            write(
                f"datalink/open/{mission}/{kind}.xml", open_descriptor(store_url, mission, missions[mission]["name"], kind, spec)
            )
    for e in entries:
        release = e.get("release")
        if e["status"] != "published" or not release or not release.get("verified"):
            continue
        for p in e.get("parameters") or []:
            selects = p.get("selects") or {}
            spec = kinds.get(selects.get("mission"), {}).get(selects.get("kind"))
            if spec:
                data = launch_descriptor(store_url, e, p, {**spec, "kind": selects["kind"]})
                write(f"datalink/launch/{e['id']}/{p['name']}.xml", data)
    return written
