"""`sciapps new`: a datalab that validates at once. All you need to bring is a notebook."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from sciapps.catalog.rules.metadata import PLACEHOLDER_DESCRIPTION
from sciapps.catalog.rules.notebooks import notebook_problem
from sciapps.datalab_types import TYPES
from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.gitcmd import config_value
from sciapps.schema import datalab_schema


ID_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Maintainer:
    name: str
    email: str
    username: str


@dataclass(frozen=True)
class NewOptions:
    datalab_id: str
    kind: str  # a datalab type (sciapps.datalab_types.TYPES)
    catalog: Path  # the datalabs/ folder
    advanced: bool = False
    from_notebook: Path | None = None
    app: str = "xterm"
    maintainer: Maintainer | None = None
    schema_ref: str = ""  # what the yaml-language-server comment points at


def maintainer_from_git(start: Path) -> Maintainer | None:
    """The user's name and e-mail from Git's configuration (repository, then global)."""
    where = next((p for p in (start, *start.parents) if p.is_dir()), Path.home())
    name, email = config_value(where, "user.name"), config_value(where, "user.email")
    if not name or not email:
        return None
    username = re.sub(r"[^A-Za-z0-9_.-]", "", str(email).split("@")[0]) or "user"
    return Maintainer(str(name), str(email), username)


def parse_maintainer(text: str, username: str | None) -> Maintainer:
    match = re.fullmatch(r"\s*(.+?)\s*<([^<>@\s]+@[^<>@\s]+\.[^<>@\s]+)>\s*", text)
    if not match:
        raise SciAppsError(
            f"--maintainer {text!r} is not 'Full Name <email>'", "e.g. --maintainer 'Ada Lovelace <ada@example.org>'"
        )
    name, email = match.groups()
    return Maintainer(name, email, username or email.split("@")[0])


def _yaml_str(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    import json

    return json.dumps(value, ensure_ascii=False)


def _metadata(opts: NewOptions, entry: str, title: str) -> str:
    m = opts.maintainer
    today = datetime.date.today().isoformat()
    mode = "advanced" if opts.advanced else "basic"
    notebook = TYPES[opts.kind].entry_is_file  # the entry is a notebook: it is the first test too
    what = f"{TYPES[opts.kind].label} with the notebook" if notebook else f"a desktop running {opts.app}"
    tests = f"tests: [{_yaml_str(entry)}]\n" if notebook else ""
    return f"""# yaml-language-server: $schema={opts.schema_ref}
# Every field is described in the datalab.yaml reference; `sciapps validate` checks this file.
schema_version: 1
id: {opts.datalab_id}
name: {_yaml_str(title)}
summary: {_yaml_str(f"{title}: {what}.")}
description: |
  {PLACEHOLDER_DESCRIPTION}
version: 0.1.0
mode: {mode}
type: {opts.kind}
entry: {_yaml_str(entry)}
{tests}missions: []       # mission ids, e.g. [gaia]; see the missions vocabulary
categories: []     # up to five, e.g. [photometry]
keywords: []
maintainers:
  - name: {_yaml_str(m.name)}
    email: {_yaml_str(m.email)}
    username: {_yaml_str(m.username)}
license: BSD-3-Clause
resources:
  cpu: 1
  memory_gb: 2
status: draft
visibility: public
changelog:
  - version: 0.1.0
    date: "{today}"
    changes: [First version]
"""


def _starter_notebook(title: str) -> nbformat.NotebookNode:
    notebook = new_notebook(
        cells=[
            new_markdown_cell(f"# {title}\n\nExplain what this notebook does and which data it reads."),
            new_code_cell('import sys\nprint(f"Python {sys.version.split()[0]} is ready")'),
        ]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _dockerfile(opts: NewOptions, entry: str) -> str:
    kind = TYPES[opts.kind]
    head = f"""# Advanced mode: this Dockerfile is yours. It must start FROM an approved base image
# (jl_base, x_base or datalabs_ubuntu_base) and end as the non-root user 1000.
# pip behind the build machine's proxy: use .sciapps/build-ca.crt in a build stage only
# (see datalabs/jwst-nircam-image-explorer/Dockerfile), never COPY it to the final image.
FROM {kind.base}
"""
    if kind.entry_is_file:
        return (
            head
            + f"""USER 1000
