"""What a launch may ask of one datalab: its parameters as every launcher reads them (the
declaration, with the pattern of the mission data it selects filled in from the
catalog), the resources it may be given, and the checking of one launch's request.

One source for the store (form, `launch/`, `open/`, API), `sciapps run`, `launch`,
`test` and the chart; the values themselves are judged by `sciapps.launchparams`, the
same code the containers run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sciapps import launchparams
from sciapps.config import Config
from sciapps.errors import Refused, SciAppsError
from sciapps.schema import datalab_schema

_RESOURCES = datalab_schema()["properties"]["resources"]["properties"]
RESOURCE_DEFAULTS = {k: v["default"] for k, v in _RESOURCES.items() if "default" in v}
CHOOSABLE = ("cpu", "memory_gb")  # what a launch may ask more of, within `resources.max`


NO_ID_KIND = "\\x00"  # the pattern of a selection the catalog does not declare: only NUL, which no value may hold


def declared(meta: dict, config: Config) -> list[dict]:
    """The datalab's parameters as launchers use them: each as written, and, when it
    `selects` mission data, the catalog's id pattern and `form` for that kind of id. The
    catalog's pattern always holds: the datalab's own `pattern`, if any, must hold too
    (`own_pattern`), never instead. A selection the catalog does not declare takes no value."""
    specs = []
    for parameter in meta.get("parameters") or []:
        spec = dict(parameter)
        selects = parameter.get("selects")
        if isinstance(selects, dict):
            kind = config.id_kinds.get(selects.get("mission"), {}).get(selects.get("collection"), {}).get(selects.get("kind"))
            if "pattern" in parameter:
                spec["own_pattern"] = parameter["pattern"]
            if kind:
                spec["pattern"] = kind["pattern"]
                spec["form"] = kind["label"] + (f", for example {kind['example']}" if kind.get("example") else "")
                if kind.get("ivoid"):
                    spec["ivoid"] = kind["ivoid"]  # the store's pages also take <ivoid>?<id>, as archives publish ids
            else:
                spec["pattern"], spec["form"] = NO_ID_KIND, "an id of a kind this catalog does not declare"
        specs.append(spec)
    return specs


def offered(meta: dict, config: Config) -> list[dict]:
    """The parameters as the store offers them to a scientist (its form, `launch/`, `open/`,
    the API): as `declared`, except that an id of mission data is the scientist's to give.
    Its default is only an example (`example`, shown as a placeholder): a launch from the
    store never starts on an observation nobody chose. `sciapps run` and `test` keep it."""
    specs = []
    for spec in declared(meta, config):
        if "selects" in spec and spec.get("default") is not None:
            example = launchparams.default_text(spec)
            spec = {key: value for key, value in spec.items() if key != "default"}
            spec["example"] = example
        specs.append(spec)
    return specs


def takes(spec: dict) -> str:
    """What one declared parameter (`declared`) takes, in words: "XMM-Newton observation
    id (10 digits)", "a whole number from 1 to 100", "yes or no"."""
    label = str(spec.get("label") or spec.get("name") or "")
    digits = launchparams.digit_count(spec.get("pattern"))
    shape = ""
    if digits:
        shape = f"{digits[0]} digits" if digits[0] == digits[1] else f"{digits[0]} to {digits[1]} digits"
    if "form" in spec:  # an id of a kind the catalog declares (or says it does not)
        kind = str(spec["form"]).split(", for example ")[0]
        return f"{label}: {kind}" + (f" ({shape})" if shape else "")
    kind = spec.get("type")
    low, high = spec.get("min"), spec.get("max")
    bounds = f" from {low} to {high}" if low is not None and high is not None else ""
    words = {
        "integer": f"a whole number{bounds}",
        "number": f"a number{bounds}",
        "date": "a date (YYYY-MM-DD)",
        "boolean": "yes or no",
        "choice": "one of " + ", ".join(str(c) for c in spec.get("choices") or []),
    }.get(kind, shape or "text")
    return f"{label}: {words}"


