"""Rules about the Dockerfile: none in basic mode, an approved base in advanced mode."""

from __future__ import annotations

import io
import re
from typing import Iterator

from dockerfile_parse import DockerfileParser

from sciapps.baselock import read_lock
from sciapps.buildfiles import DOCKERFILE, MAX_DOCKERFILE_BYTES, apt_packages, from_lines, split_reference
from sciapps.catalog.rules.base import Context, Finding, Rule
from sciapps.catalog.rules.schema import SCHEMA_RULES
from sciapps.safefiles import UnsafeFile


def _read(lab, name: str, limit: int | None = None) -> tuple[str | None, str | None]:
    """(text, None) of one of the datalab's files, or (None, why it cannot be read)."""
    try:
        return lab.read_text(name, limit), None
    except UnsafeFile as exc:
        return None, str(exc)


def _dockerfile(lab) -> str | None:
    """An advanced datalab's Dockerfile text; None when there is none or it cannot be read
    (DockerfileUnreadable reports that)."""
    if _mode(lab) != "advanced" or lab.file(DOCKERFILE) is None:
        return None
    return _read(lab, DOCKERFILE, MAX_DOCKERFILE_BYTES)[0]


def _mode(lab) -> str:
    return lab.metadata.get("mode", "basic")


class DockerfileInBasicMode(Rule):
    """A basic-mode datalab ships its own Dockerfile

    In basic mode SciApps writes the Dockerfile from the datalab's type and its
    environment files (`requirements.txt`, `apt.txt`, `postBuild`, `start`), so scientists
    never maintain one. Either delete the Dockerfile, or declare `mode: advanced` (only
    advanced developers may submit those).
    """

    id = "DL-050"
    requires = SCHEMA_RULES
    hint = "delete the Dockerfile and list packages in requirements.txt / apt.txt, or set `mode: advanced`"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        if _mode(lab) == "basic" and lab.file(DOCKERFILE) is not None:
            yield self.finding(lab, "basic mode builds its own Dockerfile, but one is present", file=DOCKERFILE, line=None)


class MissingDockerfile(Rule):
    """An advanced-mode datalab has no Dockerfile

    `mode: advanced` means the datalab brings its own `Dockerfile` at the top of its
    directory, starting `FROM` an approved base image:

    ```dockerfile
    FROM jl_base
    COPY --chown=1000:1000 . /home/jovyan/work
    USER 1000
    ```
    """

    id = "DL-051"
    requires = SCHEMA_RULES
    hint = "add a Dockerfile starting `FROM jl_base` (or x_base, datalabs_ubuntu_base), or use `mode: basic`"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        if _mode(lab) == "advanced" and lab.file(DOCKERFILE) is None:
            yield self.finding(lab, "mode is advanced but there is no Dockerfile", path=("mode",))


class DockerfileUnreadable(Rule):
    """The Dockerfile cannot be read safely

    An advanced datalab's `Dockerfile` must be a regular UTF-8 text file of at most 64 KiB
    in the datalab's top folder: not a symlink, a folder, a device or a FIFO. The checks
    and the build read it, so one that never ends (a link to `/dev/zero`) or that takes
    minutes to parse is refused before anything reads it.
    """

    id = "DL-057"
    requires = (*SCHEMA_RULES, MissingDockerfile)
    hint = "commit the Dockerfile itself (not a link), as UTF-8 text under 64 KiB"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        if _mode(lab) != "advanced" or lab.file(DOCKERFILE) is None:
            return
        _, problem = _read(lab, DOCKERFILE, MAX_DOCKERFILE_BYTES)
        if problem:
            yield self.finding(lab, problem, file=DOCKERFILE, line=None)


