"""Dockerfiles: written by SciApps for basic mode, checked for advanced mode.

Basic mode follows repo2docker's conventions: `apt.txt` (Debian packages),
`requirements.txt` (pip), `postBuild` (run once at build time), `start` (run before the
datalab's command, see base-images/common/datalab-entrypoint). The layers go from what
changes least to what changes most, so editing a notebook reuses every dependency layer:
Python packages (built in their own stage with the build CA, which never reaches the
image), Debian packages, then the datalab's files, then postBuild.

The build context has the datalab's files under `datalab/` and SciApps' own under
`.sciapps/` (the CA bundle for pip), so `COPY datalab/` copies exactly the datalab.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

from dockerfile_parse import DockerfileParser

from sciapps import __version__

APT_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$")
BASE_OF_TYPE = {"jupyterlab": "jl_base", "vnc": "x_base"}
CA_PATH = ".sciapps/build-ca.crt"
DOCKERFILE = "Dockerfile"  # an advanced datalab's own, at the top of its folder
# An advanced datalab's Dockerfile: real ones are a few KiB; the parser's time grows with
# the square of a continued instruction's length, so the bound comes before it.
MAX_DOCKERFILE_BYTES = 64 * 1024
EXECUTABLES = ("postBuild", "start", "verify")


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


def basic_dockerfile(meta: dict, files: set[str], apt: list[str], base: str | None = None) -> str:
    """The Dockerfile SciApps writes for a basic-mode datalab; `base` is the approved base
    image's exact reference (default: its name)."""
    kind = meta["type"]
    base = base or BASE_OF_TYPE[kind]
    has_requirements = "requirements.txt" in files
    lines = [
        f"# Written by SciApps {__version__} for the basic-mode datalab {meta['id']}: do not edit,",
        "# change the datalab's apt.txt, requirements.txt, postBuild or start instead.",
    ]
    if has_requirements:
        if kind == "jupyterlab":
            install = "pip install --no-cache-dir --disable-pip-version-check --target /opt/datalab/site-packages -r /tmp/requirements.txt"
        else:
            install = (
                "python3 -m venv /opt/datalab/venv && /opt/datalab/venv/bin/pip install --no-cache-dir "
                "--disable-pip-version-check -r /tmp/requirements.txt"
            )
        lines += [
            f"FROM {base} AS python-packages",
            "USER 0",
            f"COPY {CA_PATH} /tmp/build-ca.crt",
            "COPY datalab/requirements.txt /tmp/requirements.txt",
            f"RUN PIP_CERT=/tmp/build-ca.crt {install}",
            "USER 1000",
            "",
        ]
    lines.append(f"FROM {base}")
    if apt:
        lines += [
            "USER 0",
            "RUN apt-get update \\",
            f" && apt-get install -y --no-install-recommends {' '.join(apt)} \\",
            " && rm -rf /var/lib/apt/lists/*",
        ]
    if has_requirements:
        target = "/opt/datalab/site-packages" if kind == "jupyterlab" else "/opt/datalab/venv"
        lines.append(f"COPY --from=python-packages {target} {target}")
        if kind == "vnc":
            lines.append("ENV PATH=/opt/datalab/venv/bin:$PATH")
    lines += ["USER 1000", "COPY --chown=1000:1000 datalab/ /home/datalab/work/"]
    if kind == "jupyterlab":
        lines.append(f"ENV DATALAB_ENTRY={json.dumps(meta['entry'])}")
    else:
        lines.append(f"ENV DATALAB_APP={json.dumps(meta['entry'])}")
    if "postBuild" in files:
        lines.append("RUN ./postBuild")
    return "\n".join(lines) + "\n"


def mode_of(name: str) -> int:
    """File modes in the build context: the conventional scripts are executable."""
    return 0o755 if name.rsplit("/", 1)[-1] in EXECUTABLES else 0o644


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
