"""Authorise, then execute: what a merge request's own pipeline runs, and what waits.

A merge request is hostile until a moderator approves it. Every job of a pipeline that is
not the protected default branch's starts with the same setup (`SETUP`, the `default:` of
`.gitlab-ci.yml` and of the child pipeline `sciapps plan` writes):

0. the one revision it trusts is the protected default branch's head, fetched by name
   (`_REVISION`), never the merge base (which only says what changed) nor a branch the
   author can push to: a merge request into any other branch runs nothing;
1. SciApps is installed from that revision into a folder outside the checkout, with
   the interpreter isolated (`python3 -I`, run from that folder), so nothing in the
   checkout (a `venv/` or `sitecustomize.py` at its root, a `*.pth`, a committed `.venv/`)
   is ever imported or run;
2. `sciapps admit` makes the checkout that revision, except for what a merge
   request may bring into its own pipeline (`ADMITTED`: the datalabs and CODEOWNERS,
   which is only compared). The base images, the chart, SciApps, the pipeline, the
   settings, roles, keys and policies the jobs use are then the target's. What the merge
   request changes among them is listed for a moderator (`waiting`) and runs only after the
   merge, on the protected default branch;
3. of the datalabs it changes, the plan builds only what its author may have built
   (`authorise`, by that revision's roles.yaml and the author GitLab's API names):
   advanced mode only for advanced developers, basic mode only within DL-058 and from
   wheels only (DL-071). The others wait for a moderator too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sciapps.catalog.model import Datalab
from sciapps.catalog.rules.base import Context
from sciapps.catalog.rules.docker import BuildTimeCode
from sciapps.catalog.validate import errors_of
from sciapps.config import CATALOG_DIR, Config
from sciapps.errors import SciAppsError
from sciapps.gitcmd import commit, git, object_type
from sciapps.buildfiles import builds_from_source
from sciapps.roles import Roles
from sciapps.runtime import INSTALLER, INSTALLER_WHEEL, REQUIREMENTS, RUNTIME, TRUSTED_FILE

# What a merge request brings into its own pipeline: (path, the Git object type it must be)
ADMITTED = ((CATALOG_DIR, "tree"), ("CODEOWNERS", "blob"))
AFTER_APPROVAL = "it runs only after a moderator approved the merge request, in the pipeline of the protected default branch"
MAX_LISTED = 500  # paths shown to a moderator; a longer list says how many more


@dataclass
class Admitted:
    """What `admit` did: the paths the checkout keeps from the merge request, and every
    path the merge request changes that waits for a moderator."""

    head: str
    base: str
    kept: list[str] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (status letter, path)


def waiting(root: Path, base: str, head: str = "HEAD") -> list[tuple[str, str]]:
    """(status, path) of every path the commits from `base` to `head` change outside the
    datalabs: none of it runs in the merge request's pipeline. Read NUL-separated, so no
    name is quoted away."""
    fields = git(root, "diff", "--name-status", "--no-renames", "-z", commit(root, base), commit(root, head), "--").split("\0")
    pairs = [(fields[i][:1], fields[i + 1]) for i in range(0, len(fields) - 1, 2) if fields[i]]
    return sorted(((flag, path) for flag, path in pairs if not path.startswith(CATALOG_DIR + "/")), key=lambda pair: pair[1])


def admit(root: Path, trusted: str, base: str | None = None) -> Admitted:
    """Make the checkout at `root` the revision `trusted` (the protected target branch's
    head), keeping from the merge request (its HEAD) only `ADMITTED`, and only where it is
    what it should be (a `datalabs` that is a link or a file is the target's). Files the
    merge request adds outside them are removed, the ones it changes or deletes are the
    target's again. What waits for a moderator is what the merge request's own commits
    change (from the merge base `base`; `trusted` when not given)."""
    head = commit(root, "HEAD")
    target = commit(root, trusted)
    kept = [path for path, kind in ADMITTED if object_type(root, head, path) == kind]
    git(root, "checkout", "--no-overlay", "-q", target, "--", ".", *(f":(exclude){path}" for path in kept))
    git(root, "clean", "-ffdq", "--", ".", *(f":(exclude){path}" for path in kept))
    return Admitted(head, target, kept, waiting(root, commit(root, base) if base else target, head))


def refuse_other_targets(target_branch: str, default_branch: str) -> None:
    """A merge request's pipeline trusts only the protected default branch: one into any
    other branch (which its author, or any member, may push to) runs nothing."""
    if not default_branch or target_branch != default_branch:
        from sciapps.text import printable

        raise SciAppsError(
            f"this merge request targets {printable(target_branch[:100]) or 'no branch'!r}, not the protected default "
            f"branch {printable(default_branch[:100]) or '(unknown)'!r}: nothing that needs trust runs for it",
            f"retarget the merge request to {printable(default_branch[:100]) or 'the default branch'}",
        )


def authorise(
    config: Config, roles: Roles, author: Callable[[], str | None], labs: list[Datalab], validated: bool = False
) -> dict[str, str]:
    """{id: why} of the datalabs among `labs` whose build the merge request's author may not
    have run before a moderator approves it. `config` and `roles` are the target branch's;
    `author` asks GitLab who opened the merge request (only when an answer matters; None
    when it cannot be known, and then nothing that needs a role is built). With `validated`,
    the caller has found no errors in `labs` already."""
    held: dict[str, str] = {}
    asked: list[str | None] = []
    for lab in labs:
        if lab.metadata is None or (not validated and errors_of(lab, config)):
            continue  # not built at all: the build stage refuses a datalab with errors, validation reports them
        if lab.metadata.get("mode", "basic") == "advanced":
            if not asked:
                asked.append(author())
            if not roles.may_build_advanced(asked[0]):
                who = f"`{asked[0]}`" if asked[0] else "its author (GitLab did not say who opened the merge request)"
                held[lab.id] = (
                    f"advanced mode builds the datalab's own Dockerfile, which only advanced developers may have "
                    f"built; {who} is not one in the target branch's roles.yaml"
                )
            continue
        code = [f.message for f in BuildTimeCode().check(lab, Context(config=config))]  # exceptions not honoured here
        if builds_from_source(lab.metadata):
            code.append("it asks to build Python packages from source (a DL-071 exception)")
        if code:
            held[lab.id] = (
                f"its build would run code that only a moderator may approve (DL-058: {code[0][:120]}"
                f"{f'; {len(code) - 1} more' if len(code) > 1 else ''})"
            )
    return held


# The revisions a job works with. A pipeline of the protected default branch runs its own
# checkout's SciApps (`SCIAPPS_REV=HEAD`) and compares with the commit before the push.
# Every other pipeline is a merge request's (its child is marked by the plan with
# SCIAPPS_MERGE_REQUEST): it trusts only the protected default branch's head, fetched by
# name (or GitLab's CI_MERGE_REQUEST_TARGET_BRANCH_SHA in a merged-results pipeline), never
# the merge base, which only says what changed (`BASE_REV`), and never a branch the author
# can push to. The `sciapps` job resolves that head once and keeps it in its artifact
# (`TRUSTED_FILE`); the plan pins it for the child (SCIAPPS_TRUSTED_REV). Whatever names it,
# it must be on the protected branch's history. A merge request into any other branch, or
# without a merge base, runs nothing (`workflow:` already starts no pipeline for it).
_REVISION = [
    "SCIAPPS_REV=HEAD",
    'if [ "$CI_COMMIT_REF_PROTECTED" = "true" ] && [ "$CI_COMMIT_BRANCH" = "$CI_DEFAULT_BRANCH" ]'
    ' && [ -z "$SCIAPPS_MERGE_REQUEST" ]; then\n'
    '  if [ -z "$BASE_REV" ]; then BASE_REV="${CI_COMMIT_BEFORE_SHA:-HEAD~1}"; fi\n'
    '  case "$BASE_REV" in 0000000000000000000000000000000000000000) BASE_REV=HEAD~1;; esac\n'
    "else\n"
    '  SCIAPPS_TARGET="${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:-$SCIAPPS_TARGET_BRANCH}"\n'
    '  if [ -z "$CI_DEFAULT_BRANCH" ] || [ "$SCIAPPS_TARGET" != "$CI_DEFAULT_BRANCH" ]'
    ' || [ "$CI_MERGE_REQUEST_TARGET_BRANCH_PROTECTED" = "false" ]; then'
    ' echo "error: this pipeline is not a merge request into the protected default branch'
    ' (it targets \\"${SCIAPPS_TARGET:-nothing}\\"): nothing that needs trust runs; retarget the merge request'
    ' to ${CI_DEFAULT_BRANCH:-the default branch}"; exit 2; fi\n'
    '  if [ -z "$BASE_REV" ]; then echo "error: GitLab gave no merge base (CI_MERGE_REQUEST_DIFF_BASE_SHA):'
    " a merge request's pipeline compares with nothing else; run it from the merge request\"; exit 2; fi\n"
    '  if ! git fetch --quiet --no-tags origin "+refs/heads/$CI_DEFAULT_BRANCH:refs/sciapps/trusted"; then'
    ' echo "error: the protected branch $CI_DEFAULT_BRANCH could not be fetched from origin:'
    ' nothing runs without it"; exit 2; fi\n'
    f'  if [ -z "$SCIAPPS_TRUSTED_REV" ] && [ -f {RUNTIME}/{TRUSTED_FILE} ]; then'
    f' SCIAPPS_TRUSTED_REV="$(head -c 40 {RUNTIME}/{TRUSTED_FILE})"; fi\n'
    '  SCIAPPS_REV="${SCIAPPS_TRUSTED_REV:-${CI_MERGE_REQUEST_TARGET_BRANCH_SHA:-$(git rev-parse --verify --quiet'
    ' "refs/sciapps/trusted^{commit}")}}"\n'
    '  case "$SCIAPPS_REV" in *[!0-9a-f]*|"") SCIAPPS_REV=none;; esac\n'
    '  if [ "${#SCIAPPS_REV}" != 40 ] || ! git merge-base --is-ancestor "$SCIAPPS_REV" refs/sciapps/trusted 2>/dev/null; then'
    ' echo "error: the trusted revision ${SCIAPPS_REV} is not on the protected branch $CI_DEFAULT_BRANCH: nothing runs";'
    " exit 2; fi\n"
    "fi",
    'export SCIAPPS_TRUSTED_REV="$(git rev-parse --verify "$SCIAPPS_REV^{commit}")"',
    # what a job runs SciApps from is only ever the `sciapps` job's artifact: a commit that
    # tracks anything there (a file, a link, a wheel of its own) runs nothing
    f'if [ -n "$(git ls-tree --name-only HEAD -- {RUNTIME})" ]; then echo "error: the commit tracks {RUNTIME},'
    f" which only the pipeline's sciapps job writes: remove it from the commit\"; exit 2; fi",
    # removed when the job's shell exits, passed or failed: a runner keeps no job's environment
    'SCIAPPS_HOME="$(mktemp -d)" && trap \'rm -rf "$SCIAPPS_HOME"\' EXIT',
]
# The pipeline's first job (`sciapps`): SciApps and its dependencies, from that revision,
# as wheels locked by hash (`sciapps.runtime`), built once per pipeline and kept as the
# job's artifact. pip's cache is not used: what a job writes on a runner, no later job
# (of another pipeline, maybe a protected one) runs.
PREPARE = [
    *_REVISION,
    f'mkdir "$SCIAPPS_HOME/src" && rm -rf {RUNTIME}',
    'git archive --format=tar "$SCIAPPS_REV" -- pyproject.toml README.md tools schemas | tar -x -C "$SCIAPPS_HOME/src"',
    '(cd "$SCIAPPS_HOME" && python3 -I -m venv venv'
    ' && PIP_NO_CACHE_DIR=1 venv/bin/python -I -m pip wheel --quiet --wheel-dir wheels "./src[runner,full]")',
    f'python3 -I "$SCIAPPS_HOME/src/tools/sciapps/runtime.py" "$SCIAPPS_HOME/wheels" {RUNTIME}',
    f'echo "$SCIAPPS_TRUSTED_REV" > {RUNTIME}/{TRUSTED_FILE}'
    ' && echo "SciApps, its rules and its bases: revision $SCIAPPS_TRUSTED_REV"',
]
# Every other job: those wheels installed by uv, offline and by hash, into a fresh virtual
# environment outside the checkout (uv reads no configuration file; the interpreter that
# unpacks uv is isolated), then the checkout admitted (`admit`) when it is a merge request's.
SETUP = [
    *_REVISION,
    f'SCIAPPS_RUNTIME="$PWD/{RUNTIME}" && (cd "$SCIAPPS_RUNTIME" && sha256sum --quiet --strict --check {INSTALLER})',
    f'python3 -I -m zipfile -e "$SCIAPPS_RUNTIME/{INSTALLER_WHEEL}" "$SCIAPPS_HOME/uv"'
    ' && UV="$(echo "$SCIAPPS_HOME"/uv/uv-*.data/scripts/uv)" && chmod +x "$UV"',
    '(cd "$SCIAPPS_HOME" && export UV_CACHE_DIR="$SCIAPPS_HOME/cache"'
    ' && "$UV" venv --quiet --no-config --no-python-downloads --python "$(command -v python3)" venv'
    f' && VIRTUAL_ENV="$SCIAPPS_HOME/venv" "$UV" pip install --quiet --no-config --offline --no-index'
    f' --find-links "$SCIAPPS_RUNTIME/wheels" --require-hashes --requirement "$SCIAPPS_RUNTIME/{REQUIREMENTS}")',
    'export PATH="$SCIAPPS_HOME/venv/bin:$PATH"',
    'if [ "$SCIAPPS_REV" != HEAD ]; then sciapps admit --trusted "$SCIAPPS_TRUSTED_REV" --base "$BASE_REV"'
    ' --target-branch "$SCIAPPS_TARGET" --default-branch "$CI_DEFAULT_BRANCH"; fi',
]
JOB_DEFAULT = {"tags": ["sciapps"], "before_script": SETUP}
# The job that makes SciApps for the rest of its pipeline (the parent's and the child's first)
PREPARE_JOB = {
    "stage": "sciapps",
    "before_script": [],
    "script": PREPARE,
    "artifacts": {"paths": [f"{RUNTIME}/"], "expire_in": "1 week"},
}
JOB_VARIABLES = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    # whole history: the target revision must be in the clone to install SciApps from it
    "GIT_DEPTH": "0",
}


def admit_here(
    root: Path, trusted: str, base: str | None, log: Callable[[str], None], target_branch: str = "", default_branch: str = ""
) -> int:
    """`sciapps admit`: the checkout becomes the trusted revision (the protected target
    branch's head) plus the merge request's datalabs; every other path its commits change
    (since the merge base `base`) is said to wait for a moderator. A merge request into any
    branch but the protected default one is refused before anything changes."""
    from sciapps.text import printable

    refuse_other_targets(target_branch, default_branch)
    done = admit(root, trusted, base)
    log(
        f"admitted from the merge request ({done.head[:12]}): {', '.join(done.kept) or 'nothing'}; "
        f"everything else is the protected target branch's head {done.base[:12]}"
    )
    if done.waiting:  # the plan's output and the moderation report list each one
        shown = ", ".join(printable(path) for _, path in done.waiting[:10])
        more = f" and {len(done.waiting) - 10} more" if len(done.waiting) > 10 else ""
        log(
            f"{len(done.waiting)} path(s) the merge request changes outside datalabs/ wait for a moderator "
            f"and are not used here ({shown}{more}): {AFTER_APPROVAL}"
        )
    return 0
