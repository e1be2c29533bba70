"""Approved base images: bootstrapped from Debian's archive, built, and recorded.

`build_all` makes `sciapps-rootfs:bookworm` with debootstrap (once; the image is the
cache), builds each folder of `base-images/` on it and writes their image ids to
`build/base-images.json`: the approved-bases list that builds and validation read.

A runner that does not build the bases pulls them by the digests the lock records
(`pull_all`, after `push_all` where they were built): it needs neither debootstrap nor
the bases' inputs, and gets the very images the lock approves, or a refusal.

A base is found again by the hash of its inputs (its folder, the image it is built on,
SciApps' version): the engine-wide tag `sciapps-base/<name>:<hash>` names one content,
so a base whose inputs did not change is never rebuilt, whichever catalog asks. Each
base is built `FROM` its parent's exact image id, and datalabs `FROM` the ids in the lock
file (`buildfiles.pin_bases`): no build reads a movable tag such as `jl_base`, so
building the bases of one catalog never changes what another catalog's builds get.
Labels carry no build time, so the same inputs give the same image config.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sciapps import __version__, launchparams
from sciapps.baselock import ORDER, PARENT, BaseImage, read_lock, unpin, write_lock
from sciapps.config import Config, registry_login
from sciapps.errors import SciAppsError
from sciapps.engine import Engine, context_tar

ROOTFS = "sciapps-rootfs:bookworm"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
CONTENT_REPOSITORY = "sciapps-base"  # engine-wide, content-addressed: sciapps-base/<name>:<hash>


def host_ca_bundle() -> bytes:
    """The CA bundle pip inside a build stage uses (the host's, else certifi's)."""
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    import certifi

    return Path(certifi.where()).read_bytes()


def bootstrap(engine: Engine, log: Callable[[str], None]) -> str:
    """The Debian root filesystem image, made with debootstrap when it is not there yet."""
    existing = engine.image_id(ROOTFS)
    if existing:
        return existing
    if shutil.which("debootstrap") is None:
        raise SciAppsError(
            "debootstrap is not installed", "apt-get install debootstrap (the base images start from Debian's archive)"
        )
    if os.geteuid() != 0:
        raise SciAppsError("debootstrap needs root", "run `sudo sciapps base-images build` once; the result is cached")
    with tempfile.TemporaryDirectory(prefix="sciapps-rootfs-") as tmp:
        target = Path(tmp) / "rootfs"
        log(f"bootstrapping Debian {SUITE} from {MIRROR} (debootstrap --variant=minbase)")
        proc = subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(target), MIRROR], capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
            raise SciAppsError(f"debootstrap failed:\n{tail}", f"check that {MIRROR} can be reached")
        archive = Path(tmp) / "rootfs.tar"
        _reproducible_tar(target, archive)
        log("importing the root filesystem into Docker")
        repository, tag = ROOTFS.split(":")
        return engine.import_rootfs(archive, repository, tag, ["ENV LANG=C.UTF-8", 'CMD ["bash"]'])


SECURITY_SOURCES = f"deb {MIRROR} {SUITE} main\ndeb {MIRROR} {SUITE}-updates main\ndeb {MIRROR}-security {SUITE}-security main\n"
UPDATES_DOCKERFILE = """ARG ROOTFS
FROM ${ROOTFS}
COPY sources.list /etc/apt/sources.list
# what would change, one line a package (read by sciapps), then the change itself
RUN apt-get update -qq \\
 && apt-get -s upgrade | sed -n 's/^Inst /sciapps-update: /p' \\
 && DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Options::=--force-confold upgrade >/dev/null \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log
