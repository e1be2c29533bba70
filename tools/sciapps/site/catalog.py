"""What the store shows: the valid, published or archived, public datalabs as entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sciapps.catalog.rules.base import ERROR
from sciapps.catalog.validate import check
from sciapps.revisits.exports import AUDIT_FILE, HEALTH_FILE, read_audit, read_health
from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.releases.mirror import Mirror
from sciapps.releases.signing import public_key
from sciapps.site.data import picture_names
from sciapps.site.model import Feedback, Preview, entry, shown


@dataclass
class Catalog:
    """What the store shows: entries in catalog order, the folder of each, and what was left out."""

    entries: list[dict] = field(default_factory=list)
    folders: dict[str, Path] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (folder, first error)
    problems: list[str] = field(default_factory=list)
    preview: Preview | None = None  # a preview store: marked everywhere, on an origin of its own
    thumbnails: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (made file, its name under the page)


def collect(config: Config, paths: list[Path], jobs: int = 1, preview: Preview | None = None) -> Catalog:
    """Validate every datalab; the valid, published or archived, public ones become entries
    (and, in a `preview`, what it previews, drafts included)."""
    feedback = Feedback.load(config.path_of(config.feedback_export))
    catalog = Catalog(problems=list(feedback.problems), preview=preview)
    try:
        key = public_key(config.path_of(config.release_key))
    except SciAppsError as exc:
        key = None
        if config.path_of(config.releases_dir).is_dir():  # records to show, and nothing to check them with
            catalog.problems.append(f"{exc.message}: no release is shown as verified")
    mirror = Mirror(config.path_of(config.releases_dir), key)
    catalog.problems += mirror.problems
    audited, checked_on, problems = read_audit(config.path_of(AUDIT_FILE))
    tested, tested_on, more = read_health(config.path_of(HEALTH_FILE))
    catalog.problems += problems + more
    valid = []
    for checked in check(paths, config, jobs=jobs):
        if not checked.ok:
            first = next(f for f in checked.findings if f.severity == ERROR) if checked.findings else None
            catalog.skipped.append((checked.folder, first.format() if first else "not readable"))
        elif shown(checked.metadata) or (preview is not None and preview.shows(checked.metadata)):
            valid.append(checked)
    releases = mirror.all_releases([c.metadata["id"] for c in valid], jobs)
    for checked in valid:
        media = picture_names(checked.folder, checked.metadata, config.limits.bytes("image_mb"))
        e = entry(
            checked.metadata,
            config,
            releases[checked.metadata["id"]],
            feedback,
            media,
            (audited, checked_on),
            (tested, tested_on),
        )
        catalog.entries.append(preview.stamp(e, config) if preview is not None else e)
        catalog.folders[e["id"]] = checked.folder
    _faces(config, catalog, jobs)
    return catalog


def _faces(config: Config, catalog: Catalog, jobs: int) -> None:
    """Each entry's `face`: its icon, else a thumbnail of its first screenshot (made here,
    re-encoded; found again by the screenshot's content hash, which names it in `media`),
    else its mission's mark."""
    from sciapps.safefiles import UnsafeFile, read_inside
    from sciapps.site.faces import mark_url, thumbnails

    cache = config.path_of("build/thumbnails")
    limit = config.limits.bytes("image_mb")

    def reader(folder: Path, rel: str):
        def read() -> bytes | None:
            try:
                return read_inside(folder, rel, limit)
            except UnsafeFile:
                return None

        return read

    wanted: dict[str, str] = {}  # id -> content hash of its first screenshot
    sources = {}  # content hash -> how to read the picture, when its thumbnail is to be made
    for e in catalog.entries:
        if e["icon"] or not e["screenshots"]:
            continue
        rel = e["screenshots"][0]["file"]
        digest = Path(e["media"][rel]).stem  # media/<sha256[:20]>.<suffix>: `data.picture_names`
        wanted[e["id"]] = digest
        if not (cache / f"{digest}.webp").is_file():
            sources[digest] = reader(catalog.folders[e["id"]], rel)
    thumbnails(sources, cache, max(1, min(jobs, 8)))
    for e in catalog.entries:
        digest = wanted.get(e["id"])
        if e["icon"]:
            e["face"] = {"url": e["icon"], "kind": "icon"}
        elif digest and (cache / f"{digest}.webp").is_file():
            name = f"media/thumb-{digest}.webp"
            catalog.thumbnails[e["id"]] = (str(cache / f"{digest}.webp"), name)
            e["face"] = {"url": f"{e['urls']['page']}{name}", "kind": "screenshot"}
        else:
            e["face"] = {"url": mark_url(e["missions"]), "kind": "mission"}
