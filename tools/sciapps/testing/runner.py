"""`sciapps test`: start a built datalab and check that it works, then remove everything.

1. start the image with the resources from its metadata (host network, free ports);
2. wait until the service answers: JupyterLab's /api, or noVNC's page plus the VNC
   server's RFB greeting and the desktop application's process;
3. run every notebook declared in `tests:` headless inside the container (nbclient's
   `jupyter execute`), each with a timeout;
4. run the datalab's `verify` script, if it ships one;
5. for each parameter set in `tests:`, start the datalab again the way the store launches
   it with those values (the environment its chart gives, the start-up of its base image
   checks them and injects them into a copy of the entry notebook) and run that copy;
6. stop and remove every container, whatever happened (errors, timeouts, Ctrl-C).
"""

from __future__ import annotations

import json
import secrets
import socket
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from sciapps import launchparams
from sciapps.catalog.model import Datalab
from sciapps.datalab_types import TYPES
from sciapps.engine import Container, Engine

LABEL = "int.esa.datalabs.sciapps"
SERVICE_TIMEOUT = 180.0
ENTRYPOINT = "/usr/local/bin/datalab-entrypoint"  # every approved base image has it


MAX_EXECUTED_BYTES = 20 * 2**20  # an executed notebook kept for the moderator, at most


@dataclass
class Check:
    name: str
    passed: bool
    seconds: float
    output: str = ""
    executed: str = ""  # the notebook as it ran, with its outputs (when one ran and was not too large)


@dataclass
class TestReport:
    datalab: str
    image: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def summary(self) -> str:
        failed = [c.name for c in self.checks if not c.passed]
        if not failed:
            return f"{len(self.checks)} check{'s' if len(self.checks) != 1 else ''} passed"
        return f"{len(failed)} of {len(self.checks)} checks failed: {', '.join(failed)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def _rfb(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            return s.recv(12).startswith(b"RFB ")
    except OSError:
        return False


@dataclass
class Service:
    """How to reach a running datalab: its environment, readiness probe and URL."""

    environment: dict[str, str]
    url: str
    probes: list[tuple[str, Callable[[], bool]]]


def launch_environment(parameters: list[dict], values: dict) -> dict[str, str]:
    """The environment a launch gives the container: the declaration its start-up checks
    values against, and each value (`launchparams.read_values`' typed values) as text."""
    if not parameters:
        return {}
    env = {launchparams.SPEC_VARIABLE: json.dumps(parameters, separators=(",", ":"), ensure_ascii=False)}
    env.update({launchparams.env_name(name): launchparams.as_text(value) for name, value in values.items()})
    return env


def opened_entry(lab: Datalab, parameters: list[dict]) -> str:
    """What a launch opens: the injected copy of the entry notebook when the datalab has
    parameters (its start-up writes it), else the entry itself."""
    entry = str(lab.get("entry") or "")
    return launchparams.copy_name(entry) if parameters and entry.endswith(".ipynb") else entry


def service_for(lab: Datalab, host: str = "127.0.0.1", entry: str | None = None) -> Service:
    """Free ports, a token, probes and the URL of one local run, from the datalab's type."""
    kind = TYPES[lab.get("type")]
    port, token = free_port(), secrets.token_hex(16)
    env = {kind.port_variable: str(port)}
    env.update({name: str(free_port()) for name in kind.extra_ports})
    if kind.token_variable:
        env[kind.token_variable] = token
    if kind.host_variable:
        env[kind.host_variable] = host
    if kind.display_variable:  # one X display per container: they share the host's network
        env[kind.display_variable] = str(int(env[(kind.extra_ports or (kind.port_variable,))[0]]) % 1000 + 10)
    probes = [(f"{kind.service} answers on {kind.probe_path}", lambda: _http_ok(f"http://{host}:{port}{kind.probe_path}"))]
    if kind.greets_rfb:
        rfb = int(env[kind.greets_rfb])
        probes.append(("VNC server greets (RFB)", lambda: _rfb(rfb)))
    path = kind.local_path.format(entry=lab.get("entry") if entry is None else entry, token=token)
    return Service(env, f"http://{host}:{port}/{path}", probes)


