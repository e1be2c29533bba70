"""The store's data: one plain, JSON-ready entry per datalab, built from its metadata, the
stage results and the feedback export. Engine-neutral: the pages, the search index and
the API are all made from these entries, whatever renders the HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

import jsonschema

from sciapps.config import PAGES_DIR, Config
from sciapps.errors import SciAppsError
from sciapps.feedback import MAX_EXPORT_BYTES, label_of
from sciapps.resources import schemas_dir
from sciapps import citing
from sciapps.releases.judge import Judged, pick
from sciapps.catalog import launching
from sciapps.schema import vocabulary
from sciapps.semver import semver_key

SHOWN_STATUSES = ("published", "archived")
MAX_BEFORE = 8  # screenshots shown "before" a previewed change, per datalab


def _q(value: Any) -> str:
    return quote(str(value), safe="")


def fill_template(template: str, setting: str, **values: Any) -> str:
    """A URL template from sciapps.yaml with every value URL-encoded; `params` is already a
    query string of encoded NAME=VALUE pairs (the store's launch page fills it in)."""
    try:
        return template.format_map({key: value if key == "params" else _q(value) for key, value in values.items()})
    except (KeyError, IndexError, ValueError) as exc:
        raise SciAppsError(
            f"sciapps.yaml: {setting} {template!r} cannot be filled ({exc})",
            f"use only the placeholders {', '.join('{' + k + '}' for k in values)}",
        ) from None


def feedback_body(meta: dict) -> str:
    """The prefilled issue: the datalab's label as a quick action (what `sciapps
    feedback-sync` groups by), and a Kind: line to keep one word of."""
    return (
        f"Datalab: {meta['name']} ({meta['id']}), version {meta['version']}\n\n"
        "What happened, or what would you like?\n\n\n"
        "Steps to see it (if it is a problem):\n1. \n\n"
        "Kind: praise / problem / idea\n\n"
        f'/label ~"{label_of(meta["id"])}"\n'
    )


@dataclass
class Feedback:
    """Feedback export, grouped per datalab."""

    by_datalab: dict[str, list[dict]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    exported: str = ""  # when the export was made: the store says how old its feedback is

    @classmethod
    def load(cls, path: Path | None) -> "Feedback":
        if path is None or not path.is_file():
            return cls()
        try:
            if path.stat().st_size > MAX_EXPORT_BYTES:
                return cls(problems=[f"{path}: larger than {MAX_EXPORT_BYTES // 2**20} MiB; feedback is not shown"])
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return cls(problems=[f"{path}: not readable JSON ({exc}); feedback is not shown"])
        with open(schemas_dir() / "feedback-export.schema.json", encoding="utf-8") as fh:
            schema = json.load(fh)
        # The export as a whole, then each item alone: one bad item is left out, not all.
        outer = {**schema, "properties": {**schema["properties"], "items": {"type": "array"}}}
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(outer).iter_errors(data))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            return cls(problems=[f"{path}: {where}: {error.message}; feedback is not shown"])
        item_validator = jsonschema.Draft202012Validator(schema["properties"]["items"]["items"])
        grouped: dict[str, list[dict]] = {}
        problems = []
        for index, item in enumerate(data["items"]):
            error = jsonschema.exceptions.best_match(item_validator.iter_errors(item))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path)
                problems.append(
                    f"{path}: items/{index}{'/' + where if where else ''}: {error.message[:200]}; this item is left out"
                )
                continue
            grouped.setdefault(item["datalab"], []).append(item)
        return cls(grouped, problems, str(data["exported"])[:10])

    def summary(self, datalab_id: str) -> dict | None:
        items = self.by_datalab.get(datalab_id)
        if not items:
            return None
        counts = {kind: sum(1 for i in items if i["kind"] == kind) for kind in ("praise", "problem", "idea")}
        latest = sorted((i for i in items if i.get("comment")), key=lambda i: i["date"], reverse=True)[:3]
        return {"total": len(items), "counts": counts, "latest": latest, "exported": self.exported}


