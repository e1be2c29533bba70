from __future__ import annotations

from pathlib import Path

import pytest

from sciapps.catalog.loader import load_datalab
from sciapps.catalog.rules import ALL_RULES
from sciapps.catalog.rules.base import Context
from sciapps.catalog.validate import check_datalab
from sciapps.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "datalabs"


def version_of(datalab: str) -> str:
    """The version an example datalab has now: tests follow the examples' versions, so a
    datalab's next release needs no test edited."""
    from sciapps import yamlio

    return str(yamlio.load((REPO / "datalabs" / datalab / "datalab.yaml").read_text())["version"])


GAIA, XMM, EUCLID = version_of("gaia-dr3-hrd"), version_of("xmm-epic-spectrum-fit"), version_of("euclid-q1-photoz")


@pytest.fixture
def config() -> Config:
    return load_config(REPO / "sciapps.yaml")


def findings_for(folder: Path, config: Config, ctx: Context | None = None):
    """Run every rule on one datalab folder."""
    lab = load_datalab(folder, config.limits)
    return check_datalab(lab, [rule() for rule in ALL_RULES], ctx or Context(config=config))


def copy_repository(root: Path) -> Path:
    """A copy of this repository's tracked files (links as links) at `root`, without Git."""
    import subprocess

    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_symlink():
            target.symlink_to((REPO / name).readlink())
        elif (REPO / name).is_file():
            target.write_bytes((REPO / name).read_bytes())
    return root


def rule_ids(findings) -> list[str]:
    return sorted(f.rule_id for f in findings)


# ---------------------------------------------------------------- Docker and the registry
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def _needs(what: str, remedy: str):
    """Skip on a developer's machine without `what`; fail in CI, which must provide it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: {remedy}")
    pytest.skip(f"{what} is not available ({remedy})")


@pytest.fixture(scope="session")
def engine():
    from sciapps.engine import Engine, EngineError

    try:
        return Engine()
    except EngineError as exc:
        _needs("a running Docker engine", str(exc))


@pytest.fixture(scope="session")
def approved(engine):
    """The approved base images, built (or found up to date) once per session."""
    from sciapps.images import bases

    return bases.build_all(engine, load_config(REPO / "sciapps.yaml"), log=lambda line: None)


@pytest.fixture(scope="session")
def second_engine(engine, tmp_path_factory):
    """Another runner: a second Docker engine (its own data root, exec root, socket and
    pidfile), which starts with no image at all."""
    import docker

    from sciapps.engine import Engine

    binary = shutil.which("dockerd")
    if binary is None:
        _needs("dockerd", "apt-get install docker.io")
    root = Path(tempfile.mkdtemp(prefix="sciapps-runner2-", dir="/var/tmp" if os.access("/var/tmp", os.W_OK) else None))
    socket_path = root / "docker.sock"
    log = open(root / "dockerd.log", "wb")
    proc = subprocess.Popen(
        [
            binary,
            "--data-root", str(root / "data"),
            "--exec-root", str(root / "exec"),
            "--host", f"unix://{socket_path}",
            "--pidfile", str(root / "docker.pid"),
            "--iptables=false",
            "--bridge=none",
            "--containerd-namespace", f"sciapps-runner2-{os.getpid()}",
            "--containerd-plugins-namespace", f"sciapps-runner2-plugins-{os.getpid()}",
        ],
        stdout=log,
        stderr=log,
    )  # fmt: skip
    client = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            client = docker.DockerClient(base_url=f"unix://{socket_path}", timeout=600)
            client.ping()
            break
        except Exception:
            client = None
            time.sleep(0.5)
    if client is None:
        proc.terminate()
        _needs("a second Docker engine", (root / "dockerd.log").read_text(errors="replace")[-500:])
    second = Engine(client=client)
    second.host = f"unix://{socket_path}"  # DOCKER_HOST of a job that runs on this runner
    yield second
    client.close()
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    shutil.rmtree(root, ignore_errors=True)


REGISTRY_STORAGE: dict[str, Path] = {}  # "127.0.0.1:<port>" -> the registry's storage folder, for tampering tests


def _serve_registry(folder: Path, auth: str = ""):
    """Start Debian's docker-registry (a real Distribution registry) on a free loopback port;
    yields "127.0.0.1:<port>"."""
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        _needs("docker-registry", "apt-get install docker-registry")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\n"
        "http: {addr: '127.0.0.1:%d'}\n%s" % (folder / "data", port, auth)
    )
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    REGISTRY_STORAGE[f"127.0.0.1:{port}"] = folder / "data"
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A real Distribution registry (Debian's docker-registry) on a free loopback port, open."""
    yield from _serve_registry(tmp_path_factory.mktemp("registry"))


REGISTRY_USER, REGISTRY_PASSWORD = "sciapps-ci", "deploy-token-7Qx"


@pytest.fixture(scope="session")
def locked_registry(tmp_path_factory):
    """The same registry with htpasswd authentication: REGISTRY_USER / REGISTRY_PASSWORD."""
    import bcrypt

    folder = tmp_path_factory.mktemp("locked-registry")
    hashed = bcrypt.hashpw(REGISTRY_PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
    (folder / "htpasswd").write_text(f"{REGISTRY_USER}:{hashed}\n")
    yield from _serve_registry(folder, "auth: {htpasswd: {realm: sciapps, path: %s}}\n" % (folder / "htpasswd"))


# ---------------------------------------------------------------- order independence checks
def pytest_addoption(parser):
    parser.addoption(
        "--docker-first",
        action="store_true",
        help="Run the tests that use Docker (the `engine` fixture) before all others, to check that "
        "no test depends on what ran before it (with pytest-reverse's --reverse for the other way round).",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--docker-first"):
        items.sort(
            key=lambda item: "engine" not in getattr(item, "fixturenames", ())
        )  # stable: keeps the order within each group
