"""What the store shows: the valid, published or archived, public datalabs as entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sciapps.catalog.rules.base import ERROR
from sciapps.catalog.validate import check
from sciapps.config import Config
from sciapps.site.data import picture_names
from sciapps.site.model import Feedback, entry, shown


@dataclass
class Catalog:
    """What the store shows: entries in catalog order, the folder of each, and what was left out."""

    entries: list[dict] = field(default_factory=list)
    folders: dict[str, Path] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (folder, first error)
    problems: list[str] = field(default_factory=list)


def collect(config: Config, paths: list[Path], jobs: int = 1) -> Catalog:
    """Validate every datalab; the valid, published or archived, public ones become entries."""
    feedback = Feedback.load(config.path_of(config.feedback_export))
    results_dir = config.path_of(config.results_dir)
    catalog = Catalog(problems=list(feedback.problems))
    for checked in check(paths, config, jobs=jobs):
        if not checked.ok:
            first = next(f for f in checked.findings if f.severity == ERROR) if checked.findings else None
            catalog.skipped.append((checked.folder, first.format() if first else "not readable"))
            continue
        if shown(checked.metadata):
            media = picture_names(checked.folder, checked.metadata, config.limits.bytes("image_mb"))
            e = entry(checked.metadata, config, results_dir, feedback, media)
            package = config.root / "build" / "charts" / f"{e['id']}-{e['version']}.tgz"
            e["urls"]["chart"] = f"charts/{package.name}" if package.is_file() else None
            catalog.entries.append(e)
            catalog.folders[e["id"]] = checked.folder
    return catalog