def version_entry(
    j: Judged, meta: dict, config: Config, archived: bool, audit: tuple[dict, str] = ({}, ""), health: tuple[dict, str] = ({}, "")
) -> dict:
    """One published version and build of a datalab, as its page and API show it; `audit`
    and `health` are the scheduled revisits' exports ({"<id>/<digest hex>": entry}, when)."""
    r = j.release
    audited = audit[0].get(f"{r.datalab}/{r.key}")
    tested = health[0].get(f"{r.datalab}/{r.key}")
    usable = j.verified and not archived  # a version that does not verify is listed, never offered
    launch = (
        None
        if not usable
        else fill_template(config.launch_url, "launch_url", id=r.datalab, version=r.version, digest=r.digest, params="")
    )
    helm = (
        f"helm install {r.datalab} {r.chart.uri} --version {r.chart.version} --namespace datalabs --set image.digest={r.digest}"
        if r.chart and usable
        else None
    )
    return {
        "version": r.version,
        "build": r.build,
        "published": r.published[:10],
        "image": r.image,
        "digest": r.digest,
        "tag": r.tag,
        "verified": j.verified,
        "why": j.why,
        "launch": launch,
        "helm": helm,
        "chart": {"uri": r.chart.uri, "version": r.chart.version, "digest": r.chart.digest} if r.chart else None,
        "bases": [{"name": name, "digest": digest} for name, digest in r.bases],
        "source": {"repository": r.repository_url, "commit": r.commit, "merge_request": r.merge_request},
        "pipeline": r.pipeline,
        "checks": {stage: dict(c) for stage, c in r.checks.items()},
        "audit": {"checked": audit[1], "advisories": [dict(a) for a in audited["advisories"][:50] if isinstance(a, dict)]}
        if audited
        else None,
        "health": {"checked": health[1], "passed": tested["passed"], "summary": str(tested.get("summary", ""))[:300]}
        if tested
        else None,
    }


def cite_entry(meta: dict, release: dict | None, store_url: str, page: str) -> dict | None:
    """How to cite the current release, when it verifies: BibTeX and APA as text, and where
    its CITATION.cff, CodeMeta and RO-Crate are published (`site.engine_mkdocs` writes them)."""
    if not release or not release["verified"]:
        return None
    folder = f"{page}cite/{release['version']}-build{release['build']}/"
    return {
        "version": release["version"],
        "build": release["build"],
        "digest": release["digest"],
        "doi": None,
        "bibtex": citing.bibtex(meta, release, store_url),
        "apa": citing.apa(meta, release, store_url),
        "files": {name: folder + name for name in citing.FILES},
    }


def entry(
    meta: dict,
    config: Config,
    releases: list[Judged] | None = None,
    feedback: Feedback | None = None,
    media: dict[str, str] | None = None,
    audit: tuple[dict, str] = ({}, ""),
    health: tuple[dict, str] = ({}, ""),
) -> dict:
    """The store entry of one valid datalab; `releases` are its release records, judged
    (`releases.mirror.Mirror`); `media` maps its pictures to the names the store publishes
    them under (`data.picture_names`): one left out is not shown."""
    media = media or {}
    releases = releases or []
    missions = vocabulary("missions")
    categories = vocabulary("categories")
    changelog = meta.get("changelog") or []
    dates = sorted(item["date"] for item in changelog)
    archived = meta.get("status") == "archived"
    page = f"{PAGES_DIR}/{meta['id']}/"
    versions = [version_entry(j, meta, config, archived, audit, health) for j in releases if j.release]
    for v in versions:  # every verified build is citable, each with its own files (the current metadata names it)
        v["cite"] = cite_entry(meta, v, config.store_url, f"{PAGES_DIR}/{meta['id']}/")
    current = pick(releases, meta["version"])
    offered = launching.offered(meta, config)
    shown = next((v for v in versions if v["digest"] == current.release.digest), None) if current else None
    return {
        "id": meta["id"],
        "name": meta["name"],
        "summary": meta["summary"],
        "description": meta.get("description", ""),
        "version": meta["version"],
        "mode": meta.get("mode", "basic"),
        "type": meta["type"],
        "entry": meta["entry"],
        "missions": [{"id": m, "name": missions[m]["name"]} for m in meta.get("missions") or []],
        "categories": [{"id": c, "name": categories[c]["name"]} for c in meta.get("categories") or []],
        "keywords": list(meta.get("keywords") or []),
        "maintainers": [dict(m) for m in meta["maintainers"]],
        "authors": [dict(a) for a in meta.get("authors") or []],
        "license": meta["license"],
        "data_assets": [
            {"read_only": True, **a, "mission_name": missions[a["mission"]]["name"]} for a in meta.get("data_assets") or []
        ],
        "resources": launching.defaults(meta),
        "resource_limits": {
            name: {"min": launching.minimum(name), "max": most} for name, most in launching.bounds(meta, config).items()
        },
        "parameters": offered,
        "takes": [launching.takes(p) for p in offered],
        "launch_schema": launching.json_schema(offered),
        "screenshots": [{**s, "url": f"{page}{media[s['file']]}"} for s in meta.get("screenshots") or [] if s["file"] in media],
        "icon": f"{page}{media[meta['icon']]}" if meta.get("icon") in media else None,
        "media": dict(media),
        "links": dict(meta.get("links") or {}),
        "citation": dict(meta["citation"]) if meta.get("citation") else None,
        "status": meta.get("status", "draft"),
        "archived": dict(meta["archived"]) if archived else None,
        "changelog": [dict(c) for c in changelog],
        "created": dates[0] if dates else None,
        "updated": dates[-1] if dates else None,
        "urls": {
            "page": page,
            "api": f"api/datalabs/{meta['id']}.json",
            # what a click launches: the current version's verified build, pinned by digest; nothing before one exists
            "launch": None
            if archived or not (current and current.verified)
            else fill_template(
                config.launch_url,
                "launch_url",
                id=meta["id"],
                version=meta["version"],
                digest=current.release.digest,
                params="",
            ),
            # the store's own launch page: a summary of what starts, with the launch's values
            "launch_page": None if archived else f"launch/?datalab={meta['id']}&version={_q(meta['version'])}",
            "feedback": fill_template(
                config.feedback_url,
                "feedback_url",
                id=meta["id"],
                title=f"Feedback: {meta['name']} {meta['version']}",
                body=feedback_body(meta),
            )
            if config.feedback_url
            else None,
        },
        # the checks of the current version's newest release: what was checked before it was published
        "ci": {stage: dict(c) for stage, c in current.release.checks.items()} if current else {},
        "release": shown,
        "cite": shown["cite"] if shown else None,
        "versions": versions,
        "unreadable_records": [j.why for j in releases if not j.release],
        "feedback": feedback.summary(meta["id"]) if feedback else None,
    }


