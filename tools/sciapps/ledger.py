"""The ledger of one datalab's chain in one pipeline, typed: what each stage concluded, where
the build staged its image (by digest), what the publication pushed.

Jobs hand each other two things: their results, as artifacts (`build/results/<id>/`,
written by `sciapps.results`), and the image, through the registry. The digest is the one
fact that must travel between jobs unchanged, so it has a type here (`Staged`), and every
job that uses the image reads it from here, once (`read`):

- the build pushes what it built to a staging repository (`staging_repository`) and
  records where (`Staged`, in `build.json`'s `details.staged`);
- scan, test, the review image and the publication pull or copy that digest, never a tag,
  and refuse a digest that is not the one recorded;
- one rule says whether a chain checked a version (`why_unchecked`): the publication,
  the moderation report and `sciapps push` all ask it.

The shape of `details.staged` is part of the stage-result schema, which `sciapps schema
generate` writes from `STAGED_SCHEMA`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from sciapps.results import PUSHED, REVIEW_IMAGE, read_pushed, read_results

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# a repository as SciApps names them: <host[:port]>[/path]/<name>, lower case (the distribution spec's grammar, bounded)
REPOSITORY = re.compile(r"[a-z0-9.-]{1,253}(?::[0-9]{1,5})?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*){1,8}")
KINDS = ("staging", "review")  # <registry>/staging/<id> (protected branch), <registry>/review/<id> (merge requests)

STAGED_SCHEMA = {
    "description": "Where the build left the image for the later jobs of its pipeline, which pull or copy it by this "
    "digest only (written by sciapps.ledger).",
    "type": "object",
    "required": ["repository", "digest"],
    "additionalProperties": False,
    "properties": {
        "repository": {"type": "string", "pattern": f"^{REPOSITORY.pattern}$", "maxLength": 400},
        "digest": {"type": "string", "pattern": f"^{DIGEST.pattern}$"},
        "image_id": {"type": ["string", "null"], "pattern": f"^{DIGEST.pattern}$"},
    },
}


def staging_repository(registry: str, kind: str, datalab_id: str) -> str:
    """Where a build stages its image: `<registry>/staging/<id>` on the protected branch,
    `<registry>/review/<id>` in a merge request's pipeline (GitLab's job credentials)."""
    if kind not in KINDS:
        raise ValueError(f"{kind!r} is not a staging repository kind ({', '.join(KINDS)})")
    return f"{registry.rstrip('/')}/{kind}/{datalab_id}"


@dataclass(frozen=True)
class Staged:
    """The image a build left in the registry for the rest of its chain."""

    repository: str
    digest: str
    image_id: str | None = None  # the engine's id of what was built (None: found in the registry, not built here)

    @property
    def pinned(self) -> str:
        return f"{self.repository}@{self.digest}"

    def within(self, registry: str) -> bool:
        """Whether it is in one of the catalog registry's repositories (nowhere else is pulled from)."""
        return self.repository.startswith(registry.rstrip("/") + "/")

    def as_dict(self) -> dict:
        return {"repository": self.repository, "digest": self.digest, "image_id": self.image_id}

    @classmethod
    def of(cls, data: object) -> "Staged | None":
        """The staged image `data` describes, or None when it is not one (checked, field by field)."""
        if not isinstance(data, dict):
            return None
        repository, digest, image_id = data.get("repository"), data.get("digest"), data.get("image_id")
        if not isinstance(repository, str) or not REPOSITORY.fullmatch(repository):
            return None
        if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
            return None
        if image_id is not None and (not isinstance(image_id, str) or not DIGEST.fullmatch(image_id)):
            return None
        return cls(repository, digest, image_id)


@dataclass(frozen=True)
class Check:
    """One stage's verdict on one datalab in this pipeline."""

    stage: str
    status: str  # "passed", "failed" or "skipped"
    summary: str
    version: str
    details: Mapping[str, Any]
    finished: str = ""

    @classmethod
    def of(cls, data: dict) -> "Check":
        details = data.get("details")
        return cls(
            str(data.get("stage", "")),
            str(data.get("status", "")),
            str(data.get("summary", "")),
            str(data.get("datalab_version", "")),
            details if isinstance(details, dict) else {},
            str(data.get("finished", "")),
        )

    @property
    def cited(self) -> dict:
        """What a release record cites of it."""
        return {"status": self.status, "summary": self.summary, "finished": self.finished}


@dataclass(frozen=True)
class Built:
    """What the build made: its release reference, and where it staged it."""

    ref: str  # <registry>/<id>:<version>-<content hash>: the tag a release gets
    image_id: str | None
    staged: Staged | None


@dataclass(frozen=True)
class ChartPackage:
    name: str
    sha256: str


def why_unchecked(checks: Mapping[str, Any], required: Sequence[str], version: str | None, datalab: str = "") -> str | None:
    """The one rule of "checked": every stage of `required` has a verdict on `version` (None:
    any) and that verdict is "passed". `checks` maps a stage to its `Check` or its result
    dict. None when checked, else why not, in one sentence."""
    if not required:
        return "no check is required: refusing to publish what nothing checked"
    for stage in required:
        found = checks.get(stage)
        result = found if isinstance(found, Check) else Check.of(found) if isinstance(found, dict) else None
        if result is None:
            return f"no {stage} result: run `sciapps {stage} {datalab or '<id>'}` in this pipeline first"
        if version is not None and result.version != version:
            return f"the {stage} result is of version {result.version or 'unknown'}, not {version}"
        if result.status != "passed":
            return f"its {stage} did not pass: {result.summary}"
    return None


@dataclass(frozen=True)
class Ledger:
    """Everything this pipeline recorded of one datalab (`read`)."""

    datalab: str
    checks: Mapping[str, Check]
    problems: tuple[str, ...]
    pushed: Mapping[str, Any]
    review_image: Mapping[str, Any]

    def check(self, stage: str) -> Check | None:
        return self.checks.get(stage)

    def passed(self, stage: str) -> bool:
        found = self.checks.get(stage)
        return found is not None and found.status == "passed"

    @property
    def built(self) -> Built | None:
        """The build's image, when the build passed and recorded one."""
        build = self.checks.get("build")
        ref = build.details.get("ref") if build is not None and build.status == "passed" else None
        if not isinstance(ref, str) or not ref:
            return None
        image_id = build.details.get("image_id")
        return Built(ref, image_id if isinstance(image_id, str) else None, Staged.of(build.details.get("staged")))

    @property
    def chart_package(self) -> ChartPackage | None:
        chart = self.checks.get("chart")
        if chart is None or chart.status != "passed":
            return None
        name, sha256 = chart.details.get("package"), chart.details.get("sha256")
        return ChartPackage(name, sha256) if isinstance(name, str) and isinstance(sha256, str) else None

    def why_unchecked(self, required: Sequence[str], version: str | None) -> str | None:
        """Why this pipeline's results do not let this version be published (None: they do)."""
        if self.problems:
            return self.problems[0]
        return why_unchecked(self.checks, required, version, self.datalab)


def read(results_dir: Path | None, datalab_id: str) -> Ledger:
    """The ledger of one datalab: its results (schema-checked; unreadable ones become
    `problems`) and what was pushed of it, read once."""
    found, problems = read_results(results_dir, datalab_id)
    return Ledger(
        datalab_id,
        {stage: Check.of(data) for stage, data in found.items()},
        tuple(problems),
        read_pushed(results_dir, datalab_id, PUSHED),
        read_pushed(results_dir, datalab_id, REVIEW_IMAGE),
    )
