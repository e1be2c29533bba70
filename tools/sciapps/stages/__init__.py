"""The stages of a datalab's journey, one module each, and the one list that orders them.

`STAGES` is read by `sciapps ci` (which calls each stage's `run`), by the review and the
store's Checks section (which show the verdicts in this order), and by the stage-result
schema, whose `stage` enum `sciapps schema generate` writes from it. Adding a stage is a
module of the same shape (`sciapps.stages.base.Stage`) and one entry here.
"""

from __future__ import annotations

from sciapps.stages import build, chart, scan, test, validate
from sciapps.stages.base import Options, Stage, StageReport

STAGES: tuple[Stage, ...] = (validate, build, scan, test, chart)


def by_name(name: str) -> Stage:
    return next(stage for stage in STAGES if stage.NAME == name)


def checks() -> tuple[str, ...]:
    """The stages whose verdicts are shown as checks, in order."""
    return tuple(stage.NAME for stage in STAGES if stage.SHOWN_AS_CHECK)


__all__ = ["Options", "STAGES", "Stage", "StageReport", "by_name", "checks"]
