"""The store's copy of every release record: `<releases_dir>/<id>/<image digest>.dsse.json`,
plus `registry-check.json`, what the registry served under each record's tag at the last sync.

`sciapps releases sync` rebuilds it from the registry alone: a new runner with no cache and
no artifacts gets the same records, so the same store. After a publication it syncs only
the datalabs that can have changed since the last sync (`previous`); a full check of every
tag runs on a schedule. Records are immutable and named by
the digest they are attached to, so a sync fetches only the new ones and two syncs never
conflict. Every file is written whole (a temporary file, then a rename).
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from sciapps.releases.judge import UNCHECKED, Judged, judge, newest_first
from sciapps.releases.registry import ATTACHMENT, HEX, MAX_SBOM_BYTES, RecordUnreadable, Registry
from sciapps.releases.signing import MAX_ENVELOPE_BYTES, unverified_statement
from sciapps.schema import is_datalab_id

CHECK_FILE = "registry-check.json"
MAX_RECORDS = 1000  # per datalab
MAX_SYNC_JOBS = 32  # datalabs synced at once
MAX_CHECK_BYTES = 256 * 1024 * 1024
RECORD = re.compile(f"^({HEX})\\.dsse\\.json$")


@dataclass
class SyncReport:
    fetched: int = 0
    kept: int = 0
    checked: int = 0
    problems: list[str] = field(default_factory=list)


def store_record(out: Path, datalab_id: str, digest: str, envelope: bytes) -> None:
    """Keep one record, named by the image digest it is attached to."""
    _write_whole(out / datalab_id / f"{digest.removeprefix('sha256:')}.dsse.json", envelope)


def write_check(
    out: Path, registry: str, tags: dict[str, str | None], commit: str | None = None, full_check: str | None = None
) -> None:
    """What the registry served under each record's tag (`<id>/<digest hex>`: digest or None),
    the catalog commit this sync was made at, and when every tag was last checked at once."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write_whole(
        out / CHECK_FILE,
        json.dumps(
            {
                "checked": now,
                "registry": registry,
                "tags": tags,
                "commit": commit,
                "full_check": full_check or now,
            },
            sort_keys=True,
        ).encode(),
    )


def read_check(out: Path) -> dict:
    """The last sync's check ({} when there is none, or none readable): `tags`, `registry`,
    `commit`, `checked`, `full_check`."""
    path = out / CHECK_FILE
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_CHECK_BYTES:
            return {}
        data = json.loads(path.read_bytes())
        tags = {k: v for k, v in data["tags"].items() if isinstance(k, str) and (v is None or isinstance(v, str))}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    commit = data.get("commit")
    return {
        "tags": tags,
        "registry": str(data.get("registry", "")),
        "checked": str(data.get("checked", ""))[:40],
        "commit": commit if isinstance(commit, str) and re.fullmatch(r"[0-9a-f]{40}", commit) else None,
        "full_check": str(data.get("full_check") or data.get("checked", ""))[:40],
    }


def _write_whole(path: Path, data: bytes) -> None:
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def tag_of(data: bytes) -> str | None:
    statement = unverified_statement(data) or {}
    try:
        tag = statement["subject"][0]["annotations"]["tag"]
    except (KeyError, IndexError, TypeError):
        return None
    return tag if isinstance(tag, str) and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag) else None


def _sync_one(registry: Registry, datalab_id: str, out: Path) -> tuple[SyncReport, dict[str, str | None]]:
    """Fetch the records of one datalab that are not here yet, and check each record's tag."""
    report = SyncReport()
    tags: dict[str, str | None] = {}
    repository = registry.repository(datalab_id)
    folder = out / datalab_id
    for tag in registry.tags(repository)[: MAX_RECORDS * 4]:
        match = ATTACHMENT.match(tag)
        if not match:
            continue
        path = folder / f"{match[1]}.dsse.json"
        if path.is_file():
            report.kept += 1
            continue
        try:
            data = registry.fetch_record(repository, tag)
        except RecordUnreadable as exc:
            report.problems.append(f"{datalab_id}: {exc}")
            continue
        if data is not None:
            store_record(out, datalab_id, match[1], data)
            report.fetched += 1
    for name, data in _records(folder):
        sbom = folder / f"{name}.sbom.json"
        if not sbom.is_file():  # for `sciapps audit`, which checks it against the verified record
            try:
                found = registry.fetch_sbom(repository, f"sha256:{name}")
            except RecordUnreadable as exc:
                report.problems.append(f"{datalab_id}: {exc}")
                found = None
            if found is not None:
                _write_whole(sbom, found)
        tag = tag_of(data)
        tags[f"{datalab_id}/{name}"] = registry.digest(f"{repository}:{tag}") if tag else None
        report.checked += 1
    return report, tags


