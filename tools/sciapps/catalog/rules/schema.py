"""Rules checked by the JSON Schema (schemas/datalab.schema.json).

`SchemaViolation` runs the schema and hands each error to the first more specific rule
that claims it, so a misspelt field, a missing one or an unknown mission each get their
own rule ID and remedy. Valid documents take a fast path (jsonschema-rs, compiled); only a
document that fails is validated again with `jsonschema` to explain the errors.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from typing import Any, ClassVar, Iterator

import jsonschema
import jsonschema_rs

from sciapps.catalog.rules.base import Context, Finding, Rule
from sciapps.schema import datalab_schema, vocabulary


@cache
def _validators():
    schema = datalab_schema()
    # formats are asserted: `format: date` refuses 2026-02-30, which the pattern lets through
    return (
        jsonschema_rs.validator_for(schema, validate_formats=True),
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER),
    )


def _field_schema(path: tuple) -> dict:
    """The schema of the field at `path` in the main schema (for its description)."""
    node: dict = datalab_schema()
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
    return node


def _first_sentence(text: str) -> str:
    """A field's description as a hint: whole when short, else its first sentence; no Markdown links."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", " ".join(text.split()))
    if len(text) <= 160:
        return text.rstrip(".")
    return text.split(". ")[0].rstrip(".")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class _SchemaRefinement(Rule):
    """A schema error that deserves its own rule; fired by SchemaViolation, not run alone."""

    def check(self, lab, ctx) -> Iterator[Finding]:
        return iter(())

    @classmethod
    def claims(cls, error: jsonschema.ValidationError) -> bool:
        raise NotImplementedError

    @classmethod
    def describe(cls, error: jsonschema.ValidationError, lab) -> list[tuple[tuple, str, str | None]]:
        """[(path, message, hint or None)] for one error."""
        raise NotImplementedError


class UnknownField(_SchemaRefinement):
    """A field that the format does not define

    Unknown fields are refused rather than ignored, because a misspelt field (`licence`
    for `license`) would otherwise be silently lost. The finding suggests the nearest
    known name; the reference page lists every field.
    """

    id = "DL-011"
    hint = "remove it or correct its name; see the datalab.yaml reference for every field"

    @classmethod
    def claims(cls, error):
        return error.validator == "additionalProperties"

    @classmethod
    def describe(cls, error, lab):
        known = list(error.schema.get("properties", {}))
        out = []
        for name in error.instance:
            if name in known:
                continue
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else None
            out.append(((*error.absolute_path, name), f"unknown field {name!r}", hint))
        return out


class MissingField(_SchemaRefinement):
    """A required field is missing

    Every datalab states at least its id, name, summary, version, type, entry,
    maintainers and license, and an archived one says why (`archived`).
    """

    id = "DL-012"
    hint = "add the field; `sciapps new` scaffolds a complete datalab.yaml"

    @classmethod
    def claims(cls, error):
        return error.validator == "required"

    @classmethod
    def describe(cls, error, lab):
        out = []
        for name in error.validator_value:
            if isinstance(error.instance, dict) and name not in error.instance:
                spec = _field_schema((*[p for p in error.absolute_path if not isinstance(p, int)], name))
                example = spec.get("examples", [None])[0]
                hint = _first_sentence(spec.get("description", ""))
                if example is not None:
                    hint += f", e.g. `{name}: {example}`"
                out.append((tuple(error.absolute_path), f"missing required field {name!r}", hint or None))
        return out


class VersionNotSemver(_SchemaRefinement):
    """version is not a Semantic Version

    Versions are `MAJOR.MINOR.PATCH` (https://semver.org), for example `1.4.0` or
    `2.0.0-rc.1`, written in quotes or not. A number such as `1.0` is read as a decimal and
    refused: write `1.0.0`.
    """

    id = "DL-013"
    hint = "write version: 1.0.0 (MAJOR.MINOR.PATCH)"

    @classmethod
    def claims(cls, error):
        return tuple(error.absolute_path) == ("version",)

    @classmethod
    def describe(cls, error, lab):
        return [(("version",), f"{error.instance!r} is not a Semantic Version (MAJOR.MINOR.PATCH)", None)]


class _VocabularyRule(_SchemaRefinement):
    vocabulary: ClassVar[str] = ""

    @classmethod
    def claims(cls, error):
        return error.validator == "enum" and error.schema.get("x-vocabulary") == cls.vocabulary

    @classmethod
    def describe(cls, error, lab):
        known = vocabulary(cls.vocabulary)
        value = error.instance
        by_name = {entry["name"].lower(): key for key, entry in known.items()}
        # a part of one id or name (`xmm` of `xmm-newton`; `express` is a part of two: both are named)
        words = str(value).lower()
        parts = {key for key, entry in known.items() if words in re.split(r"[^a-z0-9]+", f"{key} {entry['name'].lower()}")}
        guess = (
            by_name.get(words)
            or (next(iter(parts)) if len(parts) == 1 else None)
            or next(iter(difflib.get_close_matches(words, list(known), n=1, cutoff=0.6)), None)
        )
        if len(parts) > 1 and not by_name.get(words):
            hint = f"did you mean one of {', '.join(f'`{key}`' for key in sorted(parts))}?"
        else:
            hint = f"did you mean `{guess}`?" if guess else f"use one of: {', '.join(sorted(known))}"
        noun = cls.vocabulary.rstrip("s").replace("categorie", "category")
        return [(tuple(error.absolute_path), f"unknown {noun} {value!r}", hint)]


