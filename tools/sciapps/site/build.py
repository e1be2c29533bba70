"""Building the store: collect the valid datalabs, make every page and file, hand the
pages to the rendering engine, and swap the new site in only when all went well.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from sciapps.catalog.loader import CATALOG_DIR
from sciapps.catalog.rules.base import ERROR
from sciapps.catalog.validate import check
from sciapps.config import Config
from sciapps.errors import SciAppsError
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


@dataclass
class BuildReport:
    out: Path
    datalabs: int
    skipped: list[tuple[Path, str]]
    problems: list[str]
    seconds: float
    search_bytes: int


MARKER = ".sciapps-store"  # in every store build: the only folders a build may replace


def check_replaceable(out: Path, sources: list[Path], catalogs: list[Path]) -> None:
    """Refuse an output folder that a store build must not delete: one holding `sources`
    (the repository, the site's sources) or a catalog, one inside a catalog, or anything
    that is not empty and not a previous store build."""
    for path in [*sources, *catalogs]:
        kept = Path(os.path.abspath(path))
        if out == kept or out in kept.parents:
            raise SciAppsError(f"{out} holds {kept}, which a store build must not replace",
                               "build into a folder of its own, such as public/ (the default)")
    for path in catalogs:
        kept = Path(os.path.abspath(path))
        if kept in out.parents:
            raise SciAppsError(f"{out} is inside the catalog {kept}: generated files never go there",
                               "build into a folder of its own, such as public/ (the default)")
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        raise SciAppsError(f"{out} is not a folder", "give a folder for the store, such as public/ (the default)")
    with os.scandir(out) as entries:
        if next(entries, None) is None:
            return
    if not (out / MARKER).is_file():
        raise SciAppsError(f"{out} holds files that are not a previous store build; nothing was deleted",
                           "give an empty folder, or one a store build wrote (public/, the default); if you are sure, delete it yourself")


def build_store(
    config: Config,
    catalog_paths: list[Path],
    out: Path,
    mkdocs_file: Path,
    jobs: int = 1,
) -> BuildReport:
    """Build into a sibling folder, then replace `out` with it: a failed build leaves the
    published site as it was."""
    from sciapps.site import engine_mkdocs

    if not mkdocs_file.is_file():
        raise SciAppsError(f"{mkdocs_file}: no such file", "run in the SciApps repository or pass --mkdocs-config")
    out = Path(os.path.abspath(out))
    check_replaceable(out, [config.root, mkdocs_file.parent], [config.root / CATALOG_DIR, *catalog_paths])
    start = time.perf_counter()
    catalog = collect(config, catalog_paths, jobs)
    staging = out.with_name(f".{out.name}.new")
    old = out.with_name(f".{out.name}.old")
    for leftover in (staging, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        search_bytes = engine_mkdocs.build(mkdocs_file, config, catalog, staging)
        (staging / MARKER).write_text("A SciApps store build: `sciapps site build` may replace this folder.\n", encoding="utf-8")
        if out.exists():
            os.rename(out, old)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not out.exists():
            os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return BuildReport(out, len(catalog.entries), catalog.skipped, catalog.problems, time.perf_counter() - start, search_bytes)