def start(
    engine: Engine,
    lab: Datalab,
    image: str,
    purpose: str,
    mounts=(),
    environment=None,
    parameters: list[dict] = (),
    values: dict | None = None,
    resources: dict | None = None,
):
    """Start the datalab as a launch would: `parameters` is its declaration
    (`catalog.launching.declared`), `values` a checked launch's typed values (the defaults
    when None), `resources` what the launch asked for (its defaults when None)."""
    resources = resources or lab.get("resources") or {}
    if parameters and values is None:
        values, _ = launchparams.read_values(list(parameters), [])
    service = service_for(lab, entry=opened_entry(lab, list(parameters)))
    name = f"sciapps-{purpose}-{lab.id}-{secrets.token_hex(3)}"
    container = engine.run(
        image,
        name,
        environment={**service.environment, **launch_environment(list(parameters), values or {}), **(environment or {})},
        mounts=list(mounts),
        cpus=resources.get("cpu", 1),
        memory_gb=resources.get("memory_gb", 2),
        labels={LABEL: purpose, "int.esa.datalabs.datalab": lab.id},
    )
    return container, service


def wait_ready(engine: Engine, container: Container, service: Service, timeout: float = SERVICE_TIMEOUT) -> Check:
    begin = time.monotonic()
    pending = list(service.probes)
    while pending and time.monotonic() - begin < timeout:
        if container.status in ("exited", "dead", "removed"):
            logs = container.logs(tail=40)
            return Check("service starts", False, time.monotonic() - begin, f"the container stopped:\n{logs}")
        pending = [(name, probe) for name, probe in pending if not probe()]
        if pending:
            time.sleep(0.5)
    seconds = time.monotonic() - begin
    if pending:
        logs = container.logs(tail=40)
        return Check("service starts", False, seconds, f"no answer after {timeout:.0f} s: {pending[0][0]}\n{logs}")
    return Check("service starts", True, seconds, "; ".join(name for name, _ in service.probes))


def run_tests(
    engine: Engine,
    lab: Datalab,
    image: str,
    notebook_timeout: float = 600,
    log: Callable[[str], None] = print,
    parameters: list[dict] = (),
) -> TestReport:
    """Test a built datalab; `parameters` is its declaration (`catalog.launching.declared`),
    which its parameter sets in `tests:` are launched with."""
    report = TestReport(lab.id, image)
    container = None
    try:
        container, service = start(engine, lab, image, "test", parameters=parameters)
        check = wait_ready(engine, container, service)
        report.checks.append(check)
        log(f"{lab.id}: {'ok  ' if check.passed else 'FAIL'} {check.name} ({check.seconds:.1f} s)")
        if not check.passed:
            return report
        if TYPES[lab.get("type")].app_process:
            report.checks.append(_app_running(engine, container, lab))
        for notebook in [t for t in lab.get("tests") or [] if isinstance(t, str)]:
            report.checks.append(_notebook(engine, container, notebook, notebook_timeout))
            c = report.checks[-1]
            log(f"{lab.id}: {'ok  ' if c.passed else 'FAIL'} {c.name} ({c.seconds:.1f} s)")
        if lab.file("verify") is not None:
            report.checks.append(_verify(engine, container, notebook_timeout))
            c = report.checks[-1]
            log(f"{lab.id}: {'ok  ' if c.passed else 'FAIL'} {c.name} ({c.seconds:.1f} s)")
        engine.remove(container)
        container = None
        for number, item in enumerate([t for t in lab.get("tests") or [] if isinstance(t, dict)], 1):
            report.checks.append(_parameter_set(engine, lab, image, list(parameters), number, item, notebook_timeout))
            c = report.checks[-1]
            log(f"{lab.id}: {'ok  ' if c.passed else 'FAIL'} {c.name} ({c.seconds:.1f} s)")
        return report
    finally:
        if container is not None:
            engine.remove(container)


