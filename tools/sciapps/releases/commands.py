"""What `sciapps publish`, `sciapps releases sync`, `sciapps verify` and `sciapps keys
generate` do, each one function (the CLI only parses)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Mapping

from sciapps.config import Config, registry_login
from sciapps.errors import SciAppsError
from sciapps.releases import signing
from sciapps.releases.judge import Judged, judge, pick
from sciapps.releases.mirror import tag_of, sync
from sciapps.releases.registry import DIGEST, Registry
from sciapps.schema import is_datalab_id

Log = Callable[[str], None]
SPEC = re.compile(rf"^([a-z][a-z0-9-]{{0,62}})(?:@({DIGEST.pattern}|[0-9A-Za-z.+-]{{1,64}}))?$")


def registry_of(config: Config, environ: Mapping[str, str] = os.environ) -> Registry:
    return Registry(config.registry, registry_login(config, environ))


def parse_spec(spec: str) -> tuple[str, str | None]:
    """`ID[@VERSION]` or `ID@sha256:<image digest>` (one build exactly, as a paper cites it)
    -> (id, version or digest or None)."""
    match = SPEC.match(spec)
    if not match or not is_datalab_id(match[1]):
        raise SciAppsError(f"{spec!r} is not a datalab id, or ID@VERSION", "for example gaia-dr3-hrd or gaia-dr3-hrd@1.2.0")
    return match[1], match[2]


def catalog_ids(config: Config) -> list[str]:
    return (
        sorted(p.name for p in config.catalog.iterdir() if p.is_dir() and is_datalab_id(p.name))
        if config.catalog.is_dir()
        else []
    )


def sync_releases(
    config: Config, log: Log, ids: list[str] | None = None, previous: dict | None = None, commit: str | None = None, jobs: int = 1
) -> int:
    """Refresh the store's copy of the records of `ids` (default: every datalab in the
    catalog; with `previous`, the others keep the last sync's check)."""
    report = sync(
        registry_of(config),
        catalog_ids(config) if ids is None else ids,
        config.path_of(config.releases_dir),
        log,
        previous=previous,
        commit=commit,
        jobs=jobs,
    )
    for problem in report.problems:
        log(f"warning: {problem}")
    return 0


MAX_REVIEW_TAGS = 200


def review_tag(config: Config, registry, datalab_id: str, digest: str) -> str | None:
    """The tag under `<registry>/review/<id>` whose image is `digest`, if one is (the newest
    MAX_REVIEW_TAGS tags are looked at): a merge request's review image, never a release."""
    from sciapps.config import review_repository

    repository = review_repository(config, datalab_id)
    for tag in registry.tags(repository)[-MAX_REVIEW_TAGS:]:
        if registry.digest(f"{repository}:{tag}") == digest:
            return tag
    return None


def judge_in_registry(config: Config, spec: str) -> Judged:
    """The record `ID[@VERSION]` names, judged against the registry as it is now."""
    datalab_id, version = parse_spec(spec)
    key = signing.public_key(config.path_of(config.release_key))
    registry = registry_of(config)
    repository = registry.repository(datalab_id)
    judged = []
    for digest_hex, data in registry.records(repository):
        if isinstance(data, Exception):  # unreadable: that record does not verify, the others are judged
            judged.append(
                Judged(None, False, f"the record attached to sha256:{digest_hex[:12]}… cannot be read: {data}", digest_hex)
            )
            continue
        image_tag = tag_of(data)
        judged.append(
            judge(data, key, digest_hex, registry.digest(f"{repository}:{image_tag}") if image_tag else None, datalab_id)
        )
    chosen = pick(judged, version)
    if chosen is not None:
        return chosen
    wanted = f"{datalab_id}@{version}" if version else datalab_id
    tag = review_tag(config, registry, datalab_id, version) if version and version.startswith("sha256:") else None
    if tag is not None:
        return Judged(
            None,
            False,
            f"{version[:19]}… is the review image {tag} of {datalab_id}, a merge request's preview: unreviewed, and never "
            "signed as a release",
            "",
        )
    unreadable = [j for j in judged if j.release is None]
    why = (
        f"no release record of {wanted} verifies: {unreadable[0].why}"
        if unreadable
        else f"{wanted} has no release record in {config.registry}"
    )
    return Judged(None, False, why, "")


def verify(config: Config, spec: str, log: Log) -> int:
    j = judge_in_registry(config, spec)
    if j.verified:
        r = j.release
        log(
            f"verified: {r.datalab} {r.version} build {r.build} is {r.image}, signed by the catalog's key, "
            f"published {r.published[:10]}; scan passed."
        )
        return 0
    log(f"not verified: {j.why}.")
    return 1


def generate_keys(out: Path, log: Log) -> int:
    private, public = out / "release.key", out / "release.pub"
    signing.generate(private, public)
    log(
        f"wrote {public} (commit it; release_key in sciapps.yaml names it) and {private} (mode 600).\n"
        f"Put {private.name}'s content in the protected, masked CI variable SCIAPPS_SIGNING_KEY, then delete it here."
    )
    return 0
