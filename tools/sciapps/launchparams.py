"""Launch parameters: the one checker of a value given at launch, and the start-up that
hands the checked values to a running datalab.

Standard library only, Python 3.9 and later: the approved base images carry this very
file (`sciapps base-images build` copies it in as /usr/local/lib/sciapps/launchparams.py)
and every container runs it before anything else, so a value is judged by the same code
in `sciapps validate`, `run`, `launch`, `test` and the container. The store's pages carry
the same rules in JavaScript (site/docs/assets/params.js); a test runs both over the same
values.

A value arrives as text (a link, the command line, the environment). It is bounded,
refused if it holds control, format or private-use characters or a `..` path segment,
then read as its declared type. It reaches the datalab only as data: an environment
variable, one argument of the application (never through a shell), or a Python literal
in a copy of the entry notebook (the notebook in the image is never changed).
"""

from __future__ import annotations

import ast
import datetime
import json
import math
import os
import re
import sys
import unicodedata

MAX_PARAMETERS = 12
MAX_VALUE_CHARS = 256  # no value is longer, whatever its type says
MAX_PATTERN_CHARS = 200
MAX_SPEC_BYTES = 64 * 1024  # the declaration the container reads from SCIAPPS_PARAMETERS
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
TYPES = ("string", "integer", "number", "boolean", "choice", "date")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# names a link or a launch uses for something else: never a parameter's
RESERVED = frozenset({"datalab", "version", "digest", "mission", "cpu", "memory_gb", "gpu", "storage_gb"})
ENV_PREFIX = "SCIAPPS_PARAM_"
SPEC_VARIABLE = "SCIAPPS_PARAMETERS"
INJECTED_TAG = "injected-parameters"
COPY_SUFFIX = ".launch.ipynb"
_INTEGER = re.compile(r"^[+-]?[0-9]{1,15}$")
_NUMBER = re.compile(r"^[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})(?:[eE][+-]?[0-9]{1,3})?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_REFUSED_CATEGORIES = ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")  # controls, format (bidi, zero-width), private use, separators
# The common ground of Python's and JavaScript's regular expressions: no groups but (?:...),
# no Unicode classes, no anchors that differ; nested quantifiers are refused (they can
# take exponential time).
_UNPORTABLE = re.compile(r"\(\?(?!:)|\\[pPAZzGQE]|\[\[|\\[0-9]")
_NESTED = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)\s*[*+{]")


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def pattern_problem(pattern: object) -> str | None:
    """Why a `pattern` cannot be used on both sides (page and container), or None."""
    if not isinstance(pattern, str) or not pattern:
        return "a pattern is a non-empty text"
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"the pattern is longer than {MAX_PATTERN_CHARS} characters"
    if _UNPORTABLE.search(pattern):
        return (
            "the pattern uses a construct JavaScript and Python read differently ((?...) groups, \\p, \\A, \\Z, back-references)"
        )
    if _NESTED.search(pattern):
        return "the pattern repeats a repetition, such as (a+)+, which can take exponential time"
    try:
        re.compile(pattern, re.ASCII)
    except re.error as exc:
        return f"the pattern is not a regular expression ({exc})"
    return None


def _text_problem(text: str, limit: int) -> str | None:
    if len(text) > limit:
        return f"is longer than {limit} characters"
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return f"holds the invisible or control character U+{ord(char):04X}"
    if unicodedata.normalize("NFC", text) != text:
        return "is not in Unicode normal form (NFC)"
    if ".." in text.replace("\\", "/").split("/"):
        return "holds a `..` path segment"
    return None


def _bound(value, spec: dict) -> str | None:
    low, high = spec.get("min"), spec.get("max")
    if low is not None and value < low:
        return f"is below the minimum {low}"
    if high is not None and value > high:
        return f"is above the maximum {high}"
    return None


def read_value(spec: dict, text: object):
    """(the typed value, None), or (None, why the text is not a value of this parameter:
    a phrase to follow "<label> ...")."""
    if not isinstance(text, str):
        return None, "is not text"
    limit = min(MAX_VALUE_CHARS, spec.get("max_length") or MAX_VALUE_CHARS)
    problem = _text_problem(text, limit)
    if problem:
        return None, problem
    kind = spec.get("type")
    if kind == "string":
        if len(text) < (spec.get("min_length") or 0):
            return None, f"is shorter than {spec['min_length']} characters"
        pattern = spec.get("pattern")
        if pattern is not None and not re.fullmatch(pattern, text, re.ASCII):
            return None, f"is not in the expected form ({spec.get('form') or pattern})"
        return text, None
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            return None, "is not a whole number"
        value = int(text)
        return (None, problem) if (problem := _bound(value, spec)) else (value, None)
    if kind == "number":
        if not _NUMBER.fullmatch(text):
            return None, "is not a number"
        value = float(text)
        if not math.isfinite(value):
            return None, "is not a finite number"
        return (None, problem) if (problem := _bound(value, spec)) else (value, None)
    if kind == "boolean":
        if text not in ("true", "false"):
            return None, "is neither true nor false"
        return text == "true", None
    if kind == "choice":
        choices = [str(c) for c in spec.get("choices") or []]
        if text not in choices:
            return None, f"is not one of {', '.join(choices[:10])}"
        return text, None
    if kind == "date":
        if not _DATE.fullmatch(text):
            return None, "is not a date (YYYY-MM-DD)"
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            return None, "is not a day that exists"
        return (None, problem) if (problem := _bound(text, spec)) else (text, None)
    return None, f"has an unknown type {kind!r}"


def as_text(value) -> str:
    """The canonical text of a typed value: what goes into the environment and links."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def default_text(spec: dict) -> str | None:
    """The declared default as a value's text (YAML may have read it as a number or a
    boolean), or None when there is none."""
    if "default" not in spec or spec["default"] is None:
        return None
    default = spec["default"]
    return as_text(default) if isinstance(default, (bool, int, float)) else str(default)


def read_values(specs: list, given: list) -> tuple[dict, list[str]]:
    """Check `given` [(name, text)] against the declared parameters: ({name: typed value},
    with every default filled in) and the problems, each one sentence. Unknown names,
    names given twice and parameters without a value or a default are problems."""
    by_name = {s.get("name"): s for s in specs if isinstance(s, dict)}
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name, text in given:
        if name not in by_name:
            shown = name if isinstance(name, str) and NAME.fullmatch(name) else repr(str(name)[:40])
            known = ", ".join(sorted(by_name)) or "none"
            problems.append(f"{shown} is not a parameter of this datalab (its parameters: {known}).")
        elif name in seen:
            problems.append(f"{name} is given more than once.")
        else:
            seen[name] = text
    values = {}
    for name, spec in by_name.items():
        label = spec.get("label") or name
        text = seen.get(name, default_text(spec))
        if text is None:
            problems.append(f"{label} needs a value.")
            continue
        value, why = read_value(spec, text)
        if why:
            problems.append(f"{label} {why}." if name in seen else f"{label}'s default {why}.")
        else:
            values[name] = value
    return values, problems


def literal(value) -> str:
    """Python source for a value: a literal, never code (checked by reading it back)."""
    if isinstance(value, bool) or value is None:
        source = repr(value)
    elif isinstance(value, (int, float, str)):
        source = repr(value)
    else:
        raise TypeError(f"no literal for {type(value).__name__}")
    if ast.literal_eval(source) != value:
        raise ValueError("a literal that does not read back as its value")
    return source


def injected_source(values: dict) -> str:
    lines = ["# Parameters of this launch, injected by SciApps (checked against datalab.yaml)"]
    lines += [f"{name} = {literal(value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def inject(notebook: bytes, values: dict) -> bytes:
    """The notebook with a cell assigning `values` after its cell tagged `parameters` (at
    the top when it has none), as papermill does; an earlier injected cell is replaced."""
    if len(notebook) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
    try:
        document = json.loads(notebook.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"the notebook is not JSON ({str(exc)[:100]})") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ValueError("the notebook has no list of cells")

    def tags(cell) -> list:
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        found = meta.get("tags") if isinstance(meta, dict) else None
        return found if isinstance(found, list) else []

    cells = [c for c in cells if INJECTED_TAG not in tags(c)]
    at = next((i + 1 for i, c in enumerate(cells) if "parameters" in tags(c)), 0)
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [INJECTED_TAG]},
        "outputs": [],
        "source": injected_source(values),
    }
    minor = document.get("nbformat_minor")
    if isinstance(minor, int) and minor >= 5:
        ids = {c.get("id") for c in cells if isinstance(c, dict)}
        names = (INJECTED_TAG if n == 0 else f"{INJECTED_TAG}-{n}" for n in range(len(ids) + 1))
        cell["id"] = next(name for name in names if name not in ids)
    cells.insert(at, cell)
    document["cells"] = cells
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def copy_name(entry: str) -> str:
    """Where the injected copy of the entry notebook goes, beside it (so its relative
    paths still work): `notebooks/fit.ipynb` -> `notebooks/fit.launch.ipynb`."""
    return entry[: -len(".ipynb")] + COPY_SUFFIX


# -- in the container ---------------------------------------------------------------------


class Refused(Exception):
    """A launch that must not start: one sentence for the scientist."""


def _write_atomically(path: str, data: bytes) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as fh:
        fh.write(data)
    os.replace(temporary, path)


def prepare(environ: dict, workdir: str) -> tuple[dict, list[str]]:
    """What the container's start-up does before the datalab's own start: read the
    declaration and the values from the environment, check them, write the injected copy
    of the entry notebook. Returns (the new environment, arguments for the application)."""
    raw = environ.get(SPEC_VARIABLE, "")
    given = [(key[len(ENV_PREFIX) :].lower(), value) for key, value in environ.items() if key.startswith(ENV_PREFIX)]
    if not raw:
        if given:
            raise Refused(f"{given[0][0]} is given, but this datalab declares no parameters.")
        return dict(environ), []
    if len(raw.encode("utf-8")) > MAX_SPEC_BYTES:
        raise Refused(f"the declaration of parameters ({SPEC_VARIABLE}) is larger than {MAX_SPEC_BYTES // 1024} KiB.")
    try:
        specs = json.loads(raw)
    except (ValueError, RecursionError):
        raise Refused(f"the declaration of parameters ({SPEC_VARIABLE}) is not JSON.") from None
    if not isinstance(specs, list) or len(specs) > MAX_PARAMETERS or not all(isinstance(s, dict) for s in specs):
        raise Refused(f"the declaration of parameters ({SPEC_VARIABLE}) is not a list of at most {MAX_PARAMETERS} parameters.")
    for spec in specs:
        if not isinstance(spec.get("name"), str) or not NAME.fullmatch(spec["name"]) or spec.get("type") not in TYPES:
            raise Refused(f"the declaration of parameters ({SPEC_VARIABLE}) holds a parameter without a valid name and type.")
        if spec.get("pattern") is not None and pattern_problem(spec["pattern"]):
            raise Refused(f"the declaration of {spec['name']}: {pattern_problem(spec['pattern'])}.")
    # An environment variable's name cannot be given twice, but SCIAPPS_PARAM_OBSID and a
    # lower-case twin can: both read as `obsid`, which read_values refuses as repeated.
    values, problems = read_values(specs, given)
    if problems:
        raise Refused(problems[0])
    environment = {k: v for k, v in environ.items() if not k.startswith(ENV_PREFIX)}
    environment.update({env_name(name): as_text(value) for name, value in values.items()})
    entry = environ.get("DATALAB_ENTRY", "")
    if entry.endswith(".ipynb") and values:
        root = os.path.realpath(workdir)
        source = os.path.realpath(os.path.join(root, entry))
        if os.path.commonpath([root, source]) != root or not os.path.isfile(source):
            raise Refused(f"the entry notebook {entry} is not a file of the datalab.")
        with open(source, "rb") as fh:
            notebook = fh.read(MAX_NOTEBOOK_BYTES + 1)
        try:
            injected = inject(notebook, values)
        except ValueError as exc:
            raise Refused(f"the entry notebook {entry} cannot take the parameters: {exc}.") from None
        _write_atomically(os.path.join(root, copy_name(os.path.relpath(source, root))), injected)
        environment["DATALAB_ENTRY"] = copy_name(os.path.relpath(source, root))
    arguments = [as_text(values[s["name"]]) for s in specs if s.get("argument") and s["name"] in values]
    return environment, arguments


def main(argv: list[str]) -> int:
    """`launchparams.py start -- COMMAND...`: check, inject, then run COMMAND (with the
    arguments of the parameters marked `argument` appended) in place of this process."""
    if len(argv) < 3 or argv[0] != "start" or argv[1] != "--":
        print("usage: launchparams.py start -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    command = argv[2:]
    try:
        workdir = os.path.join(os.environ.get("HOME") or "/home/datalab", "work")
        environment, arguments = prepare(dict(os.environ), workdir)
    except Refused as exc:
        print(f"sciapps: refusing to start: {exc}", file=sys.stderr)
        return 64
    except OSError as exc:
        print(f"sciapps: refusing to start: cannot prepare the parameters ({exc.strerror}).", file=sys.stderr)
        return 64
    os.execvpe(command[0], [*command, *arguments], environment)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
