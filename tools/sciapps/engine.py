"""The container engine: a thin interface over the Docker SDK.

Only this module talks to Docker: it hands out image ids and `Container`s, never a
Docker object, so only the tests about Docker need a daemon, and every Docker failure
becomes one clear sentence with its remedy (`EngineError`). The image builder, the test
runner and the scanners all use it; it sits below them and knows none of them.
Builds and containers use the host network: the engines these tools run on have no
bridge network.
"""

from __future__ import annotations

import io
import re
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from sciapps.errors import SciAppsError
from sciapps.config import REGISTRY_LOGIN_HINT, RegistryLogin, refused_for_credentials


class EngineError(SciAppsError):
    """Docker is missing, stopped, or refused something."""


class CommandNotFound(EngineError):
    """The image has no such program (for example no python3)."""


class BuildFailed(SciAppsError):
    exit_code = 1

    def __init__(self, message: str, log_tail: list[str]):
        super().__init__(message, "read the build output above; fix the step that failed")
        self.log_tail = log_tail


_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)")


@dataclass
class BuildResult:
    image_id: str
    log: list[str]


MAX_LOG_BYTES = 64 * 1024 * 1024  # of one container's log kept for a report or a probe


class Container:
    """A container the engine started or created. The Docker object stays inside."""

    def __init__(self, engine: "Engine", handle):
        self._engine, self._handle = engine, handle
        self.id, self.name = handle.id, handle.name

    @property
    def status(self) -> str:
        """ "created", "running", "exited", "dead"...: asked afresh each time."""
        try:
            self._handle.reload()
        except self._engine.errors.NotFound:
            return "removed"
        return self._handle.status

    def logs(self, tail: int | None = None, stdout: bool = True, stderr: bool = True, limit: int = MAX_LOG_BYTES) -> str:
        """What the container wrote, at most its last `limit` bytes: a datalab's program may
        write without end, and its log is read as it streams, never whole into memory."""
        kwargs = {"tail": tail} if tail is not None else {}
        kept = bytearray()
        try:
            for chunk in self._handle.logs(stdout=stdout, stderr=stderr, stream=True, follow=False, **kwargs):
                kept += chunk
                if len(kept) > 2 * limit:
                    del kept[:-limit]
        except self._engine.errors.NotFound:
            return ""  # removed: its log went with it
        return bytes(kept[-limit:]).decode("utf-8", "replace")

    def start(self) -> None:
        try:
            self._handle.start()
        except self._engine.errors.APIError as exc:
            if "executable file not found" in str(exc) or re.search(r'exec: "[^"]*": stat [^:]*: no such file', str(exc)):
                raise CommandNotFound(f"{self.name}: {_reason(exc)}") from None
            raise EngineError(f"cannot start {self.name}: {_reason(exc)}") from None

    def wait(self, timeout: float) -> int | None:
        """The exit code once it stops (None: no code)."""
        return self._handle.wait(timeout=timeout).get("StatusCode")

    def export(self) -> Iterator[bytes]:
        """Its file system as a stream of tar bytes."""
        return self._handle.export()


def _docker():
    try:
        import docker
    except ImportError:  # the light install: the engine is the full install's
        raise EngineError(
            "this command needs SciApps' full install (the Docker SDK for Python is not installed)",
            "pip install 'sciapps[full]' (from a clone: pip install -e '.[full]')",
        ) from None
    return docker


