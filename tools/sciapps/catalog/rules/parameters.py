"""Rules about what a launch may ask: parameters, parameter sets and resource bounds."""

from __future__ import annotations

import keyword
from typing import Iterator

from sciapps import launchparams
from sciapps.catalog.launching import CHOOSABLE, declared, defaults
from sciapps.catalog.rules.base import Context, Finding, Rule
from sciapps.catalog.rules.schema import SCHEMA_RULES
from sciapps.datalab_types import TYPES

_FIELDS_OF = {  # the fields each type may carry beyond name, label, type, default, help, argument
    "string": {"pattern", "min_length", "max_length", "selects"},
    "integer": {"min", "max"},
    "number": {"min", "max"},
    "boolean": set(),
    "choice": {"choices"},
    "date": {"min", "max"},
}


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


_COMMON = {"name", "label", "type", "default", "help", "argument"}


class BadParameterName(Rule):
    """A parameter's name cannot be used as a variable and a link's name

    A parameter's name becomes a Python variable in the entry notebook, the environment
    variable `SCIAPPS_PARAM_<NAME>` and a name in launch links. It must be lower-case
    letters, digits and `_`, start with a letter, not be a Python keyword, and not be one
    of the names links use for something else (`datalab`, `version`, `digest`, `mission`,
    `cpu`, `memory_gb`, `gpu`, `storage_gb`). Two parameters cannot share a name.
    """

    id = "DL-065"
    requires = SCHEMA_RULES

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        seen = set()
        for index, parameter in enumerate(lab.metadata.get("parameters") or []):
            name = parameter["name"]
            problem = None
            if keyword.iskeyword(name) or keyword.issoftkeyword(name):
                problem = f"{name!r} is a Python keyword"
            elif name in launchparams.RESERVED:
                problem = f"{name!r} is a name launch links use for something else"
            elif name in seen:
                problem = f"{name!r} is the name of an earlier parameter too"
            seen.add(name)
            if problem:
                yield self.finding(
                    lab,
                    problem,
                    path=("parameters", index, "name"),
                    hint=f"name it after what it means, for example `{name}_value`",
                )


