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
import functools
import json
import math
import os
import re
import signal
import sys
import threading
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
MAX_MATCH_SECONDS = 1.0  # the container's second line of defence: no pattern may take longer on one value


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


# Launch patterns: one dialect that Python (`re`, ASCII) and JavaScript (`RegExp` with the
# `u` flag) read the same way, and that cannot backtrack exponentially or polynomially.
# A pattern is parsed here, never just tried: plain characters, `.`, `\d \w \D \W`, escaped
# syntax characters, classes `[...]` / `[^...]` with ranges, groups `(...)` / `(?:...)`,
# alternation, and `* + ? {n} {n,} {n,m}` (n <= m <= 256); `^` first and `$` last only. Then
# its position automaton (Glushkov's) must be deterministic, so that at every step of a
# match the next character decides the way (a backtracking matcher then takes linear
# time), and no repetition may hold a repetition at any depth, nor repeat what can match
# nothing (each way round, the engines' own loop bookkeeping would multiply the paths).
_MAX_CODE = 0x10FFFF
_SYNTAX = frozenset("^$\\.*+?()[]{}|/")  # what `\` may escape outside a class (JavaScript's `u` refuses others)
_CLASS_SYNTAX = _SYNTAX | {"-"}
_DIGIT = ((0x30, 0x39),)
_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_LINE_ENDS = ((0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029))
_REPEAT_MAX = 256  # no value is longer


class _Unsafe(ValueError):
    pass


def _complement(ranges):
    out, start = [], 0
    for low, high in sorted(ranges):
        if low > start:
            out.append((start, low - 1))
        start = max(start, high + 1)
    if start <= _MAX_CODE:
        out.append((start, _MAX_CODE))
    return tuple(out)


_CLASS_ESCAPES = {"d": _DIGIT, "w": _WORD, "D": _complement(_DIGIT), "W": _complement(_WORD)}
_ANY = _complement(_LINE_ENDS)


class _Parser:
    """Pattern text -> a tree of ("set", ranges) | ("seq", [..]) | ("alt", [..]) | ("rep", node, low, high)."""

    def __init__(self, text: str):
        self.text, self.at = text, 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.at += 1
        return char

    def parse(self):
        text = self.text
        if text.startswith("^"):
            self.at = 1
        end = len(text) - 1 if text.endswith("$") and not text.endswith("\\$") and len(text) > self.at else len(text)
        self.text = text[:end]
        node = self.alternation()
        if self.at < len(self.text):
            raise _Unsafe("a lone `)`" if self.peek() == ")" else f"`{self.peek()}` where it cannot stand")
        return node

    def alternation(self):
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def sequence(self):
        items = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            items.append(self.quantified(atom))
        return ("seq", items)

    def quantified(self, atom):
        char = self.peek()
        if char not in ("*", "+", "?", "{"):
            return atom
        self.take()
        if char == "{":
            low, high = self.counts()
        else:
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        if self.peek() in ("*", "+", "?", "{"):
            raise _Unsafe("a quantifier right after a quantifier (lazy or doubled repetitions read differently)")
        return ("rep", atom, low, high)

    def counts(self):
        match = re.compile(r"([0-9]{1,3})(,([0-9]{1,3})?)?\}").match(self.text, self.at)
        if not match:
            raise _Unsafe("a `{` that is not a repetition {n}, {n,} or {n,m}")
        self.at = match.end()
        low = int(match[1])
        high = low if match[2] is None else (int(match[3]) if match[3] else None)
        if (high is not None and high < low) or max(low, high or 0) > _REPEAT_MAX:
            raise _Unsafe(f"a repetition count out of order or above {_REPEAT_MAX}")
        return low, high

    def atom(self):
        char = self.take()
        if char == "(":
            if self.text.startswith("?:", self.at):
                self.at += 2
            elif self.peek() == "?":
                raise _Unsafe("a `(?` group other than (?:...)")
            node = self.alternation()
            if self.take() != ")":
                raise _Unsafe("a `(` without its `)`")
            return node
        if char == "[":
            return ("set", self.klass())
        if char == ".":
            return ("set", _ANY)
        if char == "\\":
            return ("set", self.escape(_SYNTAX))
        if char in ("*", "+", "?", "{"):
            raise _Unsafe(f"`{char}` with nothing to repeat")
        if char in ("]", "}"):
            raise _Unsafe(f"a lone `{char}` (escape it as \\{char})")
        if char in ("^", "$"):
            raise _Unsafe(f"`{char}` anywhere but at the very {'start' if char == '^' else 'end'}")
        return ("set", self.literal(char))

    def literal(self, char: str):
        if unicodedata.category(char) in _REFUSED_CATEGORIES or (char.isspace() and char != " "):
            raise _Unsafe(f"the invisible or control character U+{ord(char):04X}")
        return ((ord(char), ord(char)),)

    def escape(self, allowed):
        char = self.take()
        if char in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[char]
        if char in allowed:
            return ((ord(char), ord(char)),)
        digits = {"x": 2, "u": 4}.get(char)
        if digits and re.fullmatch("[0-9A-Fa-f]{%d}" % digits, self.text[self.at : self.at + digits]):
            code = int(self.text[self.at : self.at + digits], 16)
            self.at += digits
            return ((code, code),)
        raise _Unsafe(f"the escape \\{char} (only \\d \\w \\D \\W, \\xHH, \\uHHHH and escaped syntax characters read alike)")

    def klass(self):
        negated = self.peek() == "^"
        if negated:
            self.take()
        if self.peek() == "]":
            raise _Unsafe("`[]` or `[^]` (JavaScript reads them as nothing or anything, Python as a `]`)")
        ranges, previous, after_range = [], None, False
        while True:
            char = self.take()
            if char == "":
                raise _Unsafe("a `[` without its `]`")
            if char == "]":
                break
            if char == "[":
                raise _Unsafe("a `[` inside a class (escape it as \\[)")
            if char == "-" and previous is not None and self.peek() not in ("]", ""):
                high = self.class_char()
                if high is None or high < previous[0] or after_range:
                    raise _Unsafe("a range in a class that is not two characters in order")
                ranges[-1] = (previous[0], high)
                previous, after_range = None, True
                continue
            if char == "\\" and self.peek() in _CLASS_ESCAPES:
                if self.text.startswith("-", self.at + 1) and self.text[self.at + 2 : self.at + 3] not in ("]", ""):
                    raise _Unsafe("a range from \\d, \\w, \\D or \\W")
                ranges += self.escape(_CLASS_SYNTAX)
                previous, after_range = None, False
                continue
            self.at -= 1
            code = self.class_char()
            ranges.append((code, code))
            previous, after_range = (code,), False
        return _complement(ranges) if negated else tuple(sorted(ranges))

    def class_char(self):
        char = self.take()
        if char == "\\":
            if self.peek() in _CLASS_ESCAPES:
                return None
            return self.escape(_CLASS_SYNTAX)[0][0]
        if char in ("", "]", "["):
            return None
        return self.literal(char)[0][0]


