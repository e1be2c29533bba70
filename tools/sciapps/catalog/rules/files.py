"""Rules about the files of a datalab: where they are, whether they exist, how big they are."""

from __future__ import annotations

import re
from typing import Iterator

from sciapps.catalog.rules.base import Context, Finding, Rule
from sciapps.catalog.rules.schema import SCHEMA_RULES

_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
IMAGE_ROLES = ("screenshot", "icon")


def path_problem(relpath: str) -> str | None:
    """Why a path written in metadata cannot name a file inside the datalab, if it cannot."""
    if relpath.startswith("/") or re.match(r"^[A-Za-z]:", relpath):
        return "is an absolute path"
    if _BAD_CHARS.search(relpath):
        return "contains a backslash or a control character"
    if ".." in relpath.split("/"):
        return "goes up with '..'"
    return None


class PathOutsideDatalab(Rule):
    """A path in datalab.yaml points outside the datalab directory

    Paths (entry, tests, screenshots, icon) are relative to the datalab's directory and
    stay inside it: no leading `/`, no `..`, forward slashes only. Only the directory is
    copied into the image and reviewed, so anything outside would be missing or unchecked.
    """

    id = "DL-030"
    requires = SCHEMA_RULES
    hint = "write the path relative to the datalab directory, e.g. notebooks/analysis.ipynb"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for path, relpath, _ in lab.references():
            problem = path_problem(relpath)
            if problem:
                yield self.finding(lab, f"{relpath!r} {problem}", path=path)


class MissingFile(Rule):
    """A file named in datalab.yaml does not exist

    The entry notebook, test notebooks, screenshots and icon must be files in the datalab
    directory, with the exact name (names are case-sensitive).
    """

    id = "DL-031"
    requires = (*SCHEMA_RULES, PathOutsideDatalab)

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for path, relpath, role in lab.references():
            entry = lab.file(relpath.removeprefix("./"))
            if entry is None or entry.kind == "special":
                folder_names = {e.path.lower(): e.path for e in lab.files}
                other = folder_names.get(relpath.lower())
                hint = (
                    f"did you mean {other!r}? (names are case-sensitive)" if other else f"add the {role} file or correct the path"
                )
                yield self.finding(lab, f"{role} {relpath!r} does not exist", path=path, hint=hint)


class UnsafeLink(Rule):
    """A symlink leaves the datalab directory, is broken, or a file is not a regular file

    Symlinks are kept only when they point to a file inside the datalab; one pointing
    elsewhere (`/etc/passwd`, `../other-datalab`) would smuggle outside content into the
    image, and a broken one fails the build. Pipes, sockets and devices are refused.
    """

    id = "DL-032"
    needs_metadata = False
    hint = "replace the link with a copy of the file, or remove it"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for entry in lab.files:
            if entry.kind == "symlink" and not entry.link_inside:
                yield self.finding(lab, "symlink points outside the datalab or to nothing", file=entry.path, line=None)
            elif entry.kind == "special":
                yield self.finding(lab, "is not a regular file (pipe, socket or device)", file=entry.path, line=None)


def _limit_for(lab, relpath: str, ctx: Context, image_files: set[str]) -> tuple[int, str]:
    limits = ctx.config.limits
    if relpath.endswith(".ipynb"):
        return limits.bytes("notebook_mb"), "limits.notebook_mb"
    if relpath in image_files:
        return limits.bytes("image_mb"), "limits.image_mb"
    return limits.bytes("file_mb"), "limits.file_mb"


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


class FileTooLarge(Rule):
    """A file is larger than its size limit

    Datalabs are reviewed in merge requests and copied into images: notebooks stay under
    `limits.notebook_mb`, screenshots and icons under `limits.image_mb`, other files under
    `limits.file_mb` (sciapps.yaml). Clear notebook outputs before committing
    (`jupyter nbconvert --clear-output --inplace`), ship a small data sample and mount the
    full data set as a data asset. A moderator may accept an exception:

    ```yaml
    exceptions:
      - rule: DL-033
        reason: the 30 MB calibration table is needed offline
    ```
    """

    id = "DL-033"
    needs_metadata = False
    exceptable = True

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        images = {rel for _, rel, role in lab.references() if role in IMAGE_ROLES}
        for entry in lab.files:
            limit, setting = _limit_for(lab, entry.path, ctx, images)
            if entry.size > limit:
                hint = (
                    "clear its outputs: jupyter nbconvert --clear-output --inplace FILE"
                    if entry.path.endswith(".ipynb")
                    else "ship a smaller sample and mount the full data as a data asset"
                )
                yield self.finding(
                    lab, f"is {_mb(entry.size)}, over the {_mb(limit)} limit ({setting})", file=entry.path, line=None, hint=hint
                )


class DatalabTooLarge(Rule):
    """The datalab directory has too many files or is too large in total

    A datalab is reviewed file by file and copied into an image; `limits.max_files` and
    `limits.datalab_mb` in sciapps.yaml bound both. Mount large data as a data asset
    rather than committing it.
    """

    id = "DL-034"
    needs_metadata = False
    exceptable = True
    hint = "move data into a data asset (data_assets:) and keep a small sample"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        limits = ctx.config.limits
        if lab.files_truncated:
            yield self.finding(lab, f"has more than {limits.max_files} files (limits.max_files)", file=".")
        total = sum(entry.size for entry in lab.files)
        if total > limits.bytes("datalab_mb"):
            yield self.finding(
                lab, f"holds {_mb(total)}, over the {_mb(limits.bytes('datalab_mb'))} limit (limits.datalab_mb)", file="."
            )
