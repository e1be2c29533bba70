"""Generated files: the JSON Schema and the reference pages, from their one source each.

`sciapps schema generate` writes them; `--check` (and a test) fails when one is stale.
"""

from __future__ import annotations

from pathlib import Path

from sciapps.catalog.rules import RULES_BY_ID
from sciapps.resources import repo_root
from sciapps.schema import REFERENCE_PAGE, SCHEMA_FILE, build_schema, render_reference, schema_json

RULES_PAGE = Path("site") / "docs" / "reference" / "rules.md"
RULES_BANNER = "Generated from the rule classes in tools/sciapps/catalog/rules/ by `sciapps schema generate`; do not edit."


def render_rules() -> str:
    lines = [
        f"<!-- {RULES_BANNER} -->",
        "# Validation rules",
        "",
        "`sciapps validate` checks every datalab with these rules. Each finding reads "
        "`file:line: $.field RULE-ID rule_name: message (hint: ...)`.",
        "",
        "| id | rule | severity | may be excepted | title |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| [{r.id}](#{r.id.lower()}) | `{r.name()}` | {r.severity} | {'yes' if r.exceptable else ''} | {r.title()} |"
        for r in RULES_BY_ID.values()
    ]
    for rule in RULES_BY_ID.values():
        lines += ["", f"## {rule.id}", "", f"**`{rule.name()}`**: {rule.title()}", "", rule.explanation()]
        if rule.hint:
            lines += ["", f"Fix: {rule.hint}"]
    return "\n".join(lines) + "\n"


def generated_files(root: Path | None = None) -> dict[Path, str]:
    """Path (relative to the repository) -> content it must have."""
    root = root or repo_root()
    schema = build_schema(root / "schemas")
    return {
        Path("schemas") / SCHEMA_FILE: schema_json(schema),
        REFERENCE_PAGE: render_reference(schema),
        RULES_PAGE: render_rules(),
    }


def stale(root: Path | None = None) -> list[Path]:
    root = root or repo_root()
    out = []
    for rel, content in generated_files(root).items():
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            out.append(rel)
    return out


def write(root: Path | None = None) -> list[Path]:
    """Write every stale generated file (atomically); return those written."""
    root = root or repo_root()
    written = []
    for rel, content in generated_files(root).items():
        path = root / rel
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)
        written.append(rel)
    return written