COPY --chown=1000:1000 notebooks/ /home/datalab/work/notebooks/
ENV {kind.entry_variable}={json.dumps(entry)}
"""
        )
    return (
        head
        + f"""USER root
RUN apt-get update \\
 && apt-get install -y --no-install-recommends {opts.app} \\
 && rm -rf /var/lib/apt/lists/*
USER 1000
ENV {kind.entry_variable}={json.dumps(entry)}
"""
    )


def create(opts: NewOptions) -> Path:
    """Write the new datalab into a temporary folder, then move it into place in one step."""
    if not ID_PATTERN.fullmatch(opts.datalab_id):
        raise SciAppsError(
            f"{opts.datalab_id!r} is not a valid datalab id",
            "use lower-case letters, digits and hyphens, at most 63 characters, e.g. gaia-dr3-hrd",
        )
    if opts.maintainer is None:
        raise SciAppsError(
            "no maintainer: Git has no user.name / user.email",
            "pass --maintainer 'Full Name <email>' or run git config --global user.name/user.email",
        )
    target = opts.catalog / opts.datalab_id
    if target.exists():
        raise SciAppsError(f"{target} already exists", "choose another id, or edit the existing datalab")
    notebook_bytes = None
    if opts.from_notebook is not None:
        try:
            notebook_bytes = opts.from_notebook.read_bytes()
        except OSError as exc:
            raise SciAppsError(f"{opts.from_notebook}: cannot read ({exc.strerror})", "check the path") from None
        problem = notebook_problem(notebook_bytes)
        if problem:
            line = f":{problem[1]}" if problem[1] else ""
            raise SciAppsError(f"{opts.from_notebook}{line}: {problem[0]}", "open it in JupyterLab and save it again")
    title = opts.datalab_id.replace("-", " ").capitalize()
    opts.catalog.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".new-{opts.datalab_id}-", dir=opts.catalog))
    try:
        if TYPES[opts.kind].entry_is_file:
            name = opts.from_notebook.name if opts.from_notebook else f"{opts.datalab_id}.ipynb"
            entry = f"notebooks/{name}"
            (staging / "notebooks").mkdir()
            if notebook_bytes is not None:
                (staging / entry).write_bytes(notebook_bytes)
            else:
                nbformat.write(_starter_notebook(title), staging / entry)
            requirements = "# Python packages the notebooks need, one per line, e.g.\n# astropy==7.0.1\n"
            (staging / "requirements.txt").write_text(requirements, encoding="utf-8")
        else:
            entry = opts.app
            (staging / "apt.txt").write_text(f"# Debian packages to install, one per line\n{opts.app}\n", encoding="utf-8")
        if opts.advanced:
            (staging / "Dockerfile").write_text(_dockerfile(opts, entry), encoding="utf-8")
        (staging / "datalab.yaml").write_text(_metadata(opts, entry, title), encoding="utf-8")
        os.chmod(staging, 0o755)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def new_datalab(
    config: Config,
    datalab_id: str,
    kind: str,
    advanced: bool = False,
    from_notebook: Path | None = None,
    app: str = "xterm",
    maintainer: str | None = None,
    username: str | None = None,
    catalog: Path | None = None,
) -> Path:
    """`sciapps new`: the maintainer from --maintainer or Git, the schema reference editors
    follow (the catalog's own copy when there is one, else the published one), then `create`."""
    if from_notebook is not None and not TYPES[kind].entry_is_file:
        raise SciAppsError(
            f"--from NOTEBOOK goes with a notebook type ({', '.join(t.name for t in TYPES.values() if t.entry_is_file)})",
            "drop --from, or choose --type jupyterlab",
        )
    catalog = (catalog or config.catalog).absolute()
    person = parse_maintainer(maintainer, username) if maintainer else maintainer_from_git(catalog.parent)
    if person is not None and username:
        person = Maintainer(person.name, person.email, username)
    local = catalog.parent / "schemas" / "datalab.schema.json"
    schema_ref = os.path.relpath(local, catalog / datalab_id) if local.is_file() else datalab_schema()["$id"]
    return create(NewOptions(datalab_id, kind, catalog, advanced, from_notebook, app, person, schema_ref))
