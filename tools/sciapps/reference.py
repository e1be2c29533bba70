"""Generated files: every copy of a fact that is written from its one source.

- the datalab JSON Schema and its reference page, from schemas/source/ and the type table;
- the rules page and rules.json (what the Create page's checks cite), from the rule classes;
- the stage-result schema's `stage` enum, from the ordered list of stages;
- the chart's values schema (resource bounds, id pattern, types) and its type map.

`sciapps schema generate` writes them; `--check` (and a test) fails when one is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from sciapps.catalog.rules import RULES_BY_ID
from sciapps.charts.chart import TYPES_TEMPLATE, VALUES_SCHEMA, types_template, values_schema
from sciapps.resources import repo_root
from sciapps import ledger
from sciapps.results import SCHEMA_FILE as RESULT_SCHEMA
from sciapps.schema import REFERENCE_PAGE, SCHEMA_FILE, build_schema, render_reference, schema_json
from sciapps import stages

RULES_PAGE = Path("site") / "docs" / "reference" / "rules.md"
RULES_JSON = Path("site") / "docs" / "reference" / "rules.json"
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


def rules_data() -> list[dict]:
    """Every rule as data: `sciapps rules --format json` and rules.json."""
    return [
        {"id": r.id, "name": r.name(), "severity": r.severity, "exceptable": r.exceptable, "title": r.title(), "hint": r.hint}
        for r in RULES_BY_ID.values()
    ]


def rules_listing(fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rules_data(), indent=2)
    return "\n".join(f"{r.id}  {r.name():26} {r.severity:8} {r.title()}" for r in RULES_BY_ID.values())


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _result_schema(root: Path) -> str:
    schema = json.loads((root / "schemas" / RESULT_SCHEMA).read_text(encoding="utf-8"))
    names = [stage.NAME for stage in stages.STAGES]
    schema["properties"]["stage"]["enum"] = names
    schema["properties"]["stage"]["description"] = (
        "The stage that wrote it; the enum is the pipeline's order, "
        "written from sciapps.stages.STAGES by `sciapps schema generate`."
    )
    schema["description"] = f"What one stage ({', '.join(names)}) concluded about one datalab: build/results/<id>/<stage>.json."
    # where the build staged its image for the later jobs, the one fact that travels between them (sciapps.ledger)
    schema["$defs"] = {"staged": ledger.STAGED_SCHEMA}
    schema["allOf"] = [
        {
            "if": {"properties": {"stage": {"const": "build"}}},
            "then": {"properties": {"details": {"properties": {"staged": {"$ref": "#/$defs/staged"}}}}},
        }
    ]
    return _json(schema)


def generated_files(root: Path | None = None) -> dict[Path, str]:
    """Path (relative to the repository) -> content it must have."""
    root = root or repo_root()
    schema = build_schema(root / "schemas")
    chart_values = json.loads((root / VALUES_SCHEMA).read_text(encoding="utf-8"))
    return {
        Path("schemas") / SCHEMA_FILE: schema_json(schema),
        REFERENCE_PAGE: render_reference(schema),
        RULES_PAGE: render_rules(),
        RULES_JSON: _json({"$comment": RULES_BANNER, "rules": rules_data()}),
        Path("schemas") / RESULT_SCHEMA: _result_schema(root),
        VALUES_SCHEMA: _json(values_schema(chart_values, schema)),
        TYPES_TEMPLATE: types_template(),
    }


def generate(check: bool, root: Path | None = None) -> list[Path]:
    """With `check`: the stale files, writing nothing. Else: the files written."""
    return stale(root) if check else write(root)


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
