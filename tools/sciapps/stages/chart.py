"""The chart stage: each datalab's Helm chart written, rendered, linted, validated and
packaged, and pushed when asked (see sciapps.charts)."""

from __future__ import annotations

import hashlib
from typing import Sequence

from sciapps.catalog.model import Datalab
from sciapps.charts.chart import KUBE_VERSION, build_chart, push_chart
from sciapps.config import CHART_PACKAGES, Config, chart_packages, registry_login
from sciapps.errors import SciAppsError
from sciapps import ledger
from sciapps.stages.base import Log, Options, StageReport, Verdict, each_valid

NAME = "chart"
GATES = False
WHOLE_CATALOG = False
SHOWN_AS_CHECK = True
NEEDS = ("build",)  # the image it charts; without it, the released one (a chart-only job)
LEAVES = (f"{CHART_PACKAGES}/",)  # the packaged chart the publication pushes
NEEDS_BASES = False


def argv(ids: Sequence[str], options: Options) -> list[str]:
    return ["chart", *ids, *(["--push"] if options.push else [])]


def released_image(config: Config, lab: Datalab, log: Log) -> tuple[str, str, str] | str | None:
    """When this pipeline built no image of the datalab (its chart only is rendered again,
    `sciapps plan`), the image of its current version's verified release, by digest; a
    string says why there is none. None: the image built here is the one."""
    if ledger.read(config.path_of(config.results_dir), lab.id).built is not None:
        return None
    from sciapps.releases.commands import judge_in_registry

    try:
        judged = judge_in_registry(config, f"{lab.id}@{lab.get('version')}")
    except SciAppsError as exc:
        return f"no image built here, and its release cannot be checked ({exc.message}); run `sciapps build {lab.id}` first"
    if not judged.verified:
        return (
            f"no image built here, and {lab.get('version')} has no verified "
            f"release ({judged.why}); run `sciapps build {lab.id}` first"
        )
    r = judged.release
    log(f"{lab.id}: chart only, for the released image {r.image} ({r.version} build {r.build})")
    return r.repository, r.tag, r.digest


def run(config: Config, labs: Sequence[Datalab], options: Options, log: Log) -> StageReport:
    out = chart_packages(config)

    def work(lab: Datalab) -> Verdict:
        image = released_image(config, lab, log)
        if isinstance(image, str):
            log(f"{lab.id}: chart skipped: {image}")
            return Verdict("skipped", f"chart skipped: {image}"[:300], {"package": None, "problems": [], "pushed": None})
        report = build_chart(config, lab, out, image=image)
        if report.passed and options.push:
            report.pushed = push_chart(report.package, config.charts_oci, registry_login(config))
        for problem in report.problems:
            log(f"{lab.id}: {problem}")
        if report.passed:
            summary = (
                f"chart {report.package.name}: rendered {len(report.manifests)} templates, "
                f"lint and Kubernetes {KUBE_VERSION} schemas clean, restricted profile met"
            )
        else:
            summary = f"chart failed: {len(report.problems)} problem(s)"
        log(f"{lab.id}: {summary}" + (f" (pushed {report.pushed})" if report.pushed else ""))
        return Verdict(
            "passed" if report.passed else "failed",
            summary[:300],
            {
                "package": report.package.name if report.package else None,
                "problems": report.problems,
                "pushed": report.pushed,
                # what the publication's push step checks before it pushes this package
                "sha256": hashlib.sha256(report.package.read_bytes()).hexdigest() if report.package else None,
            },
        )

    return each_valid(config, labs, NAME, "charted", work, log)
