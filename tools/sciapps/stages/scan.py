"""The scan stage: every scanner on each datalab and its image, the policy gate, the reports
(see sciapps.scanning). This is where the image's build inputs meet the scanners."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Sequence

from sciapps.baselock import read_lock
from sciapps.buildfiles import DOCKERFILE, MAX_DOCKERFILE_BYTES
from sciapps.catalog.model import Datalab
from sciapps.config import Config, registry_login
from sciapps.engine import Engine
from sciapps.errors import SciAppsError
from sciapps.images.build import StagedImageRefused, plan
from sciapps.safefiles import UnsafeFile
from sciapps.scanning import reports
from sciapps.scanning.policy import Policy, load_policy
from sciapps.scanning.reports import ScanReport
from sciapps.scanning.scan import scan
from sciapps.scanning.target import Target
from sciapps.text import shown_path
from sciapps.stages.base import Log, Options, StageReport, Verdict, each_valid, image_of, keep

NAME = "scan"
GATES = False
WHOLE_CATALOG = False
SHOWN_AS_CHECK = True
NEEDS = ("build",)
LEAVES: tuple[str, ...] = ()
NEEDS_BASES = True  # the approved base the image must start with, to compare layers and setuid files


def argv(ids: Sequence[str], options: Options) -> list[str]:
    return [
        "scan",
        *ids,
        *(["--osv-mirror", str(options.osv_mirror)] if options.osv_mirror else []),
        *(["--policy", str(options.policy)] if options.policy else []),
    ]


def _own_dockerfile(lab: Datalab) -> str:
    try:
        return lab.read(DOCKERFILE, MAX_DOCKERFILE_BYTES).decode("utf-8", "replace")
    except UnsafeFile:  # none, or one that validation refuses
        return ""


def make_target(config: Config, lab: Datalab, image: str | None, policy: Policy, osv_mirror: Path) -> Target:
    """What the scanners look at: the Dockerfile as its authors wrote it (advanced) or as
    SciApps writes it (basic), the image, and the approved base it must be built on."""
    dockerfile, name, base = "", "Dockerfile", None
    try:
        p = plan(lab, config, read_lock(config))
        dockerfile, base, name = p.dockerfile, p.bases[-1].image_id, "Dockerfile (generated)"
        if lab.get("mode") == "advanced":  # lint the file as its authors wrote it, not with pinned bases
            dockerfile, name = _own_dockerfile(lab), "Dockerfile"
    except SciAppsError:  # no approved bases here: lint the own Dockerfile, if any
        dockerfile = _own_dockerfile(lab)
    return Target(
        lab,
        config,
        dockerfile,
        name,
        image,
        base,
        osv_mirror,
        policy.image_size_mb,
        config.path_of(config.results_dir) / lab.dir_name,
    )


def _scan(
    config: Config,
    lab: Datalab,
    image: str | None,
    policy: Policy,
    osv_mirror: Path,
    log: Log,
    today: datetime.date | None = None,
) -> tuple[ScanReport, Target, Verdict]:
    target = make_target(config, lab, image, policy, osv_mirror)
    report = scan(target, policy, log=log, today=today)
    details = reports.write_all(target, report)
    return report, target, Verdict("passed" if report.passed else "failed", report.summary()[:300], details)


def scan_one(
    config: Config,
    lab: Datalab,
    image: str | None,
    policy: Policy,
    osv_mirror: Path,
    log: Log,
    today: datetime.date | None = None,
) -> tuple[ScanReport, Target]:
    """Scan one datalab with an image at hand, write its reports and record the verdict."""
    report, target, verdict = _scan(config, lab, image, policy, osv_mirror, log, today)
    keep(config, lab, NAME, verdict)
    return report, target


def run(config: Config, labs: Sequence[Datalab], options: Options, log: Log) -> StageReport:
    policy = load_policy(options.policy or config.path_of(config.scan_policy))
    mirror = options.osv_mirror or config.path_of(config.osv_mirror)
    engine = Engine(login=registry_login(config))

    def work(lab: Datalab) -> Verdict:
        try:
            image = image_of(engine, config, lab, log)
        except StagedImageRefused as exc:
            log(f"{lab.id}: not scanned: {exc.message}")
            return Verdict("failed", f"not scanned: {exc.message}"[:300], {"refused": exc.message})
        report, target, verdict = _scan(config, lab, image, policy, mirror, log)
        for judged in report.blocking:
            f = judged.finding
            where = f"{f.package} {f.version}" if f.package else f"{f.file or ''}{':' + str(f.line) if f.line else ''}"
            log(f"{lab.id}: BLOCKS {f.severity} {f.rule} {f.title} [{where}] ({judged.why})")
        for outcome in report.failed_scanners:
            log(f"{lab.id}: scanner {outcome.scanner} failed: {outcome.message.strip()}")
        log(f"{lab.id}: scan {report.summary()} (details: {shown_path(target.workdir / 'scan.md')})")
        return verdict

    return each_valid(config, labs, NAME, "scanned", work, log)