def history(e: dict) -> list[dict]:
    """The datalab's versions as one story, newest first: what each version changed (its
    changelog entry) and the builds published of it (its release records), so the page's
    Versions says both at once. A version in the changelog that was never published is
    listed without builds; a published one missing from the changelog, without changes."""
    told = {c["version"]: c for c in e["changelog"]}
    builds: dict[str, list[dict]] = {}
    for v in e["versions"]:
        builds.setdefault(v["version"], []).append(v)
    story = []
    for version in sorted(set(told) | set(builds), key=semver_key, reverse=True):
        made = sorted(builds.get(version, []), key=lambda v: (v["build"], v["published"]), reverse=True)
        entry = told.get(version, {})
        story.append(
            {
                "version": version,
                "date": str(entry.get("date") or (made[-1]["published"] if made else "")),
                "changes": list(entry.get("changes") or []),
                "builds": made,
                "current": version == e["version"],
            }
        )
    return story


def shown(meta: dict) -> bool:
    """Does the datalab appear in the public store? Published or archived, and public."""
    return meta.get("status", "draft") in SHOWN_STATUSES and meta.get("visibility", "public") == "public"


@dataclass(frozen=True)
class Preview:
    """A store built to be looked at before review: a merge request's, or one's own drafts.
    Every page and API entry says so; it has no feed and no sitemap, asks search engines
    not to index it, and lives at `url`, an origin other than the store's."""

    label: str  # "merge request !12", "local drafts"
    url: str  # where it is served (its site_url)
    merge_request: str = ""  # the merge request's number, when it is one
    datalabs: frozenset[str] = frozenset()  # what it previews: shown whatever their status
    images: dict[str, str] = field(default_factory=dict)  # id -> review image, repository@sha256:...
    drafts: bool = False  # show every draft (sciapps serve --drafts)
    # id -> the screenshots before the change, [(caption, picture bytes)], shown beside the new ones
    before: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)

    def before_media(self, datalab_id: str) -> list[dict]:
        """The pictures before the change: caption, file name under the page (`media/before-<hash>`)
        and bytes, for pictures that are what they claim (the store's own check)."""
        import hashlib

        from sciapps.catalog.rules.images import SUFFIXES, picture_format

        shown = []
        for caption, data in self.before.get(datalab_id, [])[:MAX_BEFORE]:
            kind = picture_format(data)
            if kind:
                name = f"media/before-{hashlib.sha256(data).hexdigest()[:20]}{SUFFIXES[kind][0]}"
                shown.append({"caption": caption, "file": name, "data": data})
        return shown

    def shows(self, meta: dict) -> bool:
        if meta.get("id") in self.datalabs:
            return True
        return self.drafts and meta.get("status", "draft") == "draft"

    def stamp(self, e: dict, config: Config) -> dict:
        """The entry as the preview shows it: marked unreviewed; a previewed datalab launches
        its review image, by digest, never a release."""
        previewed = e["id"] in self.datalabs or (self.drafts and e["status"] == "draft")
        image = self.images.get(e["id"], "")
        e["preview"] = {
            "unreviewed": True,
            "label": self.label,
            "merge_request": self.merge_request or None,
            "previewed": previewed,
            "image": image or None,
        }
        before = self.before_media(e["id"]) if previewed else []
        if before:
            e["preview"]["before"] = [{"caption": b["caption"], "url": f"{e['urls']['page']}{b['file']}"} for b in before]
        if previewed:
            digest = image.rpartition("@")[2] if "@sha256:" in image else ""
            e["urls"]["launch"] = (
                fill_template(config.launch_url, "launch_url", id=e["id"], version=e["version"], digest=digest, params="")
                if digest and e["status"] != "archived"
                else None
            )
            e["urls"]["launch_page"] = None  # a preview is never launched by a shared link
        return e


def sort_newest(entries: Iterable[dict]) -> list[dict]:
    return sorted(entries, key=lambda e: (e["updated"] or "", e["id"]), reverse=True)