class UnapprovedBaseImage(Rule):
    """A Dockerfile takes an image that is not an approved base

    Advanced datalabs build on the approved base images (`approved_bases` in sciapps.yaml:
    jl_base, x_base, datalabs_ubuntu_base), which carry the non-root user, health check and
    security updates every datalab relies on. Every instruction that takes an image must
    name one of them (by name, from the SciApps registry) or an earlier stage of the same
    Dockerfile: each `FROM`, `COPY --from=` (and `ADD --from=`), the `from=` of a
    `RUN --mount=`, the same inside `ONBUILD`, and no `# syntax=` directive (it fetches
    another Dockerfile frontend image). Anything else would bring unreviewed files from a
    registry into the image, whatever its last `FROM` says. A pinned `@sha256:` digest must
    be the approved one recorded in build/base-images.json; the build checks the built
    image's layers against that base too.
    """

    id = "DL-052"
    requires = (*SCHEMA_RULES, MissingDockerfile, DockerfileUnreadable)

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        text = _dockerfile(lab)
        if text is None:
            return
        approved = ctx.config.approved_bases
        hint = f"start with `FROM {approved[0]}`; approved bases: {', '.join(approved)}"
        froms = from_lines(text)
        if not froms:
            yield self.finding(lab, "has no FROM instruction", file=DOCKERFILE, line=None, hint=hint)
        for line, directive in _directives(text):
            if directive == "syntax":
                yield self.finding(
                    lab,
                    "a `# syntax=` directive fetches a Dockerfile frontend image",
                    file=DOCKERFILE,
                    line=line,
                    hint="delete the directive: the build uses the Docker engine's own Dockerfile frontend",
                )
        stages: set[str] = set()
        for line, image, alias in froms:
            prefix, name = split_reference(image)
            pinned = image.split("@", 1)[1] if "@" in image else None
            if image in stages:
                pass
            elif name in approved and prefix in ("", ctx.config.registry):
                if pinned:
                    problem = _digest_problem(ctx, name, pinned)
                    if problem:
                        yield self.finding(
                            lab,
                            f"FROM {image}: {problem}",
                            file=DOCKERFILE,
                            line=line,
                            hint="use the digest recorded in build/base-images.json, or drop the @sha256 pin",
                        )
            elif "$" in image:
                yield self.finding(lab, f"FROM {image} uses a variable with no default", file=DOCKERFILE, line=line, hint=hint)
            else:
                yield self.finding(lab, f"FROM {image} is not an approved base image", file=DOCKERFILE, line=line, hint=hint)
            if alias:
                stages.add(alias)
        yield from self._sources(lab, ctx, [alias for _, _, alias in froms])

    def _sources(self, lab, ctx: Context, aliases: list[str | None]) -> Iterator[Finding]:
        """`--from=` and `--mount=...,from=` of every instruction (ONBUILD's too): an
        earlier stage (by name or number; `aliases` of the FROMs in order) or an approved base."""
        approved, stage_names, count = ctx.config.approved_bases, set(), 0
        hint = (
            f"copy from an earlier stage (`FROM {approved[0]} AS build`, then `COPY --from=build ...`) or from an approved "
            f"base ({', '.join(approved)}); install other software with apt-get or pip in a stage"
        )
        for item in _own_instructions(lab):
            instruction, value, line = item["instruction"], item["value"], item["startline"] + 1
            if instruction == "FROM":
                alias = aliases[count] if count < len(aliases) else None
                stage_names.update({str(count), *([alias.lower()] if alias else [])})
                count += 1
                continue
            if instruction == "ONBUILD":
                instruction, _, value = value.strip().partition(" ")
                instruction = instruction.upper()
            for what, source in _image_sources(instruction, value):
                prefix, name = split_reference(source)
                if source.lower() in stage_names or (
                    name in approved and prefix in ("", ctx.config.registry) and "@" not in source
                ):
                    continue
                why = (
                    "names its image with a variable"
                    if "$" in source
                    else "takes files from an image that is neither an earlier stage nor an approved base"
                )
                yield self.finding(lab, f"{item['instruction']} {what}{source} {why}", file=DOCKERFILE, line=line, hint=hint)


def _directives(text: str) -> Iterator[tuple[int, str]]:
    """(line, name) of the parser directives at the top of a Dockerfile (`# syntax=...`,
    `# escape=...`, `# check=...`), as BuildKit reads them: before any other line."""
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"^\s*#\s*([A-Za-z]+)\s*=", line)
        if not match:
            return
        yield number, match.group(1).lower()


def _flags(value: str) -> list[str]:
    """The leading `--flag` words of an instruction's value, unquoted as BuildKit reads them."""
    import shlex

    try:
        words = shlex.split(value, comments=False, posix=True)
    except ValueError:
        words = value.split()
    flags = []
    for word in words:
        if not word.startswith("--"):
            break
        flags.append(word)
    return flags