def _repeats(node) -> bool:
    """Whether `node` holds a repetition (`?` is none: it matches once at most)."""
    kind = node[0]
    if kind == "rep":
        return node[3] is None or node[3] > 1 or _repeats(node[1])
    if kind in ("seq", "alt"):
        return any(_repeats(child) for child in node[1])
    return False


def _nullable(node) -> bool:
    kind = node[0]
    if kind == "set":
        return False
    if kind == "seq":
        return all(_nullable(child) for child in node[1])
    if kind == "alt":
        return any(_nullable(child) for child in node[1])
    return node[2] == 0 or _nullable(node[1])


def _shape(node) -> None:
    """No repetition inside a repetition at any depth; nothing repeated or made optional
    that can already match nothing."""
    kind = node[0]
    if kind in ("seq", "alt"):
        for child in node[1]:
            _shape(child)
    elif kind == "rep":
        body, high = node[1], node[3]
        if (high is None or high > 1) and _repeats(body):
            raise _Unsafe("a repetition inside a repetition, such as (a+)+ or (?:a{2})*")
        if _nullable(body):
            raise _Unsafe("a repetition or `?` of something that can match nothing, such as (a?)* or (?:)+")
        _shape(body)


class _Glushkov:
    """The position automaton: each character set of the pattern is a position; `follow`
    says which positions may come next."""

    def __init__(self):
        self.sets: list = []
        self.follow: list = []
        self.twice = False  # one step reached in two ways: two paths of the pattern for one text

    def link(self, sources, targets) -> None:
        for position in sources:
            if self.follow[position] & targets:
                self.twice = True
            self.follow[position] |= targets

    def build(self, node):
        """(nullable, first positions, last positions) of `node`, filling `follow`."""
        kind = node[0]
        if kind == "set":
            self.sets.append(node[1])
            self.follow.append(set())
            if len(self.sets) > 4096:
                raise _Unsafe("too many parts to check")
            index = len(self.sets) - 1
            return False, {index}, {index}
        if kind == "alt":
            parts = [self.build(child) for child in node[1]]
            return any(p[0] for p in parts), set().union(*(p[1] for p in parts)), set().union(*(p[2] for p in parts))
        if kind == "seq":
            return self.sequence_of(node[1])
        if kind in ("star", "opt"):
            return self.sequence_of([node])
        body, low, high = node[1], node[2], node[3]
        # Two copies that must match and two that may show every kind of step the engine takes
        low_kept = min(low, 2)
        optional = None if high is None else min(high - low, 2)
        items = [body] * low_kept
        if high is None:
            items.append(("star", body))
        elif optional:
            nested = ("opt", body)
            for _ in range(optional - 1):
                nested = ("opt", ("seq", [body, nested]))
            items.append(nested)
        return self.sequence_of(items)

    def sequence_of(self, items):
        """`build` of items one after the other; a ("star", x) or ("opt", x) item is x repeated or optional."""
        nullable, first, last = True, set(), set()
        for item in items:
            if item[0] in ("star", "opt"):
                n, f, ends = self.build(item[1])
                if item[0] == "star":
                    self.link(ends, f)
                n = True
            else:
                n, f, ends = self.build(item)
            self.link(last, f)
            if nullable:
                first |= f
            last = (last | ends) if n else ends
            nullable = nullable and n
        return nullable, first, last

    def overlap(self, positions) -> bool:
        """Whether two of `positions` can match one character."""
        spans = sorted((low, high, p) for p in positions for low, high in self.sets[p])
        reach, owner = -1, None
        for low, high, position in spans:
            if low <= reach and position != owner:
                return True
            if high > reach:
                reach, owner = high, position
        return False