class UnknownMission(_VocabularyRule):
    """A mission that is not in the missions vocabulary

    Missions come from `schemas/vocabularies/missions.yaml`, so the store can group
    datalabs by mission and show its display name. Use the id (`xmm-newton`, not
    `XMM Newton`); to add a mission, add it to that file in a merge request.
    """

    id = "DL-014"
    vocabulary = "missions"


class UnknownCategory(_VocabularyRule):
    """A category that is not in the categories vocabulary

    Categories come from `schemas/vocabularies/categories.yaml`, the store's browse
    facets. Pick up to five; free words belong in `keywords`.
    """

    id = "DL-015"
    vocabulary = "categories"


class WrongType(_SchemaRefinement):
    """A value of the wrong kind (text, number, list, mapping)

    YAML guesses types: `1.0` is a number, `yes` and `no` are booleans, `2024-05-01` in a
    number field is text. Quote text that looks like something else, and write lists as
    `[a, b]` or one `- item` per line.
    """

    id = "DL-016"
    hint = "quote text values; write lists as `[a, b]`"

    @classmethod
    def claims(cls, error):
        return error.validator == "type"

    @classmethod
    def describe(cls, error, lab):
        words = {
            "array": "a list",
            "object": "a mapping",
            "string": "text",
            "number": "a number",
            "integer": "a whole number",
            "boolean": "true or false",
            "null": "empty",
        }
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number"}
        got = "nothing" if error.instance is None else names.get(type(error.instance), type(error.instance).__name__)
        key = str(error.absolute_path[-1]) if error.absolute_path and isinstance(error.absolute_path[-1], str) else "the value"
        hints = {  # the hint says how to write the kind wanted, not a generic rule
            "number": f"write a number without quotes, for example `{key}: 4`",
            "integer": f"write a whole number without quotes, for example `{key}: 2`",
            "boolean": f"write true or false, without quotes: `{key}: true`",
            "string": 'put the text in quotes, for example `"1.0"` or `"yes"`',
            "array": "write a list as `[a, b]`, or one `- item` per line under it",
            "object": "write `name: value` lines indented under it",
        }
        hint = hints.get(wanted[0]) if len(wanted) == 1 else None
        return [(tuple(error.absolute_path), f"must be {' or '.join(words.get(w, w) for w in wanted)}, not {got}", hint)]


REFINEMENTS: tuple[type[_SchemaRefinement], ...] = (
    UnknownField,
    MissingField,
    VersionNotSemver,
    UnknownMission,
    UnknownCategory,
    WrongType,
)


def _generic_message(error: jsonschema.ValidationError) -> tuple[str, str | None]:
    keyword, value = error.validator, error.validator_value
    spec = _field_schema(tuple(error.absolute_path))
    described = _first_sentence(spec.get("description", "")) or None
    instance = error.instance
    shown = repr(instance) if not isinstance(instance, str) or len(instance) < 60 else repr(instance[:57] + "...")
    if keyword == "pattern":
        return f"{shown} does not have the required form", described
    if keyword in ("enum", "const"):
        allowed = value if keyword == "enum" else [value]
        return f"{shown} is not allowed here; use {' or '.join(repr(v) for v in allowed)}", described
    if keyword == "minLength":
        return f"is too short (at least {_plural(value, 'character')})", described
    if keyword == "maxLength":
        return f"is too long (at most {_plural(value, 'character')}, it has {len(instance)})", described
    if keyword == "minItems":
        return f"needs at least {_plural(value, 'item')}", described
    if keyword == "maxItems":
        return f"has too many items (at most {value}, it has {len(instance)})", described
    if keyword == "uniqueItems":
        return "lists the same item twice", "remove the repeated item"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return error.message, described
    return error.message, described


class SchemaViolation(Rule):
    """datalab.yaml does not match the schema

    The file is checked against `schemas/datalab.schema.json`, generated from the one
    source `schemas/source/datalab.schema.yaml`. Editors that read the
    `# yaml-language-server: $schema=...` comment show these errors as you type. More
    specific schema problems have their own rules (DL-011 to DL-016).
    """

    id = "DL-010"
    hint = "see the datalab.yaml reference for the field"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        fast, full = _validators()
        document: Any = lab.metadata
        if fast.is_valid(document):
            return
        errors = list(full.iter_errors(document))
        if not errors:  # the two validators disagree: report what the fast one says
            message = next(fast.iter_errors(document)).message
            yield self.finding(lab, message)
            return
        best = jsonschema.exceptions.best_match(errors)
        ordered = [best] + sorted((e for e in errors if e is not best), key=lambda e: lab.line(e.absolute_path) or 0)
        findings = [finding for error in ordered for finding in self._explain(error, lab)]
        if ctx.verbose or len(findings) == 1:
            yield from findings
            return
        first = findings[0]
        more = len(findings) - 1
        yield Finding(
            **{**first.as_dict(), "message": f"{first.message} (+{_plural(more, 'other schema error')}, use --verbose)"}
        )

    def _explain(self, error: jsonschema.ValidationError, lab) -> list[Finding]:
        for rule in REFINEMENTS:
            if rule.claims(error):
                return [rule.finding(lab, message, path=path, hint=hint) for path, message, hint in rule.describe(error, lab)]
        message, hint = _generic_message(error)
        return [self.finding(lab, message, path=tuple(error.absolute_path), hint=hint)]


SCHEMA_RULES = (SchemaViolation, *REFINEMENTS)
