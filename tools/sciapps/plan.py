"""`sciapps plan`: what a change affects, and why, as data and as a GitLab child pipeline.

A datalab is planned for a **build** (image, then scan, test, chart: the stages after
validation) when its own files changed, when an approved base it is built on changed (its
folder in `base-images/`, `base-images/common/`, the base it is built on, the Debian suite
the bases come from, or `approved_bases` in `sciapps.yaml`), when its current release was
built on an approved base image that has been rebuilt since (`--outdated`: the scheduled
refresh with Debian's security updates), or in a full run (`--all`).
It is planned for its **chart** only (rendered, linted and validated again, no image
rebuild) when the shared chart `charts/datalab/`, `sciapps.yaml` or the schemas changed.
Base and chart changes reach the published datalabs (status `published`): the ones a
store offers. An unchanged image is still never rebuilt: its tag is its content's hash.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sciapps.baselock import ORDER, PARENT
from sciapps.buildfiles import DOCKERFILE, MAX_DOCKERFILE_BYTES, from_lines, split_reference
from sciapps.catalog.loader import discover, metadata_of
from sciapps.config import CATALOG_DIR, Config, parse_config
from sciapps.datalab_types import TYPES
from sciapps.errors import SciAppsError
from sciapps.gitcmd import commit, git, paths, show
from sciapps.safefiles import UnsafeFile, read_inside
from sciapps.schema import is_datalab_id
from sciapps.trust import MAX_LISTED

BASES_DIR = "base-images"
BASE_RECIPE = "tools/sciapps/images/bases.py"  # the Debian suite and mirror every base starts from
CHART_INPUTS = ("charts/datalab/", "sciapps.yaml", "schemas/")


@dataclass(frozen=True)
class Planned:
    datalab: str
    work: str  # "build" (image, scan, test, chart) or "chart" (chart only)
    reasons: tuple[str, ...]


@dataclass
class Plan:
    base: str | None
    items: list[Planned] = field(default_factory=list)
    changed_bases: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # the bases schedule: every runner of the child applies Debian's updates to its bases too,
    # so each chain builds on the same refreshed bases as the plan compared with
    security_updates: bool = False
    # a merge request: its datalabs that wait for a moderator before they are built
    # (`trust.authorise`), and what it changes outside the datalabs (never run before the merge)
    held: list[Planned] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)
    # a merge request: the protected target branch's head, whose roles and settings judge it
    # (the merge base `base` only says what its commits changed)
    trusted: str | None = None

    def ids(self, work: str) -> list[str]:
        return [p.datalab for p in self.items if p.work == work]

    def lines(self) -> list[str]:
        """The plan as a person reads it, one line per fact (`sciapps plan`, `sciapps ci`)."""
        from sciapps.text import printable

        out = [*self.warnings, *(f"changed base: {base}" for base in self.changed_bases)]
        out += [f"{item.work:5}  {item.datalab}: {'; '.join(item.reasons)}" for item in self.items]
        out += [f"held   {item.datalab}: waits for a moderator: {item.reasons[-1]}" for item in self.held]
        out += [f"waits for a moderator ({flag}): {printable(path)}" for flag, path in self.waiting[:MAX_LISTED]]
        if len(self.waiting) > MAX_LISTED:
            out.append(f"waits for a moderator: {len(self.waiting) - MAX_LISTED} more paths")
        return out

    def as_json(self) -> str:
        return json.dumps(
            {
                "base": self.base,
                "trusted": self.trusted,
                "changed_bases": self.changed_bases,
                "build": self.ids("build"),
                "chart": self.ids("chart"),
                "datalabs": [{"id": p.datalab, "work": p.work, "reasons": list(p.reasons)} for p in self.items],
                "warnings": self.warnings,
                "held": [{"id": p.datalab, "reasons": list(p.reasons)} for p in self.held],
                "waiting": [{"status": flag, "path": path} for flag, path in self.waiting],
            },
            indent=2,
        )


def changed_paths(root: Path, base_rev: str) -> list[str]:
    """Every path that differs between `base_rev` and the working tree, untracked ones too."""
    base = _compared(root, base_rev)
    return sorted(
        set(
            paths(git(root, "diff", "--name-only", "-z", "--no-renames", base, "--"))
            + paths(git(root, "ls-files", "-z", "--others", "--exclude-standard"))
        )
    )


def _compared(root: Path, rev: str) -> str:
    try:
        return commit(root, rev)
    except SciAppsError as exc:
        if "not in a Git repository" in exc.message:
            raise SciAppsError(exc.message, "plan needs Git history; use --all for a full run") from None
        if "is not a revision" in exc.message:
            raise
        raise SciAppsError(
            f"git cannot compare with {rev!r}: {exc.message}", "pass an existing commit, e.g. --base origin/main"
        ) from None


def commit_of(root: Path, rev: str) -> str:
    """The commit `rev` names (the child pipeline pins it)."""
    return _compared(root, rev)


def bases_of(folder: Path, meta: dict, approved: tuple[str, ...], registry: str) -> set[str]:
    """The approved bases a datalab is built on, with the bases those are built on."""
    if meta.get("mode", "basic") == "advanced":
        try:
            text = read_inside(folder, DOCKERFILE, MAX_DOCKERFILE_BYTES).decode("utf-8", "replace")
        except UnsafeFile:
            return set()
        names = {
            name
            for _, image, _ in from_lines(text)
            for prefix, name in [split_reference(image)]
            if name in approved and prefix in ("", registry)
        }
    else:
        kind = TYPES.get(meta.get("type"))
        names = {kind.base} if kind else set()
    for name in list(names):
        while name in PARENT:
            name = PARENT[name]
            names.add(name)
    return names


def _previous_approved(config: Config, base_rev: str) -> tuple[str, ...] | None:
    """`approved_bases` of sciapps.yaml at `base_rev` (None when it cannot be read)."""
    try:
        text = show(config.root, base_rev, "sciapps.yaml")
        if text is None:
            return None
        return parse_config(text, config.root / "sciapps.yaml", f"sciapps.yaml at {base_rev}").approved_bases
    except SciAppsError:
        return None


def changed_bases(config: Config, paths: list[str], base_rev: str | None) -> tuple[list[str], list[str]]:
    """(changed approved bases, in build order; why each changed)."""
    reasons: dict[str, str] = {}
    for path in paths:
        parts = path.split("/")
        if parts[0] == BASES_DIR and len(parts) >= 3:
            if parts[1] == "common":
                reasons.update({b: f"{path} changed (every base has it)" for b in ORDER if b not in reasons})
            elif parts[1] in ORDER:
                reasons.setdefault(parts[1], f"{path} changed")
        elif path == BASE_RECIPE:
            reasons.update({b: f"{path} changed (the Debian suite and mirror of every base)" for b in ORDER if b not in reasons})
    if base_rev is not None and "sciapps.yaml" in paths:
        before = _previous_approved(config, base_rev)
        if before is not None:
            for name in sorted(set(before) ^ set(config.approved_bases)):
                reasons.setdefault(
                    name, f"approved_bases in sciapps.yaml {'gained' if name in config.approved_bases else 'lost'} it"
                )
    for name in ORDER:  # a base is built on its parent: a changed parent changes it too
        parent = PARENT.get(name)
        if parent in reasons and name not in reasons:
            reasons[name] = f"it is built on {parent}, which changed"
    ordered = [b for b in ORDER if b in reasons] + sorted(set(reasons) - set(ORDER))
    return ordered, [reasons[b] for b in ordered]


def outdated_releases(config: Config, ids: list[str]) -> tuple[dict[str, str], list[str]]:
    """({id: why} of the datalabs among `ids` whose current release, as the store's copy of
    the signed records says (`sciapps releases sync`), was built on an approved base image
    that is no longer the approved one, e.g. rebuilt with Debian's security updates;
    warnings). A published datalab with no verified release of its current version is
    planned too: a rebuild gives it one."""
    from sciapps.baselock import read_lock
    from sciapps.releases.judge import pick
    from sciapps.releases.mirror import Mirror
    from sciapps.releases.signing import public_key

    approved = {name: base.image_id for name, base in read_lock(config).items()}
    if not approved:
        raise SciAppsError(
            "no approved base images are recorded in build/base-images.json",
            "run `sciapps base-images build` first: --outdated compares the releases with them",
        )
    mirror = Mirror(config.path_of(config.releases_dir), public_key(config.path_of(config.release_key)))
    out: dict[str, str] = {}
    for datalab_id in ids:
        meta = metadata_of(config.catalog / datalab_id, config.limits) or {}
        version = str(meta.get("version"))
        current = pick([j for j in mirror.releases(datalab_id) if j.verified], version)
        if current is None:
            out[datalab_id] = f"it has no verified release of its current version {version} yet"
            continue
        r = current.release
        for name, image_id in r.bases:
            if name in approved and approved[name] != image_id:
                out[datalab_id] = (
                    f"its release {r.version} build {r.build} was built on {name} {image_id[:19]}, "
                    f"the approved {name} is now {approved[name][:19]}"
                )
                break
    return out, list(mirror.problems)


def plan(
    config: Config,
    base_rev: str | None,
    everything: bool = False,
    outdated: bool = False,
    author: Callable[[], str | None] | None = None,
    trusted: str | None = None,
) -> Plan:
    """What the change since `base_rev` (or, with `everything`, a full run; with
    `outdated`, the published datalabs whose release predates an approved base) affects.

    With `author` (a merge request: who opened it, asked only when it matters), the plan
    authorises before anything runs: a datalab its author may not have built is held for a
    moderator, by the roles of `trusted` (the protected target branch's head, never the
    merge base), and every path the merge request changes outside the datalabs is listed
    as waiting. With `trusted`, only the datalabs are compared with the merge base
    `base_rev`; everything else is compared with `trusted` (in an admitted checkout it is
    `trusted` itself: nothing of it changed)."""
    if author is not None and trusted is None:
        raise SciAppsError(
            "a merge request's plan needs the protected target branch's head",
            "pass --trusted with the target branch's head (never the merge base)",
        )
    result = Plan(base=base_rev, trusted=trusted, security_updates=outdated)
    paths = [] if everything or base_rev is None else changed_paths(config.root, base_rev)
    if trusted is not None and paths:
        paths = sorted(
            {p for p in paths if p.startswith(f"{CATALOG_DIR}/")}
            | {p for p in changed_paths(config.root, trusted) if not p.startswith(f"{CATALOG_DIR}/")}
        )
    bases, base_reasons = changed_bases(config, paths, base_rev) if paths else ([], [])
    result.changed_bases = bases
    why_base = dict(zip(bases, base_reasons))
    charts_changed = sorted({p for p in paths if any(p == i or p.startswith(i) for i in CHART_INPUTS)})
    own = {p.split("/")[1] for p in paths if p.startswith(f"{CATALOG_DIR}/") and p.count("/") >= 2}
    folders = [
        f for f in (discover([config.catalog]) if config.catalog.is_dir() else []) if is_datalab_id(f.name) or f.name in own
    ]
    result.warnings += [
        f"left out: the folder {f.name!r} is not a datalab id (`sciapps validate` reports it)"
        for f in folders
        if not is_datalab_id(f.name)
    ]
    folders = [f for f in folders if is_datalab_id(f.name)]
    facts = _facts_of(config, folders) if bases or charts_changed or outdated else {}
    stale: dict[str, str] = {}
    if outdated:
        stale, problems = outdated_releases(config, [f.name for f in folders if facts[f.name][0]])
        result.warnings += problems
    for folder in folders:
        name = folder.name
        reasons: list[str] = []
        if everything:
            reasons.append("a full run (--all)")
        if name in own:
            reasons.append("its files changed")
        if name in stale:
            reasons.append(stale[name])
        published, built_on = facts.get(name, (False, set()))
        if bases and published:
            for base in sorted(built_on & set(bases), key=bases.index):
                reasons.append(f"it is built on {base}: {why_base[base]}")
        if reasons:
            result.items.append(Planned(name, "build", tuple(reasons)))
        elif charts_changed and published:
            result.items.append(
                Planned(name, "chart", tuple(f"{p} changed (every chart is rendered from it)" for p in charts_changed[:3]))
            )
    if author is not None:
        _authorise(config, result, author)
    return result


def _authorise(config: Config, result: Plan, author: Callable[[], str | None]) -> None:
    """Hold the planned builds the merge request's author may not have run (by the roles of
    the protected target branch's head, never the merge base's), and list what its commits
    change outside the datalabs."""
    from sciapps.catalog.loader import resolve
    from sciapps.roles import ROLES_FILE, parse_roles
    from sciapps.trust import authorise, waiting

    trusted = result.trusted
    assert trusted is not None  # plan() refuses a merge request's plan without it
    text = show(config.root, trusted, ROLES_FILE)
    if text is None:
        raise SciAppsError(
            f"the target branch's head {trusted} has no readable {ROLES_FILE}",
            "the target branch must hold roles.yaml: a merge request's plan authorises by it",
        )
    roles = parse_roles(text, f"{trusted}:{ROLES_FILE}")
    held = authorise(config, roles, author, resolve(config, result.ids("build")))
    result.held = [Planned(p.datalab, "held", (*p.reasons, held[p.datalab])) for p in result.items if p.datalab in held]
    result.items = [p for p in result.items if p.datalab not in held]
    result.waiting = waiting(config.root, result.base or trusted)


def _facts(folder: Path, config: Config) -> tuple[bool, set[str]]:
    """(published?, the approved bases it is built on) of one datalab folder."""
    meta = metadata_of(folder, config.limits) or {}
    return meta.get("status") == "published", bases_of(folder, meta, config.approved_bases, config.registry)


def _facts_of(config: Config, folders: list[Path]) -> dict[str, tuple[bool, set[str]]]:
    """`_facts` of every folder; a large catalog is read in one process per CPU."""
    if len(folders) < 500:
        return {f.name: _facts(f, config) for f in folders}
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    with ProcessPoolExecutor(min(os.cpu_count() or 1, 8)) as pool:
        return dict(zip((f.name for f in folders), pool.map(partial(_facts, config=config), folders, chunksize=256)))
