"""`sciapps publish`: after the default branch's pipeline pushed a datalab's image and chart,
write its release record, sign it with the catalog's key and attach it to the image digest.

A record is written only for what this pipeline checked: a passed result of every stage
the caller requires (`sciapps.stages.checks()`) for the datalab's current version, the
image and chart the push step pushed of them (`ledger.read`), an image the
registry serves under that digest, and a chart the registry holds with the checked
package's hash. The record cites those results as they were checked. The same image published again is not a
new record; a new image of the same version (a rebuild on a patched base) is its next build.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

from sciapps import __version__
from sciapps.catalog.model import Datalab
from sciapps.config import Config, chart_package
from sciapps.errors import SciAppsError
from sciapps.gitcmd import head
from sciapps.releases.judge import judge
from sciapps.releases.record import Chart, Release, statement
from sciapps.releases.registry import MAX_SBOM_BYTES, Registry, attachment_tag, is_digest
from sciapps.releases.signing import sign
from sciapps import ledger

MAX_PACKAGE_BYTES = 16 * 1024 * 1024
# GitLab's merge commit ends with this line; a title or description can hold one too, so
# only a whole line counts, and the last one
MERGE_REQUEST = re.compile(r"^See merge request ([\w./-]{1,200}![0-9]{1,9})[ \t]*$", re.MULTILINE)


@dataclass
class Published:
    datalab: str
    release: Release | None
    status: str  # "published", "unchanged", "refused"
    why: str = ""


def merged_by(environ: Mapping[str, str], commit: str) -> str | None:
    """The merge request that merged `commit`: as GitLab's API says (with the read-only
    review token, where the job has it), else the last `See merge request` line of the
    commit's message (a whole line: a title cannot put one before GitLab's own)."""
    from sciapps.author import TOKEN_VARIABLE, merging_merge_request

    api, project, token = environ.get("CI_API_V4_URL"), environ.get("CI_PROJECT_ID"), environ.get(TOKEN_VARIABLE)
    if api and project and token and re.fullmatch(r"[0-9a-f]{40}", commit):
        try:
            return merging_merge_request(api, project, commit, token)
        except SciAppsError:
            pass  # GitLab did not answer: the message says it, as GitLab wrote it
    message = environ.get("CI_COMMIT_MESSAGE", "")[:20_000]
    found = MERGE_REQUEST.findall(message)
    return found[-1] if found else None


def provenance(config: Config, environ: Mapping[str, str]) -> dict:
    """Where and from what this publication runs: GitLab's predefined variables, else this machine."""
    commit = environ.get("CI_COMMIT_SHA", "")
    return {
        "source_repository": (
            environ.get("CI_PROJECT_URL")
            or (f"{config.gitlab.url.rstrip('/')}/{config.gitlab.project}" if config.gitlab else str(config.root))
        )[:500],
        "commit": commit if re.fullmatch(r"[0-9a-f]{40}", commit) else (head(config.root) or "unknown"),
        "merge_request": merged_by(environ, commit),
        "builder": (
            f"{environ['CI_SERVER_URL']}/runners/{environ.get('CI_RUNNER_ID', 'unknown')}"
            if environ.get("CI_SERVER_URL")
            else f"local:{socket.gethostname()}"
        )[:500],
        "pipeline": (
            environ.get("CI_PIPELINE_URL")
            or (f"pipeline {environ['CI_PIPELINE_ID']}" if environ.get("CI_PIPELINE_ID") else f"local:{socket.gethostname()}")
        )[:500],
        "started": environ.get("CI_PIPELINE_CREATED_AT")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+Z?", environ.get("CI_PIPELINE_CREATED_AT", ""))
        else None,
    }


def _read_bounded(path: Path, limit: int) -> bytes | None:
    if not path.is_file() or path.is_symlink() or path.stat().st_size > limit:
        return None
    with open(path, "rb") as fh:
        return fh.read(limit + 1)