def sync(
    registry: Registry,
    ids: Iterable[str],
    out: Path,
    log: Callable[[str], None],
    *,
    previous: dict | None = None,
    commit: str | None = None,
    jobs: int = 1,
) -> SyncReport:
    """Fetch the records of `ids` that are not here yet, and check each record's tag in the
    registry, `jobs` datalabs at a time (each with a registry client of its own). A registry
    that does not answer ends the sync with nothing written: the last copy stays. With
    `previous` (the last sync's check, `read_check`), only `ids` are synced: every other
    datalab's tags keep their last check, and the last full check's time stays."""
    from concurrent.futures import ThreadPoolExecutor

    ids = [i for i in dict.fromkeys(ids) if is_datalab_id(i)]
    report = SyncReport()
    tags: dict[str, str | None] = {}
    if previous:
        chosen = set(ids)
        tags = {k: v for k, v in previous.get("tags", {}).items() if k.split("/", 1)[0] not in chosen}
    local = threading.local()

    def one(datalab_id: str):
        if jobs <= 1:
            return _sync_one(registry, datalab_id, out)
        if not hasattr(local, "registry"):
            local.registry = registry.copy()
        return _sync_one(local.registry, datalab_id, out)

    with ThreadPoolExecutor(max(1, min(jobs, MAX_SYNC_JOBS))) as pool:
        for part, found in pool.map(one, ids):
            report.fetched += part.fetched
            report.kept += part.kept
            report.checked += part.checked
            report.problems += part.problems
            tags.update(found)
    write_check(out, registry.registry, tags, commit, previous.get("full_check") if previous else None)
    what = f"{len(ids)} datalab(s) since the last sync" if previous else f"all {len(ids)} datalabs"
    log(
        f"release records ({what}): {report.fetched} fetched, {report.kept} already here, "
        f"{report.checked} tags checked in {registry.registry}"
    )
    return report


def _records(folder: Path) -> list[tuple[str, bytes]]:
    """(digest hex, envelope bytes) of the records in one datalab's folder, bounded."""
    if not folder.is_dir() or folder.is_symlink():
        return []
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            match = RECORD.match(entry.name)
            if (
                not match
                or not entry.is_file(follow_symlinks=False)
                or entry.stat(follow_symlinks=False).st_size > MAX_ENVELOPE_BYTES
            ):
                continue
            with open(entry.path, "rb") as fh:
                found.append((match[1], fh.read(MAX_ENVELOPE_BYTES + 1)))
            if len(found) >= MAX_RECORDS:
                break
    return sorted(found)


def read_sbom(out: Path, release) -> bytes | None:
    """The SBOM kept beside a release's record, when it is the one the record names."""
    import hashlib

    path = out / release.datalab / f"{release.key}.sbom.json"
    if release.sbom is None or not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_SBOM_BYTES:
        return None
    data = path.read_bytes()
    return data if "sha256:" + hashlib.sha256(data).hexdigest() == release.sbom else None


class Mirror:
    """The local records and the last registry check, read once for a store build."""

    def __init__(self, out: Path, key):
        self.out = out
        self.key = key
        check = read_check(out)
        self.checked, self.tags, self.problems = check.get("checked", ""), check.get("tags", {}), []
        if not check and (out / CHECK_FILE).exists():
            self.problems.append(f"{out / CHECK_FILE}: not readable; no record counts as checked against the registry")

    def releases(self, datalab_id: str) -> list[Judged]:
        """Every record of one datalab, judged, newest first."""
        if not is_datalab_id(datalab_id):
            return []
        judged = []
        for name, data in _records(self.out / datalab_id):
            registry_digest = self.tags.get(f"{datalab_id}/{name}", UNCHECKED)
            judged.append(judge(data, self.key, name, registry_digest, datalab_id))
        return newest_first(judged)

    def all_releases(self, ids: list[str], jobs: int = 1) -> dict[str, list[Judged]]:
        """`releases` of many datalabs; with jobs > 1, judged in that many processes (each
        record's signature check is the store build's largest cost per record)."""
        if jobs <= 1 or len(ids) < 200:
            return {i: self.releases(i) for i in ids}
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, initializer=_adopt, initargs=(self,)) as pool:  # the mirror is sent once per worker
            return dict(zip(ids, pool.map(_releases_of, ids, chunksize=max(1, len(ids) // (jobs * 8)))))


_worker_mirror: Mirror | None = None


def _adopt(mirror: Mirror) -> None:
    global _worker_mirror
    _worker_mirror = mirror


def _releases_of(datalab_id: str) -> list[Judged]:
    return _worker_mirror.releases(datalab_id)
