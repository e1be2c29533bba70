"""Reading YAML safely and fast.

Documents are parsed with PyYAML's C loader (libyaml). On top of it this module refuses
what a hand-written metadata file should never contain and a plain loader lets through:
duplicate keys (the last one silently wins), keys that are not text, alias bombs
(a few lines that expand to millions of nodes) and nesting deep enough to exhaust the
stack. Dates stay text (`2024-05-01` is not turned into a date object), so the file means
the same in Python, in JSON and in the browser.

Line numbers are recovered only when something must be reported: `LineIndex` composes
the text again (also in C) and maps JSON paths to lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

import yaml

MAX_NODES = 50_000  # nodes after aliases are expanded
MAX_DEPTH = 64


class YamlProblem(Exception):
    """A document that cannot be accepted; `kind` selects the rule that reports it."""

    def __init__(self, kind: str, message: str, line: int | None = None):
        super().__init__(message)
        self.kind = kind  # "syntax", "duplicate-key", "unsafe", "tag"
        self.message = message
        self.line = line


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(yaml.CSafeLoader):
    """C-accelerated safe loader that rejects duplicate and non-text keys."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        # Fast checks in C; the slow search below runs only when one fails.
        if len(mapping) != len(node.value) or not set(map(type, mapping)) <= {str}:
            self._explain_keys(node)
        return mapping

    @staticmethod
    def _explain_keys(node) -> None:
        seen: dict[str, Any] = {}
        # Pairs merged in with "<<" come first in node.value and may be overridden: skip them.
        for key_node, _ in node.value[getattr(node, "merged_pairs", 0) :]:
            if key_node.tag != _STR:
                raise YamlProblem(
                    "syntax",
                    f"key {key_node.value!r} is not read as text ({key_node.tag.rsplit(':', 1)[-1]}); put it in quotes",
                    key_node.start_mark.line + 1,
                )
            if key_node.value in seen:
                line = key_node.start_mark.line + 1
                raise YamlProblem(
                    "duplicate-key",
                    f"key {key_node.value!r} appears twice (lines {seen[key_node.value].line + 1} and {line}); keep one",
                    line,
                )
            seen[key_node.value] = key_node.start_mark

    has_merge = True  # load() sets it from the text: no "<<", no merge keys to track

    def flatten_mapping(self, node):
        if not self.has_merge:
            return super().flatten_mapping(node)
        own = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE)
        super().flatten_mapping(node)
        node.merged_pairs = len(node.value) - own


def _refuse_tag(loader, node):
    """Explicit tags (`!!binary`, `!!set`, `!!timestamp`, `!!omap`, `!!pairs`, `!local`, …)
    make values that are not JSON: refused, with their line, before anything uses them."""
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    raise YamlProblem(
        "tag",
        f"the value tagged {tag[:60]} is not plain text, a number, true/false, a list or a mapping; remove the tag",
        node.start_mark.line + 1,
    )


