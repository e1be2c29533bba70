"""Dockerfiles: written by SciApps for basic mode, checked for advanced mode.

Basic mode follows repo2docker's conventions: `apt.txt` (Debian packages),
`requirements.txt` (pip), `postBuild` (run once at build time), `start` (run before the
datalab's command, see base-images/common/datalab-entrypoint). The layers go from what
changes least to what changes most, so editing a notebook reuses every dependency layer:
Python packages (wheels only, installed in their own stage with the build CA, which
never reaches the image), Debian packages, then the datalab's files, then postBuild.

The build context has the datalab's files under `datalab/` and SciApps' own under
`.sciapps/` (the CA bundle for pip), so `COPY datalab/` copies exactly the datalab.
"""

from __future__ import annotations

import json

from sciapps import __version__
from sciapps.buildfiles import WHEELS_ONLY, builds_from_source
from sciapps.datalab_types import TYPES

CA_PATH = ".sciapps/build-ca.crt"
EXECUTABLES = ("postBuild", "start", "verify")


def basic_dockerfile(meta: dict, files: set[str], apt: list[str], base: str | None = None) -> str:
    """The Dockerfile SciApps writes for a basic-mode datalab; `base` is the approved base
    image's exact reference (default: its name). pip installs wheels only, unless the
    datalab claims a DL-071 exception (which a merge request's plan holds for a moderator)."""
    kind = TYPES[meta["type"]]
    base = base or kind.base
    has_requirements = "requirements.txt" in files
    binary = "" if builds_from_source(meta) else f" {WHEELS_ONLY}"
    lines = [
        f"# Written by SciApps {__version__} for the basic-mode datalab {meta['id']}: do not edit,",
        "# change the datalab's apt.txt, requirements.txt, postBuild or start instead.",
    ]
    if has_requirements:
        if kind.python_in_venv:
            install = (
                f"python3 -m venv {kind.python_target} && {kind.python_target}/bin/pip install --no-cache-dir "
                f"--disable-pip-version-check{binary} -r /tmp/requirements.txt"
            )
        else:
            install = (
                f"pip install --no-cache-dir --disable-pip-version-check{binary} --target {kind.python_target}"
                " -r /tmp/requirements.txt"
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
        lines.append(f"COPY --from=python-packages {kind.python_target} {kind.python_target}")
        if kind.python_in_venv:
            lines.append(f"ENV PATH={kind.python_target}/bin:$PATH")
    lines += ["USER 1000", "COPY --chown=1000:1000 datalab/ /home/datalab/work/"]
    lines.append(f"ENV {kind.entry_variable}={json.dumps(meta['entry'])}")
    if "postBuild" in files:
        lines.append("RUN ./postBuild")
    return "\n".join(lines) + "\n"


def mode_of(name: str) -> int:
    """File modes in the build context: the conventional scripts are executable."""
    return 0o755 if name.rsplit("/", 1)[-1] in EXECUTABLES else 0o644