def _image_sources(instruction: str, value: str) -> Iterator[tuple[str, str]]:
    """(how it is named, the image or stage) of every image an instruction takes files from."""
    for flag in _flags(value):
        name, _, argument = flag.partition("=")
        if name == "--from" and instruction in ("COPY", "ADD"):
            yield "--from=", argument
        elif name == "--mount" and instruction == "RUN":
            for option in argument.split(","):
                key, _, source = option.partition("=")
                if key.strip().lower() == "from":
                    yield "--mount=...from=", source.strip()


def _own_instructions(lab) -> list[dict]:
    """The instructions of an advanced datalab's Dockerfile ([] otherwise, or if unreadable)."""
    text = _dockerfile(lab)
    return DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8"))).structure if text is not None else []


def _digest_problem(ctx: Context, name: str, digest: str) -> str | None:
    """Why a pinned base digest is not the approved one (build/base-images.json), if it is not."""
    from sciapps.errors import SciAppsError

    try:
        recorded = read_lock(ctx.config).get(name)
    except SciAppsError as exc:
        return exc.message
    if recorded is None:
        return "no approved digest is recorded for it here (run `sciapps base-images build`)"
    if digest not in (recorded.image_id, recorded.digest):
        return f"{digest[:19]}… is not the approved {name} ({recorded.image_id[:19]}…)"
    return None


class DockerfileEndsAsRoot(Rule):
    """The Dockerfile's final image runs as root

    Datalabs run as the non-root user `datalab` (uid 1000) that the base images create;
    the cluster refuses containers running as root. Switch back after installing system
    packages:

    ```dockerfile
    USER root
    RUN apt-get update && apt-get install -y --no-install-recommends saods9
    USER 1000
    ```
    """

    id = "DL-053"
    requires = (*SCHEMA_RULES, MissingDockerfile, DockerfileUnreadable)
    hint = "end the Dockerfile with `USER 1000`"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        last_user = None
        for item in _own_instructions(lab):
            if item["instruction"] == "FROM":
                last_user = None  # a new stage starts from its base's user
            elif item["instruction"] == "USER":
                last_user = item
        if last_user is not None and last_user["value"].split(":")[0].strip() in ("root", "0"):
            yield self.finding(lab, f"the image ends as {last_user['value']}", file=DOCKERFILE, line=last_user["startline"] + 1)


class AddFromUrl(Rule):
    """The Dockerfile downloads something with ADD <url>

    `ADD https://...` fetches a file that no one reviewed and that may change between
    builds, and is not checked by the scans. Put the file in the datalab (or install it
    from a package repository) and COPY it.
    """

    id = "DL-054"
    requires = (*SCHEMA_RULES, MissingDockerfile, DockerfileUnreadable)
    hint = "commit the file and COPY it, or install it with apt-get or pip"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for item in _own_instructions(lab):
            if item["instruction"] == "ADD" and re.search(r"(^|\s)(https?|ftp|git)(://|@)|(^|\s)git@", item["value"]):
                yield self.finding(
                    lab, f"ADD {item['value']} downloads from the network", file=DOCKERFILE, line=item["startline"] + 1
                )


class BadAptTxt(Rule):
    """apt.txt has a line that is not a Debian package name

    `apt.txt` lists Debian packages, one or more per line, optionally pinned with
    `=version`; `#` starts a comment. Anything else (shell commands, URLs, options) is
    refused: the names go straight into `apt-get install`.
    """

    id = "DL-055"
    needs_metadata = False
    hint = "write one Debian package name per line, e.g. saods9 or topcat=4.8.7-3"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        entry = lab.file("apt.txt")
        if entry is None or entry.kind != "file":
            return
        text, problem = _read(lab, "apt.txt")
        if text is None:
            yield self.finding(lab, problem, file="apt.txt", line=None)
            return
        for problem in apt_packages(text)[1]:
            yield self.finding(lab, f"{problem.text!r} is not a package name", file="apt.txt", line=problem.line)


class CondaNotSupported(Rule):
    """environment.yml (conda) is not supported

    SciApps images are built from Debian packages and pip, without conda. List Python
    packages in `requirements.txt` and system libraries in `apt.txt`; most conda-forge
    packages are on PyPI as wheels.
    """

    id = "DL-056"
    needs_metadata = False
    hint = "move the packages to requirements.txt (pip) and apt.txt (Debian), then delete environment.yml"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for name in ("environment.yml", "environment.yaml"):
            if lab.file(name) is not None:
                yield self.finding(lab, "conda environments are not supported", file=name, line=None)


