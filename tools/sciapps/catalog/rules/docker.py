"""Rules about the Dockerfile: none in basic mode, an approved base in advanced mode."""

from __future__ import annotations

import io
import re
from typing import Iterator

from dockerfile_parse import DockerfileParser

from sciapps.catalog.rules.base import Context, Finding, Rule
from sciapps.catalog.rules.schema import SCHEMA_RULES

DOCKERFILE = "Dockerfile"


def from_lines(text: str) -> list[tuple[int, str, str | None]]:
    """(1-based line, image after ARG substitution, stage alias) for each FROM."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    froms = [item for item in parser.structure if item["instruction"] == "FROM"]
    images = parser.parent_images
    out = []
    for item, image in zip(froms, images):
        alias = re.search(r"\s+AS\s+(\S+)\s*$", item["value"], re.IGNORECASE)
        out.append((item["startline"] + 1, image, alias.group(1) if alias else None))
    return out


def split_reference(image: str) -> tuple[str, str]:
    """`127.0.0.1:5000/sciapps/jl_base:1.0@sha256:..` -> ("127.0.0.1:5000/sciapps", "jl_base")."""
    without_digest = image.split("@", 1)[0]
    prefix, _, last = without_digest.rpartition("/")
    return prefix, last.split(":", 1)[0]


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


class UnapprovedBaseImage(Rule):
    """A Dockerfile starts FROM an image that is not an approved base

    Advanced datalabs build on the approved base images (`approved_bases` in sciapps.yaml:
    jl_base, x_base, datalabs_ubuntu_base), which carry the non-root user, health check and
    security updates every datalab relies on. Every `FROM` must name one of them (by name,
    from the SciApps registry) or an earlier stage of the same Dockerfile.
    """

    id = "DL-052"
    requires = (*SCHEMA_RULES, MissingDockerfile)

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        entry = lab.file(DOCKERFILE)
        if _mode(lab) != "advanced" or entry is None or entry.kind != "file":
            return
        try:
            text = (lab.dir / DOCKERFILE).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            yield self.finding(lab, f"cannot be read as UTF-8 text ({exc})", file=DOCKERFILE, line=None)
            return
        approved = ctx.config.approved_bases
        hint = f"start with `FROM {approved[0]}`; approved bases: {', '.join(approved)}"
        froms = from_lines(text)
        if not froms:
            yield self.finding(lab, "has no FROM instruction", file=DOCKERFILE, line=None, hint=hint)
        stages: set[str] = set()
        for line, image, alias in froms:
            prefix, name = split_reference(image)
            if image in stages or (name in approved and prefix in ("", ctx.config.registry)):
                pass
            elif "$" in image:
                yield self.finding(lab, f"FROM {image} uses a variable with no default", file=DOCKERFILE, line=line, hint=hint)
            else:
                yield self.finding(lab, f"FROM {image} is not an approved base image", file=DOCKERFILE, line=line, hint=hint)
            if alias:
                stages.add(alias)