def defaults(meta: dict) -> dict:
    return {**RESOURCE_DEFAULTS, **{k: v for k, v in (meta.get("resources") or {}).items() if k != "max"}}


def bounds(meta: dict, config: Config) -> dict:
    """The most a launch may ask for, per choosable resource: the datalab's `max` (its
    default when it gives none), never above the catalog's limits."""
    given = defaults(meta)
    most = (meta.get("resources") or {}).get("max") or {}
    return {k: min(most.get(k, given[k]), getattr(config.limits, k)) for k in CHOOSABLE}


def minimum(name: str) -> float:
    return _RESOURCES[name]["minimum"]


def resource_problem(name: str, amount: float, most: float, datalab_id: str) -> str | None:
    """Why a launch may not ask for `amount` of a choosable resource (one sentence), or None."""
    if minimum(name) <= amount <= most:
        return None
    unit = " GiB" if name == "memory_gb" else ""
    return f"{name} {amount:g}{unit} is outside what {datalab_id} allows ({minimum(name):g} to {most:g}{unit})."


@dataclass
class Request:
    """One launch's checked request: typed values, their texts and the resources."""

    values: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        return {launchparams.env_name(k): launchparams.as_text(v) for k, v in self.values.items()}


def check_request(meta: dict, config: Config, given: list[tuple[str, str]], asked: dict | None = None) -> Request:
    """Check a launch's parameter values [(name, text)] and asked resources {name: number}."""
    specs = declared(meta, config)
    values, problems = launchparams.read_values(specs, given)
    resources = defaults(meta)
    most = bounds(meta, config)
    for name, amount in (asked or {}).items():
        if amount is None:
            continue
        if name not in CHOOSABLE:
            problems.append(f"{name} cannot be chosen at launch.")
        elif problem := resource_problem(name, amount, most[name], meta["id"]):
            problems.append(problem)
        else:
            resources[name] = amount
    return Request(values, resources, problems)


def parse_pairs(items: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """`--param NAME=VALUE` items as (name, text) pairs."""
    pairs = []
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise SciAppsError(
                f"--param {item[:60]!r} has no value", "write --param NAME=VALUE, for example --param obsid=0123456789"
            )
        pairs.append((name.strip(), text))
    return pairs


def require(request: Request, datalab_id: str) -> Request:
    """The request, or the refusal of its first problem (exit 1): nothing starts."""
    if request.problems:
        raise Refused(
            f"refusing to launch {datalab_id}: {request.problems[0]}"
            + (f" ({len(request.problems) - 1} more problem(s))" if len(request.problems) > 1 else ""),
            "give values of the declared types (the datalab's page lists its parameters)",
        )
    return request


def json_schema(specs: list[dict]) -> dict:
    """The launch values of a datalab as a JSON Schema (draft 2020-12), for platforms and
    scripts that validate with standard tools; the checker of record stays
    `launchparams` (it also refuses control characters, `..` and non-NFC text)."""
    properties = {}
    for spec in specs:
        kind = spec["type"]
        prop: dict = {"title": spec.get("label", spec["name"])}
        if spec.get("help"):
            prop["description"] = spec["help"]
        if kind in ("integer", "number"):
            prop["type"] = kind
            prop.update({key: spec[end] for end, key in (("min", "minimum"), ("max", "maximum")) if spec.get(end) is not None})
        elif kind == "boolean":
            prop["type"] = "boolean"
        elif kind == "choice":
            prop["enum"] = list(spec.get("choices") or [])
        else:
            prop.update(type="string", maxLength=min(launchparams.MAX_VALUE_CHARS, spec.get("max_length") or 256))
            if kind == "date":
                prop.update(format="date", pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
            else:
                patterns = launchparams.patterns_of(spec)
                if len(patterns) == 1:
                    prop["pattern"] = patterns[0]
                elif patterns:
                    prop["allOf"] = [{"pattern": pattern} for pattern in patterns]
        if spec.get("default") is not None:
            prop["default"] = spec["default"]
        properties[spec["name"]] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": [s["name"] for s in specs if s.get("default") is None],
    }