class Engine:
    """A connection to the Docker engine."""

    def __init__(self, client=None, login: RegistryLogin | None = None):
        """`login`: the catalog registry's credentials, sent with each push and pull to that
        registry only, never stored (no `docker login`)."""
        self.login = login
        docker = _docker()
        try:
            self.client = client or docker.from_env(timeout=600)
            self.client.ping()
        except docker.errors.DockerException as exc:
            raise EngineError(
                f"Docker is not running or not reachable ({_reason(exc)})",
                "start it (`sudo systemctl start docker`, or `dockerd --iptables=false --bridge=none &`) "
                "or point DOCKER_HOST at a running engine",
            ) from None
        self.errors = docker.errors

    # ---------------------------------------------------------------- images
    def image_id(self, ref: str) -> str | None:
        try:
            return self.client.images.get(ref).id
        except self.errors.ImageNotFound:
            return None
        except self.errors.APIError as exc:
            raise EngineError(f"cannot inspect image {ref}: {_reason(exc)}") from None

    def image(self, ref: str) -> dict:
        return self.client.images.get(ref).attrs

    def remove_image(self, image_id: str) -> None:
        """Remove an image (and its untagged parents); a missing or used one is left."""
        try:
            self.client.images.remove(image_id, noprune=False)
        except self.errors.APIError:
            pass

    def _auth(self, ref: str) -> dict | None:
        if self.login and self.login.applies_to(ref):
            return {"username": self.login.username, "password": self.login.password}
        return None

    def _refused(self, ref: str, what: str, reason: str) -> EngineError | None:
        """One sentence when the registry refused for want of (good) credentials."""
        if not refused_for_credentials(reason):
            return None
        given = "the credentials given were refused" if self._auth(ref) else "no credentials were given"
        return EngineError(f"the registry {ref.split('/')[0]} refused to {what} {ref}: {given}", REGISTRY_LOGIN_HINT)

    def pull(self, ref: str) -> str:
        try:
            return self.client.images.pull(ref, auth_config=self._auth(ref)).id
        except self.errors.APIError as exc:
            raise self._refused(ref, "pull", _reason(exc)) or EngineError(
                f"cannot pull {ref}: {_reason(exc)}", "check that the registry is running and reachable"
            ) from None

    def registry_digest(self, ref: str) -> str | None:
        """The registry's digest of `ref`, or None when it has no such tag (or cannot say)."""
        try:
            return self.client.api.inspect_distribution(ref, auth_config=self._auth(ref))["Descriptor"]["digest"]
        except Exception:  # not found, or the registry is unreachable
            return None

    def import_rootfs(self, tar_path: Path, repository: str, tag: str, changes: list[str]) -> str:
        try:
            self.client.api.import_image_from_file(str(tar_path), repository=repository, tag=tag, changes=changes)
        except self.errors.APIError as exc:
            raise EngineError(f"cannot import {tar_path}: {_reason(exc)}") from None
        return self.client.images.get(f"{repository}:{tag}").id

    def build(
        self,
        context: bytes,
        tag: str | None,
        labels: dict[str, str] | None = None,
        buildargs: dict[str, str] | None = None,
        on_line: Callable[[str], None] | None = None,
        nocache: bool = False,
    ) -> BuildResult:
        """Build from a gzip'd tar context; intermediate containers are always removed.

        `tag` may be None: the caller tags only after its own checks pass."""
        log: list[str] = []
        image_id = None
        try:
            stream = self.client.api.build(
                fileobj=io.BytesIO(context),
                custom_context=True,
                encoding="gzip",
                tag=tag,
                labels=labels,
                buildargs=buildargs,
                network_mode="host",
                rm=True,
                forcerm=True,
                pull=False,
                nocache=nocache,
                decode=True,
            )
            for chunk in stream:
                if "stream" in chunk:
                    for line in chunk["stream"].splitlines():
                        if line.strip():
                            log.append(line)
                            if on_line:
                                on_line(line)
                if "aux" in chunk and "ID" in chunk["aux"]:
                    image_id = chunk["aux"]["ID"]
                if "error" in chunk:
                    message = chunk["error"].strip()
                    step = next((text for text in reversed(log) if _STEP.match(text)), "")
                    raise BuildFailed(f"the build failed at {step or 'the first step'}: {message}", log[-30:])
        except self.errors.APIError as exc:
            raise EngineError(f"the Docker engine refused the build: {_reason(exc)}") from None
        if image_id is None:
            raise BuildFailed("the build ended without producing an image", log[-30:])
        return BuildResult(image_id, log)

    def tag(self, image_id: str, ref: str) -> None:
        repository, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        self.client.api.tag(image_id, repository, tag, force=True)

    def untag(self, ref: str) -> None:
        try:
            self.client.api.remove_image(ref, noprune=True)
        except self.errors.NotFound:
            pass

    def push(self, ref: str, on_line: Callable[[str], None] | None = None) -> str:
        """Push `ref`; return the registry's manifest digest."""
        repository, _, tag = ref.rpartition(":")
        digest = None
        try:
            for chunk in self.client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=self._auth(ref)):
                if "error" in chunk:
                    raise self._refused(ref, "let us push", str(chunk["error"])) or EngineError(
                        f"pushing {ref} failed: {chunk['error']}", "check that the registry is running and reachable"
                    )
                if "aux" in chunk and "Digest" in chunk["aux"]:
                    digest = chunk["aux"]["Digest"]
                if on_line and chunk.get("status") and not chunk.get("progressDetail"):
                    on_line(f"{chunk.get('id', '')} {chunk['status']}".strip())
        except self.errors.APIError as exc:
            raise self._refused(ref, "let us push", _reason(exc)) or EngineError(
                f"pushing {ref} failed: {_reason(exc)}", "check that the registry is running and reachable"
            ) from None
        if digest is None:
            raise EngineError(f"pushing {ref} gave no digest", "check the registry")
        return digest

    # ------------------------------------------------------------ containers
    def run(
        self,
        image: str,
        name: str,
        *,
        command: list[str] | None = None,
        environment: dict[str, str] | None = None,
        mounts: list[tuple[str, str, bool]] = (),
        cpus: float | None = None,
        memory_gb: float | None = None,
        labels: dict[str, str] | None = None,
    ) -> Container:
        """Start a detached container on the host network, hardened: no new privileges,
        no capabilities, the image's (non-root) user."""
        docker = _docker()
        try:
            return Container(
                self,
                self.client.containers.run(
                    image,
                    command=command,
                    name=name,
                    detach=True,
                    network_mode="host",
                    environment=environment or {},
                    mounts=[docker.types.Mount(target, source, type="bind", read_only=ro) for source, target, ro in mounts],
                    nano_cpus=int(cpus * 1e9) if cpus else None,
                    mem_limit=f"{int(memory_gb * 1024)}m" if memory_gb else None,
                    security_opt=["no-new-privileges"],
                    cap_drop=["ALL"],
                    labels=labels or {},
                ),
            )
        except self.errors.ImageNotFound:
            raise EngineError(f"image {image} is not here", f"build it first: sciapps build {name.split('-')[0]}") from None
        except self.errors.APIError as exc:
            raise EngineError(f"cannot start {image}: {_reason(exc)}") from None

    def create(self, image: str, entrypoint: list[str], *, user: str, labels: dict[str, str]) -> Container:
        """Create (not start) a container with no network at all, for reading an image."""
        try:
            return Container(
                self, self.client.containers.create(image, entrypoint=entrypoint, network_mode="none", user=user, labels=labels)
            )
        except self.errors.ImageNotFound:
            raise EngineError(f"image {image} is not here", "build it first (sciapps build)") from None
        except self.errors.APIError as exc:
            raise EngineError(f"cannot create a container of {image}: {_reason(exc)}") from None

    def exec(
        self, container: Container, command: list[str], timeout: float, workdir: str | None = None
    ) -> tuple[int | None, str]:
        """Run a command in a container; (exit code or None on timeout, output)."""
        exec_id = self.client.api.exec_create(container.id, command, workdir=workdir)["Id"]
        output = self.client.api.exec_start(exec_id, stream=True, demux=False)
        chunks: list[bytes] = []
        deadline = time.monotonic() + timeout
        for chunk in _until(output, deadline):
            chunks.append(chunk)
        text = b"".join(chunks).decode("utf-8", "replace")
        if time.monotonic() >= deadline:
            return None, text
        return self.client.api.exec_inspect(exec_id)["ExitCode"], text

    def remove(self, container: Container) -> None:
        try:
            container._handle.remove(force=True, v=True)
        except self.errors.NotFound:
            pass
        except self.errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise EngineError(f"cannot remove {container.name}: {_reason(exc)}") from None

    def containers_labelled(self, label: str) -> list[Container]:
        return [Container(self, c) for c in self.client.containers.list(all=True, filters={"label": label})]


def _until(stream: Iterator[bytes], deadline: float) -> Iterator[bytes]:
    import threading
    import queue

    q: queue.Queue = queue.Queue()

    def pump():
        try:
            for item in stream:
                q.put(item)
        finally:
            q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            item = q.get(timeout=remaining)
        except queue.Empty:
            return
        if item is None:
            return
        yield item


def _reason(exc: Exception) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text).strip()
    for hint in ("Connection refused", "No such file or directory", "Permission denied"):
        if hint in text:
            return hint.lower()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def context_tar(files: dict[str, bytes | Path], mode_of: Callable[[str], int] | None = None) -> bytes:
    """A gzip'd tar build context from {path in context: content or file}; fixed times and
    owners so the same inputs give the same bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for name in sorted(files):
            value = files[name]
            data = value.read_bytes() if isinstance(value, Path) else value
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = mode_of(name) if mode_of else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
