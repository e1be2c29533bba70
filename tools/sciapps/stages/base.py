"""What every stage shares: its options, its report, its verdicts and the gate before its work.

A stage is a module with the same few names (the `Stage` protocol): `NAME`, `GATES`
(later stages need what it makes), `WHOLE_CATALOG` (it looks at every datalab, not only
the changed ones), `SHOWN_AS_CHECK` (its verdict is a row of the store's
Checks and of the moderation report), `NEEDS` (the stages whose results and images it
works on), `LEAVES` (the files it makes beside its results, which later jobs need),
`NEEDS_BASES` (the approved base images must be on the runner), `argv(ids, options)` (the
`sciapps` command that runs it alone) and `run(config, labs, options, log)`, which returns
a `StageReport` after recording one result per datalab with `sciapps.results.record`.

The runners read these and nothing else: `sciapps ci` runs the stages in order, the
GitLab child pipeline has one job per stage and batch (`needs:` from `NEEDS`, artifacts
from `LEAVES`, the script from `argv`), and publication requires a passed result of every
stage shown as a check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

from sciapps.catalog.model import Datalab
from sciapps.catalog.validate import errors_of
from sciapps.config import Config
from sciapps import ledger
from sciapps.results import record

Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """Everything a command line can ask of the stages (each reads what it needs)."""

    push: bool = False
    no_cache: bool = False
    notebook_timeout: float = 600
    osv_mirror: Path | None = None
    policy: Path | None = None
    stage_to: str = ""  # the build's staging repository kind (`ledger.KINDS`): a pipeline's later jobs pull from there


@dataclass(frozen=True)
class Verdict:
    status: str  # "passed", "failed" or "skipped"
    summary: str
    details: dict = field(default_factory=dict)


@dataclass
class StageReport:
    stage: str
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


class Stage(Protocol):
    NAME: str
    GATES: bool
    WHOLE_CATALOG: bool
    SHOWN_AS_CHECK: bool
    NEEDS: tuple[str, ...]
    LEAVES: tuple[str, ...]
    NEEDS_BASES: bool

    def argv(self, ids: Sequence[str], options: Options) -> list[str]: ...

    def run(self, config: Config, labs: Sequence[Datalab], options: Options, log: Log) -> StageReport: ...


def image_of(engine, config: Config, lab: Datalab, log: Log) -> str:
    """The image a later stage works on. In a pipeline, the one the build staged: pulled by
    its digest when it is not on this runner, and refused (`StagedImageRefused`) when the
    registry gives another. Without a staged build (`sciapps scan ID` on a laptop), the
    local image, built first when needed."""
    from sciapps.images.build import ensure_image, staged_image

    built = ledger.read(config.path_of(config.results_dir), lab.id).built
    if built is not None and built.staged is not None:
        return staged_image(engine, built.staged, config.registry, log)
    return ensure_image(engine, config, lab, log)


def keep(config: Config, lab: Datalab, stage: str, verdict: Verdict) -> None:
    """Record one verdict under the datalab's folder name."""
    record(
        config.path_of(config.results_dir),
        lab.dir_name,
        stage,
        verdict.status,
        verdict.summary,
        lab.get("version"),
        verdict.details,
    )


def each_valid(
    config: Config, labs: Sequence[Datalab], stage: str, undone: str, work: Callable[[Datalab], Verdict], log: Log
) -> StageReport:
    """Run `work` on every datalab that validates and record its verdict. A datalab with
    validation errors is recorded as failed ("not <undone>") and nothing of it reaches the
    work: no file name, image or chart is made from metadata that does not validate."""
    report = StageReport(stage)
    for lab in labs:
        problems = errors_of(lab, config)
        if problems:
            for finding in problems:
                log(finding.format())
            verdict = Verdict(
                "failed", f"not {undone}: {len(problems)} validation error(s)", {"findings": [f.as_dict() for f in problems]}
            )
        else:
            verdict = work(lab)
        keep(config, lab, stage, verdict)
        (report.passed if verdict.status != "failed" else report.failed).append(lab.id)
    return report
