"""Validating conformance JSON against docs/conformance-schema.json.

A small validator for exactly the JSON Schema keywords the document uses
(no new dependency); when `jsonschema` happens to be installed, it checks
the same document too, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
from typing import Any

from support.guests import ROOT

SCHEMA_PATH = ROOT / "docs" / "conformance-schema.json"
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
_KNOWN = {
    "$schema",
    "$id",
    "$defs",
    "$ref",
    "title",
    "description",
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minimum",
    "exclusiveMinimum",
    "allOf",
    "if",
    "then",
}


class SchemaError(AssertionError):
    """The document does not follow the schema; the message says where."""


def schema() -> dict[str, Any]:
    """The documented schema."""
    document: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return document


def _is(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _check(value: Any, rule: dict[str, Any], root: dict[str, Any], at: str) -> None:
    unknown = set(rule) - _KNOWN
    if unknown:
        raise SchemaError(f"{at}: the test validator does not know keywords {sorted(unknown)}")
    if "$ref" in rule:
        target: Any = root
        for part in rule["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        _check(value, target, root, at)
    if "type" in rule:
        names = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        if not any(_is(value, n) for n in names):
            raise SchemaError(f"{at}: {value!r} is not of type {names}")
    if "const" in rule and value != rule["const"]:
        raise SchemaError(f"{at}: {value!r} != {rule['const']!r}")
    if "enum" in rule and value not in rule["enum"]:
        raise SchemaError(f"{at}: {value!r} not in {rule['enum']}")
    if "minimum" in rule and value < rule["minimum"]:
        raise SchemaError(f"{at}: {value!r} < {rule['minimum']}")
    if "exclusiveMinimum" in rule and value <= rule["exclusiveMinimum"]:
        raise SchemaError(f"{at}: {value!r} <= {rule['exclusiveMinimum']}")
    if isinstance(value, dict):
        for name in rule.get("required", []):
            if name not in value:
                raise SchemaError(f"{at}: missing {name!r}")
        props = rule.get("properties", {})
        for name, item in value.items():
            if name in props:
                _check(item, props[name], root, f"{at}.{name}")
            elif rule.get("additionalProperties") is False:
                raise SchemaError(f"{at}: unexpected property {name!r}")
            elif isinstance(rule.get("additionalProperties"), dict):
                _check(item, rule["additionalProperties"], root, f"{at}.{name}")
    if isinstance(value, list):
        if len(value) < rule.get("minItems", 0) or len(value) > rule.get("maxItems", len(value)):
            raise SchemaError(f"{at}: {len(value)} items is out of range")
        for index, item in enumerate(value):
            if "items" in rule:
                _check(item, rule["items"], root, f"{at}[{index}]")
    for part in rule.get("allOf", []):
        if "if" in part:
            try:
                _check(value, part["if"], root, at)
            except SchemaError:
                continue
            _check(value, part["then"], root, at)
        else:
            _check(value, part, root, at)


def validate(report: dict[str, Any]) -> None:
    """Raise `SchemaError` unless `report` follows the documented schema."""
    document = schema()
    _check(report, document, document, "$")
    try:
        import jsonschema
    except ImportError:  # optional cross-check; the hand validator above always runs
        return
    jsonschema.Draft202012Validator.check_schema(document)
    jsonschema.Draft202012Validator(document).validate(report)