for _tag in ("binary", "timestamp", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
_Loader.add_constructor(None, _refuse_tag)  # any tag the loader does not know

# Timestamps stay strings: remove the implicit resolver for them.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def _check_size(data: Any) -> None:
    """Refuse alias bombs and deep nesting: count nodes as if aliases were expanded."""
    sizes: dict[int, int] = {}

    def size(obj: Any, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise YamlProblem("unsafe", f"nesting is deeper than {MAX_DEPTH} levels")
        if isinstance(obj, dict):
            children: Iterable[Any] = obj.values()
        elif isinstance(obj, list):
            children = obj
        else:
            return 1
        key = id(obj)
        if key in sizes:
            return sizes[key]
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise YamlProblem(
                    "unsafe",
                    f"the document expands to more than {MAX_NODES} values (anchors and aliases repeated "
                    "over and over, an 'alias bomb'); write the values out instead of using aliases",
                )
        sizes[key] = total
        return total

    size(data, 0)


def _indent(lines: list[str], n: int) -> int:
    line = lines[n - 1] if 0 < n <= len(lines) else ""
    return len(line) - len(line.lstrip(" "))


def _unclosed_quote(lines: list[str]) -> int | None:
    """The first line whose value opens a quote it does not close (`key: "text` …)."""
    for number, line in enumerate(lines, 1):
        value = line.split(": ", 1)[1].strip() if ": " in line and not line.lstrip().startswith("#") else ""
        for quote in ('"', "'"):
            if value.startswith(quote) and (len(value) == 1 or not value.rstrip(",]} ").endswith(quote)):
                return number
    return None


def plain_words(exc: "yaml.MarkedYAMLError", text: str) -> tuple[int | None, str]:
    """(line, what is wrong in plain words) of a YAML syntax error. PyYAML names where it
    gave up; the mistake is usually where the unclosed thing started (`context_mark`)."""
    problem, context = str(exc.problem or ""), str(exc.context or "")
    at = exc.problem_mark.line + 1 if exc.problem_mark else None
    began = exc.context_mark.line + 1 if exc.context_mark else at
    lines = text.splitlines()

    def shown(n: int | None) -> str:
        return lines[n - 1].strip()[:60] if n and 0 < n <= len(lines) else ""

    opened = _unclosed_quote(lines[: at or len(lines)])
    if opened is not None and "quoted scalar" not in context:
        return opened, f"a text opened with a quote on line {opened} is never closed: add the closing quote"
    if "quoted scalar" in context:
        return began, f"a text opened with a quote on line {began} is never closed: add the closing quote"
    if "flow sequence" in context:
        return began, f"a list opened with [ on line {began} is not closed with ] (or an item in it lacks its comma)"
    if "flow mapping" in context:
        return began, f"a mapping opened with {{ on line {began} is not closed with }} (or an entry in it lacks its comma)"
    if at and at >= 2 and _indent(lines, at) > _indent(lines, at - 1) and not lines[at - 2].rstrip().endswith((":", "-")):
        return at, f"line {at} ({shown(at)!r}) is indented more than the line above it: line them up"
    if "mapping values are not allowed" in problem:
        return at, f"line {at} ({shown(at)!r}) has a ': ' inside a value: put that value in quotes"
    if at and 0 < at <= len(lines) and lines[at - 1][: len(lines[at - 1]) - len(lines[at - 1].lstrip())].count("\t"):
        return at, f"line {at} is indented with a tab: YAML needs spaces"
    if "did not find expected key" in problem or "expected <block end>" in problem:
        return at, (
            f"line {at} ({shown(at)!r}) does not fit where it is: check its indentation against the lines above, "
            "and quote a value that starts with a quote, a [ or a {"
        )
    if "could not find expected ':'" in problem:
        return at, f"line {at} ({shown(at)!r}) needs a `key: value` form (a ':' and a space)"
    words = ": ".join(x for x in (context, problem) if x) or "not valid YAML"
    return at, words


# A plain (unquoted) scalar YAML may read as another value than the one written: octal and
# hexadecimal numbers (`0123456701` is 21913025), numbers whose text does not survive
# (`1.10` is 1.1, `1_000`, `.5`), and YAML 1.1's words for true and false (`yes`, `no`,
# `on`, `off`, `y`, `n`), which YAML 1.2 and JSON read as text. Checked only when the text
# has one.
_RISKY = re.compile(
    r"(?:^|(?<=[\s\[,{]))(?:"
    r"[-+]?0[0-7_]+|[-+]?0[xXoObB][0-9a-fA-F_]+"  # YAML 1.1 octal, hexadecimal, binary
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"  # sexagesimal: 1:20 is 80
    r"|[-+]?[0-9]*_[0-9_.]*|[-+]?[0-9_]*\.[0-9_]*0|[-+]?\.[0-9][0-9_]*|[-+]?[0-9]+\."  # underscores, lost zeros, .5, 1.
    r"|[-+]?[0-9][0-9_]*\.[0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?i:inf|nan)"
    r"|(?i:yes|no|on|off|y|n|true|false)"
    r")(?=[ \t]*(?:$|#|[,\]}]))",
    re.MULTILINE,
)
_KEEPS = {
    "tag:yaml.org,2002:int": lambda text, value: text in (str(value), f"+{value}"),
    "tag:yaml.org,2002:float": lambda text, value: text in (repr(value), f"+{value!r}"),
    "tag:yaml.org,2002:bool": lambda text, value: text.lower() == ("true" if value else "false"),
}  # null (`~`, `null`, nothing) is null to every reader: not a trap


@dataclass(frozen=True)
class Reread:
    """A plain scalar YAML reads as another value than its text."""

    line: int
    written: str
    read_as: Any

    def sentence(self) -> str:
        shown = ("true" if self.read_as else "false") if isinstance(self.read_as, bool) else self.read_as
        return f"`{self.written}` is read by YAML as {shown}, not as written"


def rereads(text: str) -> list[Reread]:
    """Every plain scalar of `text` (one valid document) that YAML reads as a value whose
    plain text is not what was written: `version: 1.10` (1.1), `obsid: 0123456701`
    (21913025, octal), `default: no` (false). JSON, the browser and YAML 1.2 read these
    otherwise, or the author meant the text: a finding, with its line."""
    if not _RISKY.search(text):
        return []
    loader = _Loader(text)
    found: list[Reread] = []
    try:
        stack = [loader.get_single_node()]
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.ScalarNode):
                keeps = _KEEPS.get(node.tag)
                if not node.style and keeps is not None:  # plain: None (Python) or "" (libyaml)
                    value = loader.construct_object(node)
                    if not keeps(node.value, value):
                        found.append(Reread(node.start_mark.line + 1, node.value, value))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                stack.extend(v for pair in node.value for v in pair)
            if len(found) >= 100:
                break
    except (yaml.YAMLError, RecursionError):
        return []  # load() says what is wrong with it
    finally:
        loader.dispose()
    return sorted(found, key=lambda r: r.line)


def load(text: str) -> Any:
    """Parse one YAML document; raise YamlProblem with a line number on anything unacceptable."""
    # libyaml itself refuses nesting deeper than 1,000 levels, before Python recurses.
    loader = _Loader(text)
    loader.has_merge = "<<" in text
    try:
        data = loader.get_single_data()
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        line, problem = plain_words(exc, text)
        raise YamlProblem("syntax", problem, line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem("syntax", str(exc).splitlines()[0]) from None
    except RecursionError:
        raise YamlProblem("unsafe", "the document nests too deeply to read") from None
    finally:
        loader.dispose()
    if "*" in text:  # only aliases can make a small text expand
        _check_size(data)
    return data


@dataclass
class LineIndex:
    """Maps JSON paths (tuples of keys and indices) of a document to 1-based lines."""

    lines: dict[tuple, int]

    @classmethod
    def build(cls, text: str) -> "LineIndex":
        lines: dict[tuple, int] = {}
        try:
            root = yaml.compose(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            return cls(lines)
        stack: list[tuple[tuple, Any]] = [((), root)] if root is not None else []
        while stack:
            path, node = stack.pop()
            lines.setdefault(path, node.start_mark.line + 1)
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    child = path + (key_node.value,)
                    lines[child] = key_node.start_mark.line + 1
                    if isinstance(value_node, (yaml.MappingNode, yaml.SequenceNode)):
                        stack.append((child, value_node))
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    stack.append((path + (index,), item))
        return cls(lines)

    def line(self, path: Iterable) -> int | None:
        """Line of the deepest part of `path` the document has."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


# Text that a YAML 1.2 reader (Go's, Helm's) takes for a number, a boolean or null although
# PyYAML (YAML 1.1) writes it bare: `0123456789` (not a 1.1 octal), `0o17`, `1_000`, `.5e3`...
_AMBIGUOUS = re.compile(
    r"[-+]?[0-9a-fA-FxXoObB_.]*[0-9][0-9a-fA-FxXoObB_.eE+-]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
)


class _UnambiguousDumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str):
    style = '"' if _AMBIGUOUS.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_UnambiguousDumper.add_representer(str, _text)


def dump_unambiguous(data: Any) -> str:
    """YAML that every reader takes alike: text that any YAML version could read as a
    number, a boolean or null is quoted (an observation id `0123456789` stays text in
    Helm). For files other tools read: chart values, Chart.yaml."""
    return yaml.dump(data, Dumper=_UnambiguousDumper, sort_keys=False, allow_unicode=True)
