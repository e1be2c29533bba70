"""The chart stage: each datalab's Helm chart written, rendered, linted, validated and
packaged, and pushed when asked (see sciapps.charts)."""

from __future__ import annotations

from typing import Sequence

from sciapps.catalog.model import Datalab
from sciapps.charts.chart import KUBE_VERSION, build_chart, push_chart
from sciapps.config import Config, registry_login
from sciapps.stages.base import Log, Options, StageReport, Verdict, each_valid

NAME = "chart"
GATES = False
WHOLE_CATALOG = False
SHOWN_AS_CHECK = True


def argv(ids: Sequence[str], options: Options) -> list[str]:
    return ["chart", *ids, *(["--push"] if options.push else [])]


def run(config: Config, labs: Sequence[Datalab], options: Options, log: Log) -> StageReport:
    out = config.root / "build" / "charts"

    def work(lab: Datalab) -> Verdict:
        report = build_chart(config, lab, out)
        if report.passed and options.push:
            report.pushed = push_chart(report.package, config.charts_oci, registry_login(config))
        for problem in report.problems:
            log(f"{lab.id}: {problem}")
        if report.passed:
            summary = (f"chart {report.package.name}: rendered {len(report.manifests)} templates, "
                       f"lint and Kubernetes {KUBE_VERSION} schemas clean, restricted profile met")
        else:
            summary = f"chart failed: {len(report.problems)} problem(s)"
        log(f"{lab.id}: {summary}" + (f" (pushed {report.pushed})" if report.pushed else ""))
        return Verdict("passed" if report.passed else "failed", summary[:300],
                       {"package": report.package.name if report.package else None, "problems": report.problems, "pushed": report.pushed})

    return each_valid(config, labs, NAME, "charted", work, log)
