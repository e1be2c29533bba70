"""`sciapps build`: a datalab becomes an image, once per distinct content.

The tag is `<registry>/<id>:<version>-<hash>`, the hash covering the datalab's files, the
Dockerfile, the approved base image ids and the SciApps version: an unchanged datalab
has the same tag, and is never rebuilt when that tag is already here or in the registry.
An image is tagged (and pushed) only after its checks pass: it runs as a non-root user,
it is built on the approved base image it names (its layers start with that base's),
and it carries the OCI labels.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sciapps import __version__
from sciapps.baselock import BaseImage, read_lock
from sciapps.buildfiles import DOCKERFILE, LABEL_ID, MAX_DOCKERFILE_BYTES, REQUIRED_LABELS, apt_packages, pin_bases
from sciapps.gitcmd import head
from sciapps.catalog.model import Datalab
from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.images import bases as base_images
from sciapps.datalab_types import TYPES
from sciapps.images.dockerfile import CA_PATH, basic_dockerfile, mode_of
from sciapps.engine import BuildFailed, Engine, EngineError, context_tar
from sciapps.ledger import Staged
from sciapps.safefiles import UnsafeFile


class ImageCheckFailed(SciAppsError):
    exit_code = 1


@dataclass
class Plan:
    lab: Datalab
    dockerfile: str
    files: dict[str, bytes | Path]
    modes: dict[str, int]
    bases: list[BaseImage]
    content_hash: str
    ref: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    datalab: str
    ref: str
    image_id: str | None
    status: str  # "built", "unchanged" (here), "in-registry"
    seconds: float
    digest: str | None = None


def _git_revision(folder: Path) -> str:
    return head(folder) or "unknown"  # not a repository, or no commit yet


def plan(lab: Datalab, config: Config, approved: dict[str, BaseImage]) -> Plan:
    meta = dict(lab.metadata or {})
    try:  # each file read once, bounded, never through a link
        regular = {e.path: lab.read(e.path) for e in lab.files if e.kind == "file"}
        own_dockerfile = lab.read_text(DOCKERFILE, MAX_DOCKERFILE_BYTES) if meta.get("mode") == "advanced" else ""
    except UnsafeFile as exc:
        raise SciAppsError(
            f"{lab.id}: {exc}", f"run `sciapps validate datalabs/{lab.dir_name}` and fix what it reports"
        ) from None
    ids = {name: base.image_id for name, base in approved.items()}
    if meta.get("mode", "basic") == "advanced":
        dockerfile, names = pin_bases(own_dockerfile, ids, config.registry)
        if not names:
            raise SciAppsError(
                f"{lab.id}: its Dockerfile starts from no approved base that is built here",
                "start it `FROM jl_base` (or x_base, datalabs_ubuntu_base) and run `sciapps base-images build`",
            )
        files: dict[str, bytes | Path] = dict(regular)
        modes = {name: (os.lstat(lab.dir / name).st_mode & 0o777) | 0o644 for name in regular}
    else:
        apt = apt_packages(regular["apt.txt"].decode("utf-8", "replace"))[0] if "apt.txt" in regular else []
        names = [TYPES[meta["type"]].base]
        if names[0] not in approved:
            raise SciAppsError(
                f"{lab.id}: base image {names[0]} is not built here",
                "run `sciapps base-images build` first (build/base-images.json lists the approved bases)",
            )
        dockerfile = basic_dockerfile(meta, set(regular), apt, ids[names[0]])
        files = {f"datalab/{name}": path for name, path in regular.items()}
        modes = {f"datalab/{name}": mode_of(name) for name in regular}
    bases = [approved[n] for n in dict.fromkeys(names)]
    files[CA_PATH] = base_images.host_ca_bundle()
    h = hashlib.sha256(f"sciapps {__version__}\0".encode() + dockerfile.encode())
    for base in bases:
        h.update(base.image_id.encode())
    for name in sorted(regular):
        h.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(regular[name]).digest())
    content_hash = h.hexdigest()[:12]
    ref = f"{config.registry}/{meta['id']}:{meta['version']}-{content_hash}"
    source = config.page_url(meta["id"])
    labels = {
        "org.opencontainers.image.title": meta["name"],
        "org.opencontainers.image.description": meta["summary"],
        "org.opencontainers.image.version": meta["version"],
        "org.opencontainers.image.licenses": meta["license"],
        "org.opencontainers.image.source": source,
        "org.opencontainers.image.revision": _git_revision(lab.dir),
        "org.opencontainers.image.created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "org.opencontainers.image.base.name": bases[-1].ref,
        LABEL_ID: meta["id"],
        "int.esa.datalabs.type": meta["type"],
        "int.esa.datalabs.mode": meta.get("mode", "basic"),
        "int.esa.datalabs.content-hash": content_hash,
    }
    return Plan(lab, dockerfile, files, modes, bases, content_hash, ref, labels)


def check_image(engine: Engine, image_id: str, plan: Plan) -> list[str]:
    """Why the built image may not be tagged, if it may not."""
    attrs = engine.image(image_id)
    problems = []
    user = (attrs["Config"].get("User") or "").split(":")[0]
    if user in ("", "root", "0"):
        problems.append(f"it runs as {user or 'root (no USER)'}; end the Dockerfile with USER 1000")
    layers = attrs["RootFS"]["Layers"]
    base = plan.bases[-1]
    base_layers = engine.image(base.image_id)["RootFS"]["Layers"]
    if layers[: len(base_layers)] != base_layers:
        problems.append(f"its layers do not start with the approved base {base.name} ({base.image_id[:19]})")
    labels = attrs["Config"].get("Labels") or {}
    problems += [f"label {key} is missing" for key in REQUIRED_LABELS if not labels.get(key)]
    return problems


def build(
    engine: Engine,
    p: Plan,
    push: bool = False,
    nocache: bool = False,
    log: Callable[[str], None] = print,
) -> Outcome:
    start = time.perf_counter()
    lab_id = p.lab.id
    existing = engine.image_id(p.ref)
    if existing and not nocache:
        digest = engine.push(p.ref) if push else None
        return Outcome(lab_id, p.ref, existing, "unchanged", time.perf_counter() - start, digest)
    if not nocache:
        digest = engine.registry_digest(p.ref)
        if digest:
            return Outcome(lab_id, p.ref, None, "in-registry", time.perf_counter() - start, digest)
    for base in p.bases:
        if engine.image_id(base.image_id) is None:
            raise EngineError(
                f"{lab_id}: the approved base {base.name} ({base.image_id[:19]}) recorded in build/base-images.json "
                "is not in this Docker engine",
                "run `sciapps base-images build` to build it again (or to find it, when its inputs did not change)",
            )
    log(
        f"{lab_id}: building {p.ref} "
        f"({'own Dockerfile' if p.lab.get('mode') == 'advanced' else 'basic mode'}, on {p.bases[-1].name})"
    )

    def show(line: str) -> None:
        log(f"  {line}")

    # One LABEL instruction at the end of the final stage: one cheap step, not one per label.
    files = dict(p.files)
    label_line = "LABEL " + " ".join(f"{key}={json.dumps(value)}" for key, value in sorted(p.labels.items()))
    files["Dockerfile"] = (p.dockerfile.rstrip("\n") + "\n" + label_line + "\n").encode()
    result = engine.build(context_tar(files, lambda name: p.modes.get(name, 0o644)), tag=None, nocache=nocache, on_line=show)
    problems = check_image(engine, result.image_id, p)
    if problems:
        engine.remove_image(result.image_id)
        raise ImageCheckFailed(f"{lab_id}: the image was built but not tagged: " + "; ".join(problems), "fix the Dockerfile")
    engine.tag(result.image_id, p.ref)
    digest = None
    if push:
        log(f"{lab_id}: pushing {p.ref}")
        digest = engine.push(p.ref, on_line=show)
    return Outcome(lab_id, p.ref, result.image_id, "built", time.perf_counter() - start, digest)


STAGED_TAG = "staged-"  # staged-<version>-<hash>: what the registry's cleanup policy expires (OPERATIONS.md)


def stage(engine: Engine, outcome: Outcome, repository: str, log: Callable[[str], None] = print) -> Staged:
    """Hand the image `outcome` names on to the later jobs, whichever runner they land on:
    push it to the staging `repository` (`ledger.staging_repository`) as
    `staged-<version>-<hash>`, and say where it is by digest. An image the registry already has under its release
    reference (`in-registry`) is staged where it is: nothing is pushed."""
    if outcome.status == "in-registry":
        return Staged(outcome.ref.rpartition(":")[0], str(outcome.digest), None)
    if not outcome.image_id:
        raise SciAppsError(f"{outcome.datalab}: no image to stage", "build it first")
    target = f"{repository}:{STAGED_TAG}{outcome.ref.rpartition(':')[2]}"
    engine.tag(outcome.image_id, target)
    log(f"{outcome.datalab}: staging {target}")
    return Staged(repository, engine.push(target), outcome.image_id)


class StagedImageRefused(SciAppsError):
    """The registry does not give this job the image the build staged: a finding of the
    stage that asked (exit 1), never a rebuild."""

    exit_code = 1


def staged_image(engine: Engine, staged: Staged, registry: str, log: Callable[[str], None] = print) -> str:
    """The image the build staged, on this engine: found here by its digest, else pulled by
    it (never by a tag, which anyone with push rights could move), from the catalog's
    `registry` only. An image that is not the one the build made is refused, named. Its
    reference (`<repository>@<digest>`)."""
    pinned = staged.pinned
    if not staged.within(registry):
        raise StagedImageRefused(f"{pinned[:200]} is not in the catalog's registry {registry}: refused", "run the pipeline again")
    here = engine.image_id(pinned)
    if here is None:
        log(f"pulling {pinned}")
        try:
            here = engine.pull(pinned)
        except EngineError as exc:
            raise StagedImageRefused(
                f"the staged image {pinned} cannot be pulled by its digest ({exc.message}): refused, nothing is rebuilt",
                "run the pipeline again; if it fails again, the registry no longer serves what the build staged",
            ) from None
    if staged.image_id and here != staged.image_id:
        raise StagedImageRefused(
            f"{pinned} is image {here[:19]}, not the {staged.image_id[:19]} the build staged: refused",
            "run the pipeline again: nothing but the build may write to a staging repository",
        )
    return pinned


def ensure_image(engine: Engine, config: Config, lab: Datalab, log: Callable[[str], None]) -> str:
    """The local image of a datalab (which must validate), built or pulled first when needed."""
    p = plan(lab, config, read_lock(config))
    if engine.image_id(p.ref) is None:
        outcome = build(engine, p, log=log)
        if outcome.status == "in-registry":
            log(f"{lab.id}: pulling {p.ref}")
            engine.pull(p.ref)
    return p.ref


__all__ = ["BuildFailed", "EngineError", "Outcome", "Plan", "build", "ensure_image", "plan", "stage", "staged_image"]
