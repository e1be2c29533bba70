"""What a developer does with one datalab on their own machine: run it, or launch it into
the cluster of their kubeconfig. Both start from the same stages' work (an image, a chart)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from sciapps.catalog.loader import resolve
from sciapps.catalog.validate import errors_of
from sciapps.charts.chart import build_chart
from sciapps.charts.launch import launch as apply_chart
from sciapps.config import KUBERNETES_NAMESPACE, Config
from sciapps.datalab_types import TYPES
from sciapps.engine import Engine
from sciapps.errors import SciAppsError
from sciapps.images.build import ensure_image
from sciapps.testing.runner import start, wait_ready

Log = Callable[[str], None]


def _valid(config: Config, datalab_id: str, log: Log):
    (lab,) = resolve(config, [datalab_id])
    problems = errors_of(lab, config)
    if problems:
        for finding in problems:
            log(finding.format())
        raise SciAppsError(f"{lab.id} has validation errors", f"fix them, then run the command again (sciapps validate datalabs/{lab.dir_name})")
    return lab


def run_locally(config: Config, datalab_id: str, data_root: Path, log: Log, poll_s: float = 1.0) -> None:
    """Start a datalab with its data assets mounted read-only, print its URL, and keep it
    until it stops or Ctrl-C; the container is removed whatever happens."""
    lab = _valid(config, datalab_id, log)
    engine = Engine()
    image = ensure_image(engine, config, lab, log)
    mounts = []
    for asset in lab.get("data_assets") or []:
        host = (data_root / asset["mission"] / asset["collection"]).absolute()
        if not host.is_dir():
            host.mkdir(parents=True)
            log(f"no local copy of {asset['collection']}: mounting the empty folder {host}")
        mounts.append((str(host), asset["mount"], asset.get("read_only", True)))
    container, service = start(engine, lab, image, "run", mounts)
    try:
        check = wait_ready(engine, container, service)
        if not check.passed:
            raise SciAppsError(f"{lab.id} did not start: {check.output.strip().splitlines()[0]}", "see the log above; `docker logs` is gone with the container")
        log(f"{lab.get('name')} is running. Open:\n  {service.url}\nCtrl-C stops it and removes the container.")
        while True:
            if container.status in ("exited", "dead", "removed"):
                log(container.logs(tail=20))
                raise SciAppsError(f"{lab.id} stopped by itself", "the log above says why")
            time.sleep(poll_s)
    except KeyboardInterrupt:
        log("Stopping.")
    finally:
        engine.remove(container)


def launch(config: Config, datalab_id: str, namespace: str = KUBERNETES_NAMESPACE, release: str | None = None,
           kubeconfig: Path | None = None, log: Log = print) -> list[str]:
    """Install a datalab's chart into the cluster and say how to reach it."""
    import helm_python as helm

    lab = _valid(config, datalab_id, log)
    report = build_chart(config, lab, config.root / "build" / "charts")
    if not report.passed:
        raise SciAppsError(f"{lab.id}'s chart has problems: {report.problems[0]}", f"run `sciapps chart {lab.id}` to see them all")
    values = helm.Chart.load(report.package).values
    release = release or lab.id
    applied = apply_chart(report.package, values, release, namespace, kubeconfig)
    log(f"applied {', '.join(applied)} in namespace {namespace}.")
    kind = TYPES[lab.get("type")]
    name = release if lab.id in release else f"{release}-{lab.id}"
    log(f"Reach it: kubectl --namespace {namespace} port-forward deployment/{name} 8080:{kind.port}\n"
        f"then open http://127.0.0.1:8080/{kind.launch_path}")
    return applied