"""


def security_updates(engine: Engine, log: Callable[[str], None]) -> list[str]:
    """Apply Debian's current security and stable updates to the root filesystem every
    base starts from. The updated filesystem becomes `sciapps-rootfs:bookworm`, so every
    base built on it gets a new content hash and is rebuilt (and, with the datalabs built
    on them, `sciapps plan --outdated` finds what to rebuild). Returns the updated
    packages as apt names them ("name [old] (new suite [arch])"); none: nothing changed."""
    rootfs_id = bootstrap(engine, log)
    updates: list[str] = []

    def seen(line: str) -> None:
        if line.startswith("sciapps-update: "):
            updates.append(line.removeprefix("sciapps-update: ").strip())

    log(f"applying Debian's updates ({SUITE}-security, {SUITE}-updates) to {ROOTFS}")
    context = context_tar({"Dockerfile": UPDATES_DOCKERFILE.encode(), "sources.list": SECURITY_SOURCES.encode()}, lambda _: 0o644)
    result = engine.build(
        context, tag=None, buildargs={"ROOTFS": rootfs_id}, on_line=seen, nocache=True
    )  # always ask the archive again
    if not updates:
        engine.remove_image(result.image_id)
        log("no Debian update since the last refresh: the bases stay as they are")
        return []
    engine.tag(result.image_id, ROOTFS)
    for line in updates:
        log(f"  updated {line}")
    log(f"{len(updates)} Debian package(s) updated: {ROOTFS} is now {result.image_id[:19]}")
    return updates


# Written by the bootstrap itself with the time of the run: dropped, so that the same
# packages give the same root filesystem layer.
_VOLATILE = (
    "var/log/dpkg.log",
    "var/log/apt",
    "var/log/bootstrap.log",
    "var/log/alternatives.log",
    "var/cache/ldconfig/aux-cache",
    "var/cache/apt/pkgcache.bin",
    "var/cache/apt/srcpkgcache.bin",
)
EPOCH = 946684800  # 2000-01-01: every mtime in the root filesystem is clamped to this (as SOURCE_DATE_EPOCH does)


def _reproducible_tar(root: Path, archive: Path) -> None:
    """The root filesystem as a tar with sorted entries, numeric owners and clamped times."""
    for name in _VOLATILE:
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = min(info.mtime, EPOCH)
        info.uname = info.gname = ""
        return info

    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for entry in sorted([*dirnames, *filenames]):
                full = Path(dirpath) / entry
                tar.add(full, arcname=full.relative_to(root).as_posix(), recursive=False, filter=normalise)


def _inputs(folder: Path, common: Path) -> dict[str, Path]:
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "README.md"}
    files.update({p.name: p for p in sorted(common.iterdir()) if p.is_file()})
    files["launchparams.py"] = Path(launchparams.__file__)  # the one checker of launch values, SciApps' own
    return files


def _hash(files: dict[str, Path], below_id: str) -> str:
    h = hashlib.sha256(f"{below_id}\0{__version__}\0".encode())
    for name, path in sorted(files.items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def build_all(
    engine: Engine, config: Config, names: tuple[str, ...] = ORDER, log: Callable[[str], None] = print, rebuild: bool = False
) -> dict[str, BaseImage]:
    folder = config.root / "base-images"
    if not folder.is_dir():
        raise SciAppsError(f"{folder}: no base-images folder", "run in the SciApps repository")
    rootfs_id = bootstrap(engine, log)
    bases = read_lock(config)
    ca = host_ca_bundle()
    for name in names:
        if name not in ORDER:
            raise SciAppsError(f"{name!r} is not a base image", f"choose from {', '.join(ORDER)}")
        inputs = _inputs(folder / name, folder / "common")
        parent = PARENT.get(name)
        if parent and parent not in bases:
            raise SciAppsError(
                f"{name} is built on {parent}, which is not built yet", f"run `sciapps base-images build {parent} {name}`"
            )
        below = bases[parent].image_id if parent else rootfs_id
        content_hash = _hash(inputs, below)
        content_ref = f"{CONTENT_REPOSITORY}/{name}:{content_hash}"
        ref = f"{config.registry}/bases/{name}:{content_hash}"  # the bases' own repositories, apart from every datalab's
        image_id = None if rebuild else engine.image_id(content_ref)
        if image_id:
            log(f"{name}: up to date ({content_ref})")
        else:
            log(f"{name}: building {content_ref}")
            files: dict[str, bytes | Path] = dict(inputs)
            files["ca-certificates.crt"] = ca
            labels = {
                "org.opencontainers.image.title": name,
                "org.opencontainers.image.description": f"SciApps approved base image {name}",
                "org.opencontainers.image.version": content_hash,
                "org.opencontainers.image.vendor": "ESA Datalabs",
                "org.opencontainers.image.licenses": "BSD-3-Clause",
                "org.opencontainers.image.base.name": f"{CONTENT_REPOSITORY}/{parent}:{bases[parent].ref.rsplit(':', 1)[1]}"
                if parent
                else ROOTFS,
                "int.esa.datalabs.base-image": name,
            }
            modes = lambda n: 0o755 if n.startswith("datalab-") else 0o644  # noqa: E731
            buildargs = {"BASE": below} if parent else {"ROOTFS": below}  # exact ids, never a tag
            result = engine.build(
                context_tar(files, modes), tag=None, labels=labels, buildargs=buildargs, on_line=lambda line: log(f"  {line}")
            )
            image_id = result.image_id
            engine.tag(image_id, content_ref)
        engine.tag(image_id, ref)
        previous = bases.get(name)
        keep = previous and previous.image_id == image_id
        bases[name] = BaseImage(
            name,
            image_id,
            ref,
            previous.built if keep else datetime.now(timezone.utc).isoformat(timespec="seconds"),
            previous.digest if keep else None,
        )
        write_lock(config, bases)
    return bases


def push_all(engine: Engine, config: Config, log: Callable[[str], None] = print) -> dict[str, BaseImage]:
    bases = read_lock(config)
    for name, base in bases.items():
        digest = engine.push(base.ref, on_line=lambda line: log(f"  {line}"))
        bases[name] = BaseImage(base.name, base.image_id, base.ref, base.built, digest)
        log(f"{name}: pushed {base.ref}@{digest}")
    write_lock(config, bases)
    return bases


def pull_all(engine: Engine, config: Config, log: Callable[[str], None] = print) -> dict[str, BaseImage]:
    """`sciapps base-images pull`: make the approved bases of the lock (`build/base-images.json`,
    written where they were built and pushed) present on this engine, by digest, never by
    building them: a runner that has none pulls them and runs no debootstrap. Each pulled
    image must be the image id the lock approves; one that is not is refused, named."""
    bases = read_lock(config)
    if not bases:
        raise SciAppsError(
            "no approved base images are recorded in build/base-images.json",
            "take the lock from the job that built and pushed them (`sciapps base-images build --push`)",
        )
    for name in [n for n in ORDER if n in bases]:
        base = bases[name]
        if engine.image_id(base.image_id):
            log(f"{name}: already here ({base.image_id[:19]})")
        else:
            if not base.digest:
                raise SciAppsError(
                    f"{name} is not on this engine and the lock names no digest to pull it by",
                    "push the bases where they are built (`sciapps base-images build --push`) and pass that lock on",
                )
            source = f"{base.ref.rpartition(':')[0]}@{base.digest}"
            log(f"{name}: pulling {source}")
            pulled = engine.pull(source)
            if pulled != base.image_id:  # left untagged: it may be another approved base this engine holds
                raise SciAppsError(
                    f"{source} is image {pulled[:19]}, not the approved {name} {base.image_id[:19]}: refused",
                    "the registry no longer serves what the lock approves; build and push the bases again",
                )
        engine.tag(base.image_id, base.ref)
        engine.tag(base.image_id, f"{CONTENT_REPOSITORY}/{name}:{base.ref.rsplit(':', 1)[1]}")
    return bases


def pull(config: Config, log: Callable[[str], None] = print, pinned: str = "") -> dict[str, BaseImage]:
    """`sciapps base-images pull`, with the catalog registry's credentials; `pinned`: the
    lock a plan pinned for its child pipeline, written as this checkout's first."""
    if pinned:
        unpin(config, pinned)
    return pull_all(Engine(login=registry_login(config)), config, log)


def build_and_push(
    config: Config,
    names: tuple[str, ...] = (),
    rebuild: bool = False,
    push: bool = False,
    log: Callable[[str], None] = print,
    security: bool = False,
) -> dict[str, BaseImage]:
    """`sciapps base-images build`: build (only what changed), push when asked, list them;
    with `security`, Debian's updates first (the scheduled refresh)."""
    engine = Engine(login=registry_login(config))
    if security:
        security_updates(engine, log)
    built = build_all(engine, config, names or ORDER, log=log, rebuild=rebuild)
    if push:
        built = push_all(engine, config, log=log)
    for base in built.values():
        log(f"{base.name:22} {base.image_id[:19]}  {base.ref}" + (f"@{base.digest}" if base.digest else ""))
    return built
