"""The store's copy of the release records, as the pages job refreshes it.

After a publication only what can have changed since the last sync is synced: the
datalabs the plan from the last sync's commit to this one names (their folders changed,
or an approved base or the chart they are built with did), and every datalab this
pipeline's own plan published (`also`: a slower pipeline's pages job may run after a
later one's). Every other datalab's records and tag checks are the last sync's. A full
sync (every tag of every datalab checked again) runs on schedules, when there is no last
sync, when it was against another registry, or when its commit is not in this checkout's
history (a later pipeline synced first: what changed between is unknown).
"""

from __future__ import annotations

from typing import Callable

from pathlib import Path

from sciapps.catalog.changes import changed_ids
from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.gitcmd import is_ancestor
from sciapps.plan import commit_of, plan
from sciapps.releases.commands import catalog_ids, sync_releases
from sciapps.releases.mirror import read_check

Log = Callable[[str], None]
JOBS = 8  # datalabs synced at once: the registry's latency, not this machine, is the cost


def since_last_sync(config: Config, previous: dict, log: Log) -> tuple[list[str], str] | None:
    """(the datalabs to sync, this commit), or None when only a full sync will do."""
    if not previous:
        log("a full sync: there is no earlier sync here")
        return None
    if previous.get("registry") != config.registry.rstrip("/"):
        log(f"a full sync: the last sync was against {previous.get('registry') or 'another registry'}")
        return None
    if not previous.get("commit"):
        log("a full sync: the last sync did not say at which commit it was made")
        return None
    try:
        head = commit_of(config.root, "HEAD")
        if not is_ancestor(config.root, str(previous["commit"]), head):
            log(f"a full sync: the last sync's commit {str(previous['commit'])[:12]} is not in this checkout's history")
            return None
        planned = plan(config, previous["commit"])
    except SciAppsError as exc:
        log(f"a full sync: the last sync's commit {str(previous['commit'])[:12]} cannot be compared with ({exc.message})")
        return None
    changed = set(planned.ids("build")) | set(planned.ids("chart"))
    return [i for i in catalog_ids(config) if i in changed], head


def published_by(plan_file: Path | None) -> list[str]:
    """The datalabs a pipeline's own plan (`build/plan.json`) built or charted, which its
    publication may have published; an absent or unreadable plan names none."""
    import json

    from sciapps.safefiles import UnsafeFile, read_inside
    from sciapps.schema import is_datalab_id

    if plan_file is None:
        return []
    try:
        data = json.loads(read_inside(plan_file.parent, plan_file.name, 16 * 2**20))
    except (UnsafeFile, OSError, ValueError, RecursionError):
        return []
    found = [data.get(work) for work in ("build", "chart")] if isinstance(data, dict) else []
    return [i for ids in found if isinstance(ids, list) for i in ids if isinstance(i, str) and is_datalab_id(i)]


def sync_store(config: Config, log: Log, full: bool = False, jobs: int = JOBS, also: list[str] | None = None) -> int:
    """`sciapps releases sync [--full] [--plan build/plan.json]`; `also`: datalabs synced in
    any case (what this pipeline's own plan published)."""
    previous = read_check(config.path_of(config.releases_dir))
    chosen = None if full else since_last_sync(config, previous, log)
    if chosen is not None:
        ids, head = chosen
        known = set(catalog_ids(config))
        ids = list(dict.fromkeys([*ids, *(i for i in also or [] if i in known)]))
        return sync_releases(config, log, ids, previous=previous, commit=head, jobs=jobs)
    try:
        head = commit_of(config.root, "HEAD")
    except SciAppsError:
        head = None  # not a Git checkout: the next sync is a full one too
    return sync_releases(config, log, commit=head, jobs=jobs)


LOCAL_PREVIEW_URL = "http://localhost:8000"


def build_preview(
    config: Config, base: str, out: Path, mkdocs_file: Path, merge_request: str = "", jobs: int = 1, log: Log = print
):
    """`sciapps preview`: the store with what changed since `base` as it will look once
    published (drafts too), and the rest of the catalog as it is, marked on every page and
    API entry as an unreviewed preview. A datalab with a review image from this pipeline
    (`sciapps push --review`) launches it, by digest; it is never a release."""
    import re

    from sciapps.config import review_repository
    from sciapps import ledger
    from sciapps.site.build import build_store
    from sciapps.site.model import Preview

    if merge_request and not re.fullmatch(r"[0-9]{1,12}", merge_request):
        raise SciAppsError(f"--merge-request {merge_request[:20]!r} is not a merge request's number", "give its IID, e.g. 12")
    ids, warnings = changed_ids(config, base)
    for warning in warnings:
        log(warning)
    images = {}
    for datalab_id in ids:
        image = str(ledger.read(config.path_of(config.results_dir), datalab_id).review_image.get("image", ""))
        if re.fullmatch(re.escape(review_repository(config, datalab_id)) + r"@sha256:[0-9a-f]{64}", image):
            images[datalab_id] = image
    base_url = config.preview_url or LOCAL_PREVIEW_URL
    url = f"{base_url}/mr-{merge_request}/" if merge_request else f"{base_url}/"
    label = f"merge request !{merge_request}" if merge_request else "local changes"
    preview = Preview(label, url, merge_request, frozenset(ids), images, before=_screenshots_before(config, base, ids))
    log(f"previewing {len(ids)} changed datalab(s) since {base}: {', '.join(ids) or 'none'}")
    return build_store(config, [config.catalog], out, mkdocs_file, jobs, preview)


def _screenshots_before(config: Config, base: str, ids: list[str]) -> dict[str, list[tuple[str, bytes]]]:
    """{id: [(caption, bytes)]} of each changed datalab's screenshots at `base`, read from
    Git, each within the catalog's image limit (the store checks what they are)."""
    from sciapps import yamlio
    from sciapps.config import CATALOG_DIR
    from sciapps.gitcmd import show, show_bytes, top
    from sciapps.site.model import MAX_BEFORE

    root = top(config.root)
    catalog = (config.root / CATALOG_DIR).absolute().relative_to(root.absolute()).as_posix()
    limit = config.limits.bytes("image_mb")
    found: dict[str, list[tuple[str, bytes]]] = {}
    for datalab_id in ids:
        text = show(root, base, f"{catalog}/{datalab_id}/datalab.yaml")
        try:
            meta = yamlio.load(text) if text and len(text) <= config.limits.metadata_bytes else None
        except yamlio.YamlProblem:
            meta = None
        shots = meta.get("screenshots") if isinstance(meta, dict) else None
        for shot in shots[:MAX_BEFORE] if isinstance(shots, list) else []:  # only what the page shows is read
            if not isinstance(shot, dict) or not isinstance(shot.get("file"), str) or ".." in shot["file"].split("/"):
                continue
            data = show_bytes(root, base, f"{catalog}/{datalab_id}/{shot['file'].lstrip('/')}", limit)
            if data:
                found.setdefault(datalab_id, []).append((str(shot.get("caption", ""))[:200], data))
    return found