def _deterministic(tree) -> bool:
    automaton = _Glushkov()
    _, first, _ = automaton.build(tree)
    return not automaton.twice and not automaton.overlap(first) and not any(automaton.overlap(f) for f in automaton.follow)


def pattern_problem(pattern: object) -> str | None:
    """Why a `pattern` cannot be used on both sides (page and container), or None."""
    if not isinstance(pattern, str) or not pattern:
        return "a pattern is a non-empty text"
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"the pattern is longer than {MAX_PATTERN_CHARS} characters"
    try:
        tree = _Parser(pattern).parse()
        _shape(tree)
    except _Unsafe as exc:
        return f"the pattern has {exc}, which launch patterns do not allow"
    except RecursionError:
        return "the pattern nests too deeply"
    if not _deterministic(tree):
        return (
            "the pattern lets one character be matched in two ways (as in (a|ab)+, \\d*\\d* or a?a), "
            "which can take exponential or polynomial time on a hostile value"
        )
    try:
        re.compile(pattern, re.ASCII)
    except re.error as exc:
        return f"the pattern is not a regular expression ({exc})"
    return None


class _Late(Exception):
    """A match stopped by the timer."""


def _late(*_):
    raise _Late


def _fullmatch(pattern: str, text: str) -> bool | None:
    """re.fullmatch, within MAX_MATCH_SECONDS where a timer can stop it (the main thread:
    every container start-up), else plain; None when it took too long. DL-066 already
    refuses every pattern that could: this is the second line of defence."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return re.fullmatch(pattern, text, re.ASCII) is not None
    previous = signal.signal(signal.SIGALRM, _late)
    try:
        signal.setitimer(signal.ITIMER_REAL, MAX_MATCH_SECONDS)
        return re.fullmatch(pattern, text, re.ASCII) is not None
    except _Late:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


UNCHECKABLE = "cannot be checked: its pattern is not one launch patterns allow (DL-066)"


@functools.lru_cache(maxsize=64)
def _checked_pattern(pattern: str) -> str | None:
    return pattern_problem(pattern)


def patterns_of(spec: dict) -> list:
    """Every pattern a string value must match: the declared one (for a parameter that
    selects mission data, the catalog's id pattern) and, then, the datalab's own narrower
    one (`own_pattern`), never instead."""
    return [p for p in (spec.get("pattern"), spec.get("own_pattern")) if p is not None]


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


_DIGITS = re.compile(r"\^\[0-9\]\{([0-9]{1,3})(?:,([0-9]{1,3}))?\}\$")


def digit_count(pattern: object) -> tuple[int, int] | None:
    """(fewest, most) digits when `pattern` takes only digits, `^[0-9]{n}$` or `^[0-9]{n,m}$`
    (how catalogs write ids), else None; params.js reads patterns the same way."""
    found = _DIGITS.fullmatch(pattern) if isinstance(pattern, str) else None
    if not found:
        return None
    return int(found[1]), int(found[2] or found[1])


def _digits_hint(pattern: str, text: str) -> str:
    """What is wrong with `text` against an all-digit id pattern, said as the scientist
    would check it: ": 5 digits where 10 are needed"."""
    count = digit_count(pattern)
    if count is None:
        return ""
    if not all("0" <= c <= "9" for c in text):
        return ": it holds characters other than the digits 0 to 9"
    low, high = count
    needed = str(low) if low == high else f"{low} to {high}"
    return f": {len(text)} digit{'' if len(text) == 1 else 's'} where {needed} are needed"


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
        for pattern in patterns_of(spec):
            if not isinstance(pattern, str) or _checked_pattern(pattern):
                return None, UNCHECKABLE
            matched = _fullmatch(pattern, text)
            if matched is None:
                return None, "took too long to check against its pattern"
            if not matched:
                return None, f"is not in the expected form ({spec.get('form') or pattern})" + _digits_hint(pattern, text)
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
        for pattern in patterns_of(spec):
            if pattern_problem(pattern):
                raise Refused(f"the declaration of {spec['name']}: {pattern_problem(pattern)}.")
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
