"""Building the store: collect the valid datalabs, make every page and file, hand the
pages to the rendering engine, and swap the new site in only when all went well.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sciapps.config import Config
from sciapps.text import shown_path
from sciapps.errors import SciAppsError
from sciapps.site import engine_mkdocs
from sciapps.site.catalog import collect
from sciapps.site.model import Preview


@dataclass
class BuildReport:
    out: Path
    datalabs: int
    skipped: list[tuple[Path, str]]
    problems: list[str]
    seconds: float
    search_bytes: int

    def messages(self) -> tuple[list[str], str]:
        """(warnings for standard error, the closing line)."""
        warnings = [f"left out of the store: {problem}" for _, problem in self.skipped]
        warnings += [f"warning: {problem}" for problem in self.problems]
        n = self.datalabs
        line = (
            f"Built the store with {n} datalab{'s' if n != 1 else ''} in {self.seconds:.1f} s "
            f"into {shown_path(self.out)}/ (search index {self.search_bytes / 1024:.0f} KiB)"
            + (f"; {len(self.skipped)} left out for validation errors (run `sciapps validate`)" if self.skipped else "")
        )
        return warnings, line


MARKER = ".sciapps-store"  # in every store build: the only folders a build may replace


def check_replaceable(out: Path, sources: list[Path], catalogs: list[Path]) -> None:
    """Refuse an output folder that a store build must not delete: one holding `sources`
    (the repository, the site's sources) or a catalog, one inside a catalog, or anything
    that is not empty and not a previous store build."""
    for path in [*sources, *catalogs]:
        kept = Path(os.path.abspath(path))
        if out == kept or out in kept.parents:
            raise SciAppsError(
                f"{out} holds {kept}, which a store build must not replace",
                "build into a folder of its own, such as public/ (the default)",
            )
    for path in catalogs:
        kept = Path(os.path.abspath(path))
        if kept in out.parents:
            raise SciAppsError(
                f"{out} is inside the catalog {kept}: generated files never go there",
                "build into a folder of its own, such as public/ (the default)",
            )
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        raise SciAppsError(f"{out} is not a folder", "give a folder for the store, such as public/ (the default)")
    with os.scandir(out) as entries:
        if next(entries, None) is None:
            return
    if not (out / MARKER).is_file():
        raise SciAppsError(
            f"{out} holds files that are not a previous store build; nothing was deleted",
            "give an empty folder, or one a store build wrote (public/, the default); if you are sure, delete it yourself",
        )


def build_store(
    config: Config,
    catalog_paths: list[Path],
    out: Path,
    mkdocs_file: Path,
    jobs: int = 1,
    preview: Preview | None = None,
) -> BuildReport:
    """Build into a sibling folder, then replace `out` with it: a failed build leaves the
    published site as it was. With `preview`, a preview store (`site.model.Preview`)."""
    if not mkdocs_file.is_file():
        raise SciAppsError(f"{mkdocs_file}: no such file", "run in the SciApps repository or pass --mkdocs-config")
    out = Path(os.path.abspath(out))
    check_replaceable(out, [config.root, mkdocs_file.parent], [config.catalog, *catalog_paths])
    start = time.perf_counter()
    catalog = collect(config, catalog_paths, jobs, preview)
    staging = out.with_name(f".{out.name}.new")
    old = out.with_name(f".{out.name}.old")
    for leftover in (staging, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        search_bytes = engine_mkdocs.build(mkdocs_file, config, catalog, staging, jobs)
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
