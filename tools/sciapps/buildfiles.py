"""The files a datalab builds from, read as Docker and apt read them: the ground floor that
validation rules, builds and scans share.

`from_lines` and `pin_bases` read a Dockerfile with dockerfile-parse; `apt_packages`
reads `apt.txt`. A Dockerfile is read only up to `MAX_DOCKERFILE_BYTES`: the parser's
time grows with the square of a continued instruction's length.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from dockerfile_parse import DockerfileParser

DOCKERFILE = "Dockerfile"  # an advanced datalab's own, at the top of its folder
MAX_DOCKERFILE_BYTES = 64 * 1024  # real ones are a few KiB
LABEL_ID = "int.esa.datalabs.datalab"
REQUIRED_LABELS = (  # every datalab image carries them: the build refuses to tag, the scan reports, without
    "org.opencontainers.image.title",
    "org.opencontainers.image.version",
    "org.opencontainers.image.licenses",
    "org.opencontainers.image.source",
    "org.opencontainers.image.revision",
    LABEL_ID,
)
APT_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$")


@dataclass(frozen=True)
class AptProblem:
    line: int
    text: str


def apt_packages(text: str) -> tuple[list[str], list[AptProblem]]:
    """Packages of an apt.txt (one per line, # comments); lines that are not package names."""
    packages, problems = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        for word in line.split():
            if APT_PACKAGE.match(word):
                packages.append(word)
            else:
                problems.append(AptProblem(number, word))
    return packages, problems


def from_lines(text: str) -> list[tuple[int, str, str | None]]:
    """(1-based line, image after ARG substitution, stage alias) for each FROM."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    froms = [item for item in parser.structure if item["instruction"] == "FROM"]
    out = []
    for item, image in zip(froms, parser.parent_images):
        alias = re.search(r"\s+AS\s+(\S+)\s*$", item["value"], re.IGNORECASE)
        out.append((item["startline"] + 1, image, alias.group(1) if alias else None))
    return out


def split_reference(image: str) -> tuple[str, str]:
    """`127.0.0.1:5000/sciapps/jl_base:1.0@sha256:..` -> ("127.0.0.1:5000/sciapps", "jl_base")."""
    without_digest = image.split("@", 1)[0]
    prefix, _, last = without_digest.rpartition("/")
    return prefix, last.split(":", 1)[0]


def pin_bases(text: str, image_ids: dict[str, str], registry: str) -> tuple[str, list[str]]:
    """The Dockerfile with every FROM that names an approved base (`jl_base`, or
    `<registry>/jl_base[:tag][@digest]`) replaced by that base's exact image id, and the
    approved names it starts from, in order.

    Docker resolves `FROM jl_base` through the engine's tags, which any other build on the
    same engine may move; an image id cannot move. Stage references and names that are
    not approved bases are left as they are (validation refuses the latter)."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    stages: set[str] = set()
    names: list[str] = []
    images: list[str] = []
    for _, image, alias in from_lines(text):
        prefix, name = split_reference(image)
        if image not in stages and name in image_ids and prefix in ("", registry):
            names.append(name)
            image = image_ids[name]
        images.append(image)
        if alias:
            stages.add(alias)
    if images:
        parser.parent_images = images
    return parser.content, names


# Basic mode: pip installs wheels only, since a source distribution runs its own build code
# (DL-071); a moderator's exception to that rule lets it build from source.
WHEELS_ONLY = "--only-binary=:all:"
SOURCE_BUILDS = "DL-071"


def builds_from_source(meta: dict) -> bool:
    """Whether the datalab claims the exception that lets pip build packages from source."""
    exceptions = meta.get("exceptions")
    return isinstance(exceptions, list) and any(isinstance(e, dict) and e.get("rule") == SOURCE_BUILDS for e in exceptions)