def publish_one(
    config: Config,
    lab: Datalab,
    registry: Registry,
    signer,
    environ: Mapping[str, str],
    required: tuple[str, ...],
    chain: ledger.Ledger | None = None,
) -> Published:
    """`chain`: the ledger the job read (and the push step completed), else read here."""
    meta = lab.metadata or {}
    version = str(meta.get("version"))
    chain = chain or ledger.read(config.path_of(config.results_dir), lab.id)
    why = chain.why_unchecked(required, version)
    if why:
        return Published(lab.id, None, "refused", why)
    built = chain.built
    image = chain.pushed.get("image") if isinstance(chain.pushed.get("image"), dict) else {}
    ref, digest = built.ref if built else "", str(image.get("digest") or "")
    staged = built.staged.digest if built and built.staged else digest
    if (
        not is_digest(digest)
        or image.get("ref") != ref
        or image.get("image_id") != (built.image_id if built else None)
        or digest != staged
        or not ref.startswith(registry.repository(lab.id) + ":")
    ):
        return Published(
            lab.id,
            None,
            "refused",
            f"the image this pipeline checked was not pushed to {config.registry} (run `sciapps push {lab.id}`)"
            if digest == staged
            else f"the release tag was given {digest}, not the {staged} the build staged and the stages checked",
        )
    repository, _, tag = ref.rpartition(":")
    served = registry.digest(ref)
    if served != digest:
        return Published(
            lab.id,
            None,
            "refused",
            f"the registry serves {served or 'nothing'} under {tag}, not the {digest} this pipeline pushed",
        )
    charts = config.charts_oci
    package = _read_bounded(chart_package(config, lab.id, version), MAX_PACKAGE_BYTES)
    chart_digest = registry.digest(f"{charts.removeprefix('oci://')}/{lab.id}:{version.replace('+', '_')}")
    checked = chain.chart_package.sha256 if chain.chart_package else None
    pushed_chart = chain.pushed.get("chart") if isinstance(chain.pushed.get("chart"), dict) else {}
    if (
        package is None
        or chart_digest is None
        or not checked
        or pushed_chart.get("sha256") != checked
        or hashlib.sha256(package).hexdigest() != checked
    ):
        return Published(
            lab.id,
            None,
            "refused",
            f"the chart {version} this pipeline checked was not pushed to {charts} (run `sciapps push {lab.id}`)",
        )
    chart = Chart(f"{charts}/{lab.id}", version, chart_digest, hashlib.sha256(package).hexdigest())
    # the chart's tag is its version, which a rebuild of the version moves on: keep this one tagged too
    registry.keep(f"{charts.removeprefix('oci://')}/{lab.id}", chart_digest, tag)

    builds, mine = [], None
    key = signer.public_key
    for digest_hex, data in registry.records(repository):
        if isinstance(data, Exception):
            continue  # not a record of this catalog's: it counts no build
        verdict = judge(data, key, digest_hex, registry_digest=None)  # the signature and shape only
        if verdict.release is None:
            continue
        if verdict.release.digest == digest:
            mine = verdict.release
        elif verdict.release.version == version:
            builds.append(verdict.release.build)
    if mine is not None:
        return Published(lab.id, mine, "unchanged", f"{version} build {mine.build} is already released with this image")

    sbom = _read_bounded(config.path_of(config.results_dir) / lab.id / "sbom.cdx.json", MAX_SBOM_BYTES)
    bases = [
        (b["name"], b["ref"], b["image_id"])
        for b in chain.checks["build"].details.get("bases") or []
        if isinstance(b, dict) and is_digest(b.get("image_id"))
    ]
    context = provenance(config, environ)
    checks = {stage: chain.checks[stage].cited for stage in required}
    body = statement(
        datalab=lab.id,
        version=version,
        build=max(builds, default=0) + 1,
        repository=repository,
        tag=tag,
        digest=digest,
        bases=bases,
        chart=chart,
        sbom="sha256:" + hashlib.sha256(sbom).hexdigest() if sbom else None,
        checks=checks,
        published=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        sciapps_version=__version__,
        **context,
    )
    envelope = sign(body, signer)
    registry.push_record(
        repository,
        digest,
        envelope,
        sbom,
        {"org.opencontainers.image.title": f"{lab.id} {version} release record", "org.opencontainers.image.version": version},
    )
    verdict = judge(envelope, key, digest.removeprefix("sha256:"), registry_digest=digest, datalab_id=lab.id)
    return Published(lab.id, verdict.release, "published")


def publish(
    config: Config,
    labs: list[Datalab],
    registry: Registry,
    signer,
    log: Callable[[str], None],
    required: tuple[str, ...],
    environ: Mapping[str, str] = os.environ,
    chains: Mapping[str, ledger.Ledger] | None = None,
) -> list[Published]:
    """Sign and attach the release record of each of `labs` whose `required` checks passed
    here; `chains`: the ledgers the job already read, by datalab."""
    done = []
    for lab in labs:
        outcome = publish_one(config, lab, registry, signer, environ, required, (chains or {}).get(lab.id))
        if outcome.status == "refused":
            log(f"{lab.id}: not published: {outcome.why}")
        elif outcome.status == "unchanged":
            log(f"{lab.id}: {outcome.why}")
        else:
            r = outcome.release
            log(f"{lab.id}: published {r.version} build {r.build}: {r.image}, record {r.repository}:{attachment_tag(r.digest)}")
        done.append(outcome)
    return done