class InconsistentParameter(Rule):
    """A parameter's declaration does not fit its type

    Each type takes its own fields: `pattern`, `min_length`, `max_length` and `selects` for
    a `string` (which needs a `pattern`, or `selects`, so a link cannot put any text in
    it), `min`/`max` for `integer`, `number` and `date` (`YYYY-MM-DD`), `choices` for a
    `choice`. The bounds must be in order, and `argument` is for desktop (VNC) datalabs,
    whose application takes arguments.

    A pattern keeps to one dialect that the store's pages (JavaScript, with the `u` flag)
    and the container (Python) read the same way, and that no value can make slow: plain
    characters, `.`, `\\d \\w \\D \\W`, `\\xHH`, escaped syntax characters, classes with
    ranges, groups, `|`, and `* + ? {n} {n,} {n,m}` (at most 256); `^` first and `$` last.
    No repetition inside a repetition, nothing repeated that can match nothing, and at each
    character one way on (not `(a|ab)+`, `\\d*\\d*` or `a?a`). Not `[]`, `[^]`, `{,n}`, `\\s`,
    a lone `]` or `}`, lazy repetitions or `(?` groups other than `(?:`.

    ```yaml
    pattern: "^[0-9]{10}$"          # not "^([0-9]+)+$"
    ```
    """

    id = "DL-066"
    requires = SCHEMA_RULES

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for index, p in enumerate(lab.metadata.get("parameters") or []):
            kind = p["type"]
            where = ("parameters", index)
            extra = sorted(set(p) - _COMMON - _FIELDS_OF[kind])
            if extra:
                yield self.finding(
                    lab, f"{_a(kind)} parameter takes no {', '.join(extra)}", path=(*where, extra[0]), hint=f"remove {extra[0]}"
                )
                continue
            if kind == "string" and "pattern" not in p and "selects" not in p:
                yield self.finding(
                    lab,
                    f"the string parameter {p['name']!r} accepts any text",
                    path=where,
                    hint="give the form its values take as a `pattern` (for example '^[0-9]{10}$'), or make it a `choice`",
                )
            if kind == "choice" and "choices" not in p:
                yield self.finding(lab, f"the choice {p['name']!r} has no choices", path=where, hint="list them under `choices`")
            if "pattern" in p and (problem := launchparams.pattern_problem(p["pattern"])):
                yield self.finding(
                    lab,
                    problem,
                    path=(*where, "pattern"),
                    hint="write it with classes and single repetitions whose next character decides the way, "
                    "e.g. '^[0-9]{1,12}$' for '^[0-9]*[0-9]+$', '^(?:ab|cd)+$' for '^(?:a|ab)+$'",
                )
            low, high = p.get("min"), p.get("max")
            for end in ("min", "max"):
                bound = p.get(end)
                if bound is None:
                    continue
                if kind == "date":
                    _, why = launchparams.read_value({"type": "date"}, str(bound))
                    if why or not isinstance(bound, str):
                        yield self.finding(
                            lab, f"{end} is not a date", path=(*where, end), hint="write it as 'YYYY-MM-DD', in quotes"
                        )
                        low = high = None
                elif (
                    not isinstance(bound, (int, float)) or isinstance(bound, bool) or (kind == "integer" and bound != int(bound))
                ):
                    yield self.finding(
                        lab, f"{end} is not a {'whole number' if kind == 'integer' else 'number'}", path=(*where, end)
                    )
                    low = high = None
            if low is not None and high is not None and low > high:
                yield self.finding(lab, f"min {low} is above max {high}", path=(*where, "min"), hint="swap them")
            if p.get("min_length") is not None and p.get("max_length") is not None and p["min_length"] > p["max_length"]:
                yield self.finding(lab, "min_length is above max_length", path=(*where, "min_length"), hint="swap them")
            if p.get("argument") and lab.metadata.get("type") in TYPES and TYPES[lab.metadata["type"]].entry_is_file:
                yield self.finding(
                    lab,
                    f"{_a(lab.metadata['type'])} datalab's entry is a notebook, which takes no arguments",
                    path=(*where, "argument"),
                    hint="remove `argument`: the notebook gets the value as a variable",
                )


class BadParameterDefault(Rule):
    """A parameter's default is not a value of its own type

    The default is what a launch without a value starts with, and it is checked by the same
    rules as any value a link carries: in its type, within its bounds, in its pattern.
    """

    id = "DL-067"
    requires = (*SCHEMA_RULES, InconsistentParameter)

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for index, spec in enumerate(declared(lab.metadata, ctx.config)):
            text = launchparams.default_text(spec)
            if text is None:
                continue
            default = spec["default"]
            if (
                spec["type"] in ("integer", "number")
                and isinstance(default, str)
                or (spec["type"] == "boolean") != isinstance(default, bool)
            ):
                why = f"is {'text' if isinstance(default, str) else 'not text'}"
            else:
                _, why = launchparams.read_value(spec, text)
            if why:
                yield self.finding(
                    lab,
                    f"the default {text[:60]!r} of {spec['name']!r} {why}",
                    path=("parameters", index, "default"),
                    hint=f"give a default that is {_a(spec['type'])} value of this parameter, or none",
                )