def _parameter_set(engine: Engine, lab: Datalab, image: str, parameters: list[dict], number: int, item: dict, timeout: float):
    """Launch the datalab with one parameter set, as the store would, and run the entry
    notebook with the values its start-up injected."""
    name = f"parameter set {number} ({', '.join(f'{k}={launchparams.as_text(v)}' for k, v in item['parameters'].items())[:120]})"
    begin = time.monotonic()
    given = [(k, launchparams.as_text(v)) for k, v in item["parameters"].items()]
    values, problems = launchparams.read_values(parameters, given)
    if problems:
        return Check(name, False, 0.0, f"not a launch the store would start: {problems[0]}")
    entry = str(lab.get("entry") or "")
    if not entry.endswith(".ipynb"):
        return Check(name, False, 0.0, "parameter sets run the entry notebook, and this datalab's entry is not one")
    container = None
    try:
        container, service = start(engine, lab, image, "test", parameters=parameters, values=values)
        ready = wait_ready(engine, container, service)
        if not ready.passed:
            return Check(name, False, time.monotonic() - begin, ready.output)
        check = _notebook(engine, container, launchparams.copy_name(entry), timeout)
        return Check(name, check.passed, time.monotonic() - begin, check.output, check.executed)
    finally:
        if container is not None:
            engine.remove(container)


def _notebook(engine: Engine, container, notebook: str, timeout: float) -> Check:
    folder, _, name = notebook.rpartition("/")
    workdir = f"/home/datalab/work/{folder}" if folder else "/home/datalab/work"
    output = f"/tmp/sciapps-test-{secrets.token_hex(4)}.ipynb"
    begin = time.monotonic()
    # Through the entry point, so the datalab's `start` script shapes the kernel's environment too.
    command = [ENTRYPOINT, "jupyter", "execute", f"--timeout={int(timeout)}", f"--output={output}", name]
    code, text = engine.exec(container, command, timeout=timeout + 30, workdir=workdir)
    seconds = time.monotonic() - begin
    if code is None:
        return Check(
            f"notebook {notebook}", False, seconds, f"timed out: still running after {timeout:.0f} s, stopped\n{text[-2000:]}"
        )
    if "CellTimeoutError" in text:
        text = f"timed out: a cell ran longer than {timeout:.0f} s\n{text}"
    # the notebook as it ran, outputs and all, for the moderator (bounded: `head -c`, then dropped when cut)
    _, executed = engine.exec(container, ["head", "-c", str(MAX_EXECUTED_BYTES + 1), output], timeout=60)
    executed = executed if executed.startswith("{") and len(executed.encode()) <= MAX_EXECUTED_BYTES else ""
    return Check(
        f"notebook {notebook}",
        code == 0,
        seconds,
        text[-4000:] if len(text) <= 4000 else text[:200] + "\n...\n" + text[-3800:],
        executed,
    )


def _verify(engine: Engine, container, timeout: float) -> Check:
    begin = time.monotonic()
    code, text = engine.exec(container, [ENTRYPOINT, "./verify"], timeout=timeout, workdir="/home/datalab/work")
    passed = code == 0
    note = "" if code is not None else f"timed out: still running after {timeout:.0f} s, stopped\n"
    return Check("verify script", passed, time.monotonic() - begin, note + text[-4000:])


def _app_running(engine: Engine, container, lab: Datalab) -> Check:
    """The desktop application the datalab opens has a process (checked for a while)."""
    app = str(lab.get("entry")).split()[0]
    begin = time.monotonic()
    script = (
        f'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done | grep -F -- "{app}" | grep -v -F /proc/'
    )
    while time.monotonic() - begin < 60:
        code, text = engine.exec(container, ["sh", "-c", script], timeout=10)
        if code == 0:
            return Check(f"application {app} runs", True, time.monotonic() - begin, text.strip()[:300])
        time.sleep(1)
    return Check(f"application {app} runs", False, time.monotonic() - begin, "no process of it after 60 s")
