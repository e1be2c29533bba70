"""The datalab schema: generated from its one source, loaded for validation, documented.

`schemas/source/datalab.schema.yaml` (Markdown descriptions, `x-vocabulary` placeholders)
is the source. `generate()` inlines the vocabularies and writes the JSON Schema used by
the validator, editors and the browser form, and the reference page of the store.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sciapps import yamlio
from sciapps.datalab_types import TYPES
from sciapps.errors import SciAppsError
from sciapps.resources import schemas_dir

BANNER = "Generated from schemas/source/datalab.schema.yaml by `sciapps schema generate`; do not edit."
SCHEMA_FILE = "datalab.schema.json"
REFERENCE_PAGE = Path("site") / "docs" / "reference" / "datalab-yaml.md"


def _read_yaml(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=yaml.CSafeLoader)


@cache
def vocabulary(name: str) -> dict[str, dict]:
    """A controlled vocabulary (`missions`, `categories`): id -> {name, ...}."""
    return _read_yaml(schemas_dir() / "vocabularies" / f"{name}.yaml")


def _inline_vocabularies(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "x-vocabulary":
                out["type"] = "string"
                out["enum"] = sorted(vocabulary(value))
                out["x-vocabulary"] = value
            else:
                out[key] = _inline_vocabularies(value)
        return out
    if isinstance(node, list):
        return [_inline_vocabularies(v) for v in node]
    return node


def build_schema(source_dir: Path | None = None) -> dict:
    """The JSON Schema generated from the source file."""
    source = _read_yaml((source_dir or schemas_dir()) / "source" / "datalab.schema.yaml")
    schema = {"$comment": BANNER}
    schema.update(_with_types(_inline_vocabularies(source)))
    return schema


def _with_types(node: Any) -> Any:
    """Fill the `x-datalab-types` placeholders from the type table."""
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, dict) and item.get("x-datalab-types") == "entry patterns":
                out += [
                    {
                        "if": {"properties": {"type": {"const": t.name}}, "required": ["type"]},
                        "then": {"properties": {"entry": {"pattern": t.entry_pattern}}},
                    }
                    for t in TYPES.values()
                ]
            else:
                out.append(_with_types(item))
        return out
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key != "x-datalab-types":
            out[key] = _with_types(value)
        elif value == "enum":
            out["description"] = "What the datalab opens: " + "; ".join(f"`{t.name}` ({t.title})" for t in TYPES.values()) + ".\n"
            out["enum"] = list(TYPES)
        elif value == "description":
            out["description"] = "What opens first. " + " ".join(f"For `{t.name}`: {t.opens}." for t in TYPES.values()) + "\n"
    return out


def schema_json(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@cache
def datalab_schema() -> dict:
    """The generated schema, as the validator uses it."""
    with open(schemas_dir() / SCHEMA_FILE, encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _id_pattern():
    import re

    return re.compile(datalab_schema()["properties"]["id"]["pattern"])


def is_datalab_id(value: object) -> bool:
    """Is `value` a valid datalab id (the schema's pattern)? Only such ids may name a
    folder, a file, an image or a page: anything else could be a path such as `../../x`."""
    return isinstance(value, str) and _id_pattern().fullmatch(value) is not None


def schema_version() -> int:
    return datalab_schema()["x-schema-version"]


# ---------------------------------------------------------------- reference page


def _type_of(spec: dict) -> str:
    if "enum" in spec:
        if "x-vocabulary" in spec:
            return f"one of the [{spec['x-vocabulary']}](#{spec['x-vocabulary']})"
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    if "anyOf" in spec:
        return " or ".join(_type_of(choice) for choice in spec["anyOf"])
    kind = spec.get("type", "")
    if kind == "array":
        return f"list of {_type_of(spec.get('items', {}))}"
    words = {"string": "text", "object": "mapping", "integer": "whole number", "boolean": "true / false"}
    if isinstance(kind, list):
        return " or ".join(words.get(k, k) for k in kind)
    return words.get(kind, kind)


def _constraints(spec: dict) -> str:
    parts = []
    for key, label in (("minimum", "≥"), ("maximum", "≤")):
        if key in spec:
            parts.append(f"{label} {spec[key]}")
    if "maxLength" in spec:
        parts.append(f"≤ {spec['maxLength']} characters")
    if "minItems" in spec:
        parts.append(f"≥ {spec['minItems']} items")
    if "maxItems" in spec:
        parts.append(f"≤ {spec['maxItems']} items")
    if "default" in spec:
        parts.append(f"default `{json.dumps(spec['default'])}`")
    return "; ".join(parts)


def _field_rows(props: dict, required: list, prefix: str) -> list[str]:
    rows = []
    for name, spec in props.items():
        path = f"{prefix}{name}"
        desc = " ".join(spec.get("description", "").split())
        req = "yes" if name in required else ""
        rows.append(f"| `{path}` | {_type_of(spec)} | {req} | {desc} | {_constraints(spec)} |")
        child = spec.get("items", spec) if spec.get("type") == "array" else spec
        if child.get("type") == "object" and "properties" in child:
            sub = f"{path}[]." if spec.get("type") == "array" else f"{path}."
            rows.extend(_field_rows(child["properties"], child.get("required", []), sub))
    return rows


def render_reference(schema: dict) -> str:
    lines = [
        f"<!-- {BANNER} -->",
        "# `datalab.yaml` reference",
        "",
        " ".join(schema["description"].split()),
        "",
        f"Schema version {schema['x-schema-version']}: [JSON Schema]({schema['$id']}). Editors that read the "
        "`# yaml-language-server: $schema=` comment at the top of a scaffolded file "
        "complete and check fields as you type.",
        "",
        "## Example",
        "",
        "```yaml",
        schema["x-example"].rstrip(),
        "```",
        "",
        "## Fields",
        "",
        "| field | type | required | description | limits |",
        "| --- | --- | --- | --- | --- |",
        *_field_rows(schema["properties"], schema["required"], ""),
        "",
        "Also: `entry` is "
        + "; ".join(f"{t.opens} when `type` is `{t.name}`" for t in TYPES.values())
        + "; `archived` is required when `status` is `archived`.",
    ]
    for name in ("missions", "categories"):
        lines += ["", f"## {name.capitalize()}", "", "| id | name |", "| --- | --- |"]
        lines += [f"| `{key}` | {entry['name']} |" for key, entry in sorted(vocabulary(name).items())]
    return "\n".join(lines) + "\n"


@cache
def _file_validator(schema_file: str) -> jsonschema.Draft202012Validator:
    with open(schemas_dir() / schema_file, encoding="utf-8") as fh:
        return jsonschema.Draft202012Validator(json.load(fh), format_checker=jsonschema.FormatChecker())


def load_validated(text: str, schema_file: str, shown: str) -> Any:
    """The data of one YAML settings file, checked against `schemas/<schema_file>`.

    Bad YAML or data the schema refuses is one `SciAppsError` naming `shown:line`, the
    field, and the schema to read: the one way SciApps reads sciapps.yaml, roles.yaml and
    the scan policy."""
    try:
        data: Any = yamlio.load(text)
    except yamlio.YamlProblem as exc:
        raise SciAppsError(f"{shown}:{exc.line or 1}: {exc.message}", "fix the YAML") from None
    data = {} if data is None else data
    error = jsonschema.exceptions.best_match(_file_validator(schema_file).iter_errors(data))
    if error is not None:
        line = yamlio.LineIndex.build(text).line(error.absolute_path)
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        hint = error.schema.get("x-hint") if isinstance(error.schema, dict) else None  # a field may say how to fix it
        raise SciAppsError(
            f"{shown}:{line or 1}: {where} {error.message}", hint or f"see schemas/{schema_file} for what is allowed"
        )
    return data