class UnknownIdKind(Rule):
    """A parameter selects mission data the catalog does not declare

    `selects` names a mission, one of its collections this catalog mounts, and a kind of id
    that `collections:` in sciapps.yaml declares for it (`ids:`), with the pattern every
    value must match. Archives link to the datalab by that kind (`open/?mission=...`), so it
    must be one the catalog knows; the collection must also be among the datalab's
    `data_assets`, or the data it names would not be there.
    """

    id = "DL-068"
    requires = SCHEMA_RULES

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        mounted = {(a["mission"], a["collection"]) for a in lab.metadata.get("data_assets") or []}
        for index, p in enumerate(lab.metadata.get("parameters") or []):
            selects = p.get("selects")
            if not selects:
                continue
            mission, collection, kind = selects["mission"], selects["collection"], selects["kind"]
            kinds = ctx.config.id_kinds.get(mission, {}).get(collection)
            where = ("parameters", index, "selects")
            if collection not in ctx.config.collections.get(mission, {}):
                known = ", ".join(sorted(ctx.config.collections.get(mission, {}))[:20]) or "none"
                yield self.finding(
                    lab,
                    f"{collection!r} is not a {mission} collection on the catalog's list",
                    path=(*where, "collection"),
                    hint=f"use one of the {mission} collections in sciapps.yaml (collections:): {known}",
                )
            elif not kinds or kind not in kinds:
                known = ", ".join(sorted(kinds or {})) or "none"
                yield self.finding(
                    lab,
                    f"the catalog declares no {kind!r} ids for {collection}",
                    path=(*where, "kind"),
                    hint=f"use a kind declared under collections: {mission}: {collection}: ids: in sciapps.yaml ({known})",
                )
            elif (mission, collection) not in mounted:
                yield self.finding(
                    lab,
                    f"{collection} is not among the datalab's data_assets",
                    path=(*where, "collection"),
                    hint=f"add it to data_assets (mission: {mission}, collection: {collection}, mount: /data/...)",
                )


class BadParameterSet(Rule):
    """A parameter set in `tests:` is not a launch the store would start

    `sciapps test` starts the datalab with each set the way the store launches it, so each
    set is checked like a link's values: only declared names, each value of its type.
    """

    id = "DL-069"
    requires = (*SCHEMA_RULES, InconsistentParameter)

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        specs = declared(lab.metadata, ctx.config)
        for index, item in enumerate(lab.metadata.get("tests") or []):
            if not isinstance(item, dict):
                continue
            if not specs:
                yield self.finding(
                    lab,
                    "a parameter set, but the datalab declares no parameters",
                    path=("tests", index),
                    hint="declare `parameters:`",
                )
                continue
            given = [(k, launchparams.as_text(v)) for k, v in item["parameters"].items()]
            _, problems = launchparams.read_values(specs, given)
            for problem in problems[:3]:
                yield self.finding(
                    lab, problem.rstrip("."), path=("tests", index, "parameters"), hint="give values of the declared types"
                )


class ResourceBounds(Rule):
    """The resources a datalab may ask for are out of order or beyond the catalog's limits

    `resources` are the defaults; `resources.max` is the most a launch may ask for. Each
    maximum must be at least its default, and at most the catalog's limit (sciapps.yaml
    `limits: cpu, memory_gb`), or the form would offer what the cluster never gives.
    """

    id = "DL-070"
    requires = SCHEMA_RULES

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        given = defaults(lab.metadata)
        most = (lab.metadata.get("resources") or {}).get("max") or {}
        for name in CHOOSABLE:
            limit = getattr(ctx.config.limits, name)
            if given[name] > limit:
                yield self.finding(
                    lab,
                    f"{name} {given[name]:g} is above the catalog's limit {limit:g}",
                    path=("resources", name),
                    hint=f"ask for at most {limit:g}",
                )
            if name in most and most[name] < given[name]:
                yield self.finding(
                    lab,
                    f"max {name} {most[name]:g} is below the default {given[name]:g}",
                    path=("resources", "max", name),
                    hint=f"raise max {name} to at least {given[name]:g}, or lower the default",
                )
            elif name in most and most[name] > limit:
                yield self.finding(
                    lab,
                    f"max {name} {most[name]:g} is above the catalog's limit {limit:g}",
                    path=("resources", "max", name),
                    hint=f"lower it to {limit:g} or less",
                )
