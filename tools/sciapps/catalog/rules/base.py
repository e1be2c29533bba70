"""What a lint rule is, and the finding it reports.

A rule is one class: its name is the rule's readable name (`MissingFile` ->
`missing_file`), `id` is stable forever (`DL-031`), `hint` is the one-line remedy, and
the docstring is the documentation: first line the title, the rest why it matters and how
to fix it. `requires` lists rules that, when they fired on a datalab, make this one skip
it, so one root cause does not produce ten findings.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Iterable, Iterator

from sciapps.config import Config
from sciapps.text import printable

if TYPE_CHECKING:
    from sciapps.catalog.model import Datalab

ERROR = "error"
WARNING = "warning"


def json_path(parts: Iterable) -> str:
    """`("maintainers", 0, "email")` -> `$.maintainers[0].email`."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", str(part)):
            out += f".{part}"
        else:
            out += "[" + repr(str(part)) + "]"
    return out


@dataclass(frozen=True)
class Finding:
    rule_id: str
    rule: str
    severity: str
    file: str
    line: int | None
    path: str | None
    message: str
    hint: str

    def format(self) -> str:
        """One line, whatever the datalab put in its names and values (see `text.printable`)."""
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        parts = [where]
        if self.path:
            parts.append(self.path)
        parts.append(f"{self.rule_id} {self.rule}:")
        text = " ".join(parts) + f" {self.message}"
        if self.severity == WARNING:
            text += " [warning]"
        return printable(text + (f" (hint: {self.hint})" if self.hint else ""))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Context:
    """What rules share while one catalog is validated."""

    config: Config
    verbose: bool = False
    first_dir: dict[str, Path] = field(default_factory=dict)  # directory name -> first folder of that name


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Rule:
    id: ClassVar[str]
    hint: ClassVar[str] = ""
    severity: ClassVar[str] = ERROR
    requires: ClassVar[tuple[type["Rule"], ...]] = ()
    needs_metadata: ClassVar[bool] = True
    exceptable: ClassVar[bool] = False

    @classmethod
    def name(cls) -> str:
        return _snake(cls.__name__)

    @classmethod
    def title(cls) -> str:
        return inspect.getdoc(cls).splitlines()[0]

    @classmethod
    def explanation(cls) -> str:
        return inspect.getdoc(cls).partition("\n")[2].strip()

    def check(self, lab: "Datalab", ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError

    @classmethod
    def finding(
        cls,
        lab: "Datalab",
        message: str,
        *,
        path: tuple = (),
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> Finding:
        """A finding in `file` (default datalab.yaml); its line comes from `path` when not given."""
        if file is None and line is None and lab.text is not None:
            line = lab.line(path)
        return Finding(
            rule_id=cls.id,
            rule=cls.name(),
            severity=cls.severity,
            file=lab.display(file),
            line=line,
            path=json_path(path) if path else None,
            message=message,
            hint=cls.hint if hint is None else hint,
        )


def rule_by_id(rule_id: str) -> type[Rule] | None:
    """The rule class with this id, among every rule defined (asked of the classes, so a
    rule module needs no import of the list that names it)."""
    pending = list(Rule.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__dict__.get("id") == rule_id:
            return cls
        pending += cls.__subclasses__()
    return None