def _requirement_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, logical line) of a requirements file: comments dropped,
    backslash continuations joined, as pip reads it."""
    start, parts = 0, []
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined = " ".join(part.strip() for part in parts).strip()
        parts = []
        if joined:
            yield start, joined


def requirement_problem(line: str) -> str | None:
    """Why a requirements.txt line is more than a package from the catalog's index, if it is."""
    from packaging.requirements import InvalidRequirement, Requirement

    words = line.split()
    options = [w for w in words[1:] if w.startswith("-")]
    if line.startswith("-"):
        return f"{words[0]!r} changes where or how pip installs (an index, a link, an editable or included file)"
    if any(not w.startswith("--hash=") for w in options):
        return f"{options[0]!r} changes how pip installs this package"
    try:
        requirement = Requirement(" ".join(w for w in words if not w.startswith("--hash=")))
    except InvalidRequirement:
        return "is not a package name with an optional version (a URL, a Git source or a local path)"
    if requirement.url:
        return f"installs from {requirement.url!r}, not from the package index"
    return None


class BuildTimeCode(Rule):
    """A basic-mode datalab runs its own code while its image is built

    Basic mode builds from package names only: `requirements.txt` lists packages from the
    catalog's package index, `apt.txt` Debian packages. A requirements line with an option
    (`--index-url`, `--extra-index-url`, `--find-links`, `-e`, `-r`), a URL, a `git+` source
    or a local path, and a `postBuild` script, all run code that no scanner saw, as root,
    during the build. Replace them with package names, or ask a moderator to approve them
    with an exception that says why:

    ```yaml
    exceptions:
      - rule: DL-058
        reason: postBuild only enables the JupyterLab extension shipped in the image.
    ```
    """

    id = "DL-058"
    requires = SCHEMA_RULES
    exceptable = True
    hint = "list plain package names (name==version) in requirements.txt and drop postBuild, or add an exception for a moderator"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        if _mode(lab) != "basic":
            return
        if lab.file("requirements.txt") is not None:
            text, _ = _read(lab, "requirements.txt")
            for number, line in _requirement_lines(text or ""):
                problem = requirement_problem(line)
                if problem:
                    yield self.finding(lab, f"{line[:80]!r} {problem}", file="requirements.txt", line=number)
        if lab.file("postBuild") is not None:
            yield self.finding(lab, "runs as a script while the image is built", file="postBuild", line=None)


class SourceOnlyPackage(Rule):
    """A basic-mode datalab needs a package that has no wheel

    Basic mode installs Python packages from wheels only (`pip install --only-binary=:all:`):
    a wheel is unpacked, while a source distribution runs its own build code (`setup.py`,
    a build backend) as root in the build container, on the runner's network. That is the
    build-time code execution advanced mode keeps for advanced developers, so any GitLab
    user could have it. The build reports the package pip found no wheel of (for this
    Python and platform, at that version): pin a version that has one, use advanced mode
    (advanced developers only), or ask a moderator to approve building it from source:

    ```yaml
    exceptions:
      - rule: DL-071
        reason: docopt 0.6.2 is pure Python and has no wheel; its setup.py only copies one module.
    ```
    """

    id = "DL-071"
    requires = SCHEMA_RULES
    exceptable = True
    hint = (
        "pin a version that has a wheel, use advanced mode (advanced developers only), "
        "or add an exception for a moderator to approve building it from source"
    )
    NO_WHEEL = re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]{0,99})")

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        return iter(())  # pip's answer at build time decides: see `from_build`

    def from_build(self, lab, log: list[str]) -> Finding | None:
        """The finding for a basic build whose pip found no wheel of a package (its log), or None."""
        found = next((m for line in reversed(log) if (m := self.NO_WHEEL.search(line))), None)
        if found is None:
            return None
        name = re.split(r"[<>=!~;\[ ]", found[1], maxsplit=1)[0]
        wanted = re.sub(r"[-_.]+", "-", name).lower()
        text = _read(lab, "requirements.txt")[0] if lab.file("requirements.txt") else None
        listed = [
            (number, line)
            for number, line in _requirement_lines(text or "")
            if re.sub(r"[-_.]+", "-", re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]).lower() == wanted
        ]
        number, line = listed[0] if listed else (None, found[1])
        needed = "" if listed else " (a dependency of a listed package)"
        return self.finding(
            lab,
            f"{line[:80]!r}{needed} has no wheel pip could install: basic mode installs wheels only, "
            "and a source distribution runs its own build code",
            file="requirements.txt",
            line=number,
        )
