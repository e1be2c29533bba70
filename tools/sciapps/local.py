"""What a developer does with one datalab on their own machine: run it, or launch it into
the cluster of their kubeconfig. Both start from the same stages' work (an image, a chart)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from sciapps.catalog.launching import check_request, declared, require, resource_problem
from sciapps.catalog.loader import resolve
from sciapps.catalog.validate import errors_of
from sciapps.charts.chart import build_chart, pull_chart
from sciapps.charts.launch import launch as apply_chart
from sciapps.config import KUBERNETES_NAMESPACE, Config, chart_packages, registry_login
from sciapps.datalab_types import TYPES
from sciapps.engine import Engine
from sciapps.errors import Refused, SciAppsError
from sciapps.images.build import ensure_image
from sciapps.testing.runner import start, wait_ready

Log = Callable[[str], None]


def _valid(config: Config, datalab_id: str, log: Log):
    (lab,) = resolve(config, [datalab_id])
    problems = errors_of(lab, config)
    if problems:
        for finding in problems:
            log(finding.format())
        raise SciAppsError(
            f"{lab.id} has validation errors", f"fix them, then run the command again (sciapps validate datalabs/{lab.dir_name})"
        )
    return lab


def run_locally(
    config: Config,
    datalab_id: str,
    data_root: Path,
    log: Log,
    poll_s: float = 1.0,
    params: list[tuple[str, str]] = (),
    resources: dict | None = None,
    until_ready: bool = False,
) -> tuple | None:
    """Start a datalab with its data assets mounted read-only and the launch's parameter
    values and resources (checked first: a bad value starts nothing), print its URL, and
    keep it until it stops or Ctrl-C; the container is removed whatever happens. With
    `until_ready`, return (engine, container, service) once it answers instead: the
    caller removes the container."""
    lab = _valid(config, datalab_id, log)
    request = require(check_request(lab.metadata, config, list(params), resources), lab.id)
    parameters = declared(lab.metadata, config)
    engine = Engine(login=registry_login(config))
    image = ensure_image(engine, config, lab, log)
    mounts = []
    for asset in lab.get("data_assets") or []:
        host = (data_root / asset["mission"] / asset["collection"]).absolute()
        if not host.is_dir():
            host.mkdir(parents=True)
            log(f"no local copy of {asset['collection']}: mounting the empty folder {host}")
        mounts.append((str(host), asset["mount"], asset.get("read_only", True)))
    for name, value in request.values.items():
        log(f"parameter {name} = {value!r}")
    container, service = start(
        engine, lab, image, "run", mounts, parameters=parameters, values=request.values, resources=request.resources
    )
    kept = False
    try:
        check = wait_ready(engine, container, service)
        if not check.passed:
            raise SciAppsError(
                f"{lab.id} did not start: {check.output.strip().splitlines()[0]}",
                "see the log above; `docker logs` is gone with the container",
            )
        if until_ready:
            kept = True
            return engine, container, service
        log(f"{lab.get('name')} is running. Open:\n  {service.url}\nCtrl-C stops it and removes the container.")
        while True:
            if container.status in ("exited", "dead", "removed"):
                log(container.logs(tail=20))
                raise SciAppsError(f"{lab.id} stopped by itself", "the log above says why")
            time.sleep(poll_s)
    except KeyboardInterrupt:
        log("Stopping.")
    finally:
        if not kept:
            engine.remove(container)
    return None


def _release_chart(release, workdir: Path, login) -> Path:
    """The published chart of a release, pulled from its OCI repository and checked
    against the package digest its signed record names."""
    import hashlib

    chart = release.chart
    if chart is None:
        raise Refused(f"the release record of {release.datalab} {release.version} names no chart", "publish it again")
    pull_chart(chart.uri, chart.digest, workdir, login)  # by digest: the tag may have moved to a later build
    packages = sorted(workdir.glob("*.tgz"))
    if len(packages) != 1 or hashlib.sha256(packages[0].read_bytes()).hexdigest() != chart.package_sha256:
        raise Refused(
            f"the chart {chart.uri} {chart.version} in the registry is not the one its signed record names",
            "the registry was changed after publication: ask the catalog's operators",
        )
    return packages[0]


def launch(
    config: Config,
    spec: str,
    namespace: str = KUBERNETES_NAMESPACE,
    release: str | None = None,
    kubeconfig: Path | None = None,
    allow_unverified: bool = False,
    log: Log = print,
    params: list[tuple[str, str]] = (),
    resources: dict | None = None,
) -> list[str]:
    """Install a published datalab version (`ID[@VERSION]`) by its image digest, once its
    release record verifies; with `allow_unverified`, a development install of what is here.
    `params` and `resources` are the launch's: checked against the chart's declaration
    and bounds before anything is applied, then given to the chart (`params`, `resources`)."""
    import tempfile

    import helm_python as helm

    from sciapps.releases.commands import judge_in_registry, parse_spec
    from sciapps.releases.registry import RegistryUnreachable

    datalab_id, version = parse_spec(spec)
    try:
        judged = judge_in_registry(config, spec)
    except (RegistryUnreachable, SciAppsError) as exc:
        if not allow_unverified:
            raise
        judged, reason = None, str(exc).splitlines()[0]
    else:
        reason = judged.why
    with tempfile.TemporaryDirectory(prefix="sciapps-launch-") as tmp:
        if judged is not None and judged.verified:
            r = judged.release
            package = _release_chart(r, Path(tmp), registry_login(config))
            log(f"verified: {r.datalab} {r.version} build {r.build}, {r.image}")
        elif not allow_unverified:
            raise Refused(
                f"refusing to launch {spec}: not verified: {reason}",
                "launch a version whose record verifies (`sciapps verify "
                "ID@VERSION`); --allow-unverified is for development only",
            )
        else:
            review = _review_image(config, datalab_id, version)
            if review is not None:
                log(
                    f"WARNING: launching a PREVIEW: {review[0]}@{review[2]} is a merge request's review image "
                    f"({review[1]}), unreviewed and unsigned: for trying it out only, never for a published environment"
                )
            else:
                log(f"WARNING: launching {spec} unverified ({reason}): for development only, never for a published environment")
            lab = _valid(config, datalab_id, log)
            report = build_chart(config, lab, chart_packages(config), image=review)
            if not report.passed:
                raise SciAppsError(
                    f"{lab.id}'s chart has problems: {report.problems[0]}", f"run `sciapps chart {lab.id}` to see them all"
                )
            package, r = report.package, None
        values = helm.Chart.load(package).values
        if r is not None:  # by digest, never by tag: the image exactly as its record names it
            values["image"] = {**values.get("image", {}), "repository": r.repository, "digest": r.digest, "tag": r.tag}
        values.update(launch_values(values, datalab_id, list(params), resources or {}))
        release = release or datalab_id
        applied = apply_chart(package, values, release, namespace, kubeconfig)
    log(f"applied {', '.join(applied)} in namespace {namespace}.")
    kind = TYPES[values["datalab"]["type"]]
    name = release if datalab_id in release else f"{release}-{datalab_id}"
    log(
        f"Reach it: kubectl --namespace {namespace} port-forward deployment/{name} 8080:{kind.port}\n"
        f"then open http://127.0.0.1:8080/{kind.launch_path}"
    )
    return applied


def _review_image(config: Config, datalab_id: str, version: str | None) -> tuple[str, str, str] | None:
    """(repository, tag, digest) when `version` is the digest of one of the datalab's review
    images (`<registry>/review/<id>`), else None."""
    from sciapps.config import review_repository
    from sciapps.releases.commands import registry_of, review_tag
    from sciapps.releases.registry import RegistryUnreachable

    if not version or not version.startswith("sha256:"):
        return None
    try:
        tag = review_tag(config, registry_of(config), datalab_id, version)
    except (RegistryUnreachable, SciAppsError):
        return None
    return (review_repository(config, datalab_id), tag, version) if tag else None


def launch_values(values: dict, datalab_id: str, params: list[tuple[str, str]], asked: dict) -> dict:
    """The chart values a launch sets: `params` and `resources`, checked against what the
    chart itself declares (`datalab.parameters`, `resources`, `resourceBounds`), which for a
    release is what its signed chart says, not what the catalog says today."""
    from sciapps import launchparams
    from sciapps.charts.chart import RESOURCE_VALUES

    declared_here = list((values.get("datalab") or {}).get("parameters") or [])
    typed, problems = launchparams.read_values(declared_here, params)
    chart_resources = dict(values.get("resources") or {})
    most = values.get("resourceBounds") or {}
    for name, amount in asked.items():
        if amount is None:
            continue
        key = RESOURCE_VALUES[name]
        if problem := resource_problem(name, amount, most.get(key, chart_resources.get(key)), datalab_id):
            problems.append(problem)
        chart_resources[key] = amount
    if problems:
        raise Refused(
            f"refusing to launch {datalab_id}: {problems[0]}",
            "give values of the declared types, and resources within the datalab's bounds (its page lists both)",
        )
    given = {name for name, _ in params}
    return {
        "params": {name: launchparams.as_text(v) for name, v in typed.items() if name in given},
        "resources": chart_resources,
    }
