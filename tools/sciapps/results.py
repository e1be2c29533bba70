"""Stage results: one JSON file per datalab and stage, the contract between stages.

`<results>/<datalab id>/<stage>.json`, e.g. `build/results/gaia-dr3-hrd/scan.json`, each
with at least `stage`, `status` (`passed`, `failed` or `skipped`), `finished` (ISO 8601)
and a one-line `summary`; the full shape is in schemas/stage-result.schema.json. Stages
write them with `record`; every job reads them through `sciapps.ledger`, typed.

The stage names, in pipeline order, are the schema's `stage` enum, which `sciapps schema
generate` writes from the one ordered list of stages (`sciapps.stages.STAGES`).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import jsonschema

from sciapps.resources import schemas_dir
from sciapps.schema import is_datalab_id

SCHEMA_FILE = "stage-result.schema.json"


@cache
def _schema() -> dict:
    with open(schemas_dir() / SCHEMA_FILE, encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_schema())


def stage_names() -> tuple[str, ...]:
    """Every stage that records a result, in the pipeline's order."""
    return tuple(_schema()["properties"]["stage"]["enum"])


class ResultError(ValueError):
    pass


def write_result(results_dir: Path, datalab_id: str, result: dict) -> Path:
    """Write one stage result atomically (a reader never sees half a file)."""
    if not is_datalab_id(datalab_id):
        raise ResultError(f"stage result for {datalab_id!r}: not a valid datalab id, so it names no folder")
    error = jsonschema.exceptions.best_match(_validator().iter_errors(result))
    if error is not None:
        raise ResultError(f"stage result for {datalab_id}: {error.message}")
    folder = results_dir / datalab_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{result['stage']}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{result['stage']}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, sort_keys=True)
    os.replace(tmp, target)
    return target


def record(
    results_dir: Path, name: str, stage: str, status: str, summary: str, version: object, details: dict | None = None
) -> Path:
    """Write one stage's verdict on one datalab, stamped now. `name` is the datalab's folder
    name: its metadata may name another id (or no valid one) until it validates."""
    return write_result(
        results_dir,
        name,
        {
            "stage": stage,
            "status": status,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "summary": summary,
            "datalab_version": str(version),
            "details": details or {},
        },
    )


def read_results(results_dir: Path | None, datalab_id: str) -> tuple[dict[str, dict], list[str]]:
    """({stage: result}, [problems]) for one datalab; unreadable files become problems, not errors."""
    found: dict[str, dict] = {}
    problems: list[str] = []
    folder = results_dir / datalab_id if results_dir and is_datalab_id(datalab_id) else None
    if folder is None or not folder.is_dir():
        return found, problems
    for stage in stage_names():
        path = folder / f"{stage}.json"
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{path}: not readable JSON ({exc})")
            continue
        error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
        if error is not None:
            problems.append(f"{path}: {error.message}")
            continue
        found[stage] = data
    return found, problems


# What the publication's push step pushed of a datalab (`sciapps push`), beside its results:
# {"image": {"ref", "image_id", "digest"}, "chart": {"ref", "package", "sha256", "digest"}}.
# The release record cites these, and the push step writes them only for what this
# pipeline's results checked.
PUSHED = "pushed.json"
MAX_PUSHED_BYTES = 64 * 1024


REVIEW_IMAGE = "review-image.json"  # a merge request's image in <registry>/review/<id>: never a release


def write_pushed(results_dir: Path, datalab_id: str, pushed: dict, name: str = PUSHED) -> Path:
    if not is_datalab_id(datalab_id):
        raise ResultError(f"push record for {datalab_id!r}: not a valid datalab id, so it names no folder")
    folder = results_dir / datalab_id
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(pushed, fh, indent=2, sort_keys=True)
    os.replace(tmp, folder / name)
    return folder / name


def read_pushed(results_dir: Path | None, datalab_id: str, name: str = PUSHED) -> dict:
    """What this pipeline pushed of the datalab ({} when nothing, or nothing readable);
    `name`: the release push (`PUSHED`) or the review image (`REVIEW_IMAGE`)."""
    path = results_dir / datalab_id / name if results_dir and is_datalab_id(datalab_id) else None
    if path is None or not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_PUSHED_BYTES:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
