"""The build stage as commands run it: resolve datalabs, validate, build, record results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sciapps.baselock import read_lock
from sciapps.catalog.loader import load_datalab
from sciapps.catalog.model import Datalab
from sciapps.catalog.rules import ALL_RULES
from sciapps.catalog.rules.base import ERROR, Context, Finding
from sciapps.catalog.validate import check_datalab
from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.results import write_result
from sciapps.schema import is_datalab_id


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def resolve(config: Config, ids: list[str]) -> list[Datalab]:
    """Load the named datalabs of the catalog; an unknown id is a usage error."""
    catalog = config.root / "datalabs"
    labs = []
    for datalab_id in ids:
        if not is_datalab_id(datalab_id):
            raise SciAppsError(f"{datalab_id!r} is not a datalab id",
                               "ids are lower-case letters, digits and hyphens; `sciapps validate` lists the catalog")
        folder = catalog / datalab_id
        if not (folder / "datalab.yaml").is_file():
            raise SciAppsError(f"no datalab {datalab_id!r} in {catalog}", "`sciapps validate` lists the catalog; check the spelling")
        labs.append(load_datalab(folder, config.limits))
    return labs


def errors_of(lab: Datalab, config: Config) -> list[Finding]:
    findings = check_datalab(lab, [rule() for rule in ALL_RULES], Context(config=config))
    return [f for f in findings if f.severity == ERROR]


@dataclass
class StageReport:
    passed: list[str]
    failed: list[str]


def record(config: Config, lab: Datalab, stage: str, status: str, summary: str, details: dict | None = None) -> Path:
    """Write a stage result under the datalab's folder name, which `resolve` checked: its
    metadata may name another id (or no valid one) until it validates."""
    return write_result(
        config.path_of(config.results_dir),
        lab.dir_name,
        {"stage": stage, "status": status, "finished": now(), "summary": summary, "datalab_version": str(lab.get("version")), "details": details or {}},
    )


def build_many(config: Config, labs: list[Datalab], push: bool, nocache: bool, log: Callable[[str], None]) -> StageReport:
    from sciapps.images.build import BuildFailed, ImageCheckFailed, build, plan
    from sciapps.images.engine import Engine

    engine = Engine()
    approved = read_lock(config)
    passed, failed = [], []
    for lab in labs:
        problems = errors_of(lab, config)
        if problems:
            for finding in problems:
                log(finding.format())
            record(config, lab, "build", "failed", f"not built: {len(problems)} validation error(s)", {"findings": [f.as_dict() for f in problems]})
            failed.append(lab.id)
            continue
        try:
            outcome = build(engine, plan(lab, config, approved), push=push, nocache=nocache, log=log)
        except (BuildFailed, ImageCheckFailed) as exc:
            log(f"{lab.id}: {exc.message}")
            for line in getattr(exc, "log_tail", [])[-10:]:
                log(f"  | {line}")
            record(config, lab, "build", "failed", exc.message[:300], {"log_tail": getattr(exc, "log_tail", [])})
            failed.append(lab.id)
            continue
        words = {"built": "built", "unchanged": "unchanged, already built", "in-registry": "unchanged, already in the registry"}
        summary = f"{words[outcome.status]}: {outcome.ref}" + (f" in {outcome.seconds:.0f} s" if outcome.status == "built" else "")
        log(f"{lab.id}: {summary}" + (f" (pushed, {outcome.digest})" if push and outcome.digest else ""))
        record(config, lab, "build", "passed", summary, {"ref": outcome.ref, "image_id": outcome.image_id, "digest": outcome.digest,
                                                         "status": outcome.status, "seconds": round(outcome.seconds, 1)})
        passed.append(lab.id)
    return StageReport(passed, failed)


def ensure_image(config: Config, lab: Datalab, log: Callable[[str], None]) -> str:
    """The local image of a datalab, built (or pulled) first when needed."""
    from sciapps.images.build import build, plan
    from sciapps.images.engine import Engine

    problems = errors_of(lab, config)
    if problems:
        for finding in problems:
            log(finding.format())
        raise SciAppsError(f"{lab.id} has validation errors", f"fix them, then run the command again (sciapps validate datalabs/{lab.id})")
    engine = Engine()
    p = plan(lab, config, read_lock(config))
    if engine.image_id(p.ref) is None:
        outcome = build(engine, p, log=log)
        if outcome.status == "in-registry":
            log(f"{lab.id}: pulling {p.ref}")
            engine.client.images.pull(p.ref)
    return p.ref


def test_many(config: Config, labs: list[Datalab], timeout: float, log: Callable[[str], None]) -> StageReport:
    from sciapps.images.engine import Engine
    from sciapps.testing.runner import run_tests

    passed, failed = [], []
    for lab in labs:
        image = ensure_image(config, lab, log)
        report = run_tests(Engine(), lab, image, notebook_timeout=timeout, log=log)
        for check in report.checks:
            if not check.passed:
                log(f"--- {lab.id}: {check.name} failed; its output:")
                for line in check.output.strip().splitlines()[-25:]:
                    log(f"  | {line}")
        status = "passed" if report.passed else "failed"
        record(config, lab, "test", status, report.summary(), {
            "image": image,
            "checks": [{"name": c.name, "passed": c.passed, "seconds": round(c.seconds, 1), "output": c.output[-4000:]} for c in report.checks],
        })
        log(f"{lab.id}: test {status}: {report.summary()}")
        (passed if report.passed else failed).append(lab.id)
    return StageReport(passed, failed)
