"""Validate BRP answers against the vendored Haal Centraal BRP Bevragen OpenAPI (2.7.0).

JSON Schema 2020-12 (what OpenAPI 3.1 schemas are) ignores OpenAPI's ``discriminator``, so on
its own it would accept a date ``{"type": "Datum"}`` without ``datum``, or a gezag type the spec
does not know. This module makes the discriminator binding: each schema that declares one is
split into its core (what the sub-schemas ``allOf`` to) and a dispatcher that requires the
``type`` value to be in the mapping and validates against the mapped sub-schema.

Error bodies: the spec's own feature files (the behaviour of the real API) send details such as
``"De foutieve parameter(s) zijn: fields[0]."`` and invalidParams named ``fields[0]``, which break
the ``pattern`` of ``Foutbericht.detail``, ``InvalidParam.name`` and ``InvalidParam.reason`` in
the same spec. Loket's sandbox follows the features; problem bodies are validated here with
those patterns left out (docs/brp-conformance.md).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).with_name("brp") / "openapi.json"
SPEC_URI = "urn:loket:brp-openapi"
_RELAXED_PATTERNS = {"Foutbericht": ("title", "detail"), "InvalidParam": ("name", "reason")}


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text("utf-8"))
    return spec


def _binding_discriminators(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    schemas: dict[str, Any] = spec["components"]["schemas"]
    for name, schema in list(schemas.items()):
        disc = schema.get("discriminator")
        if not disc:
            continue
        core = {k: v for k, v in schema.items() if k != "discriminator"}
        schemas[f"{name}__core"] = core
        for target in disc["mapping"].values():
            sub = schemas[target.rsplit("/", 1)[1]]
            for part in sub.get("allOf", ()):
                if part.get("$ref") == f"#/components/schemas/{name}":
                    part["$ref"] = f"#/components/schemas/{name}__core"
        schemas[name] = {
            "allOf": [{"$ref": f"#/components/schemas/{name}__core"}],
            "x-dispatch": {"property": disc["propertyName"], "mapping": disc["mapping"]},
        }
    for name, props in _RELAXED_PATTERNS.items():
        for prop in props:
            schemas[name]["properties"][prop].pop("pattern", None)
    return spec


def _dispatch(validator: Any, dispatch: dict[str, Any], instance: Any, schema: Any) -> Any:
    if not isinstance(instance, dict):
        return
    value = instance.get(dispatch["property"])
    target = dispatch["mapping"].get(value)
    if target is None:
        yield jsonschema.ValidationError(
            f"{dispatch['property']}={value!r} is not one of {sorted(dispatch['mapping'])}"
        )
        return
    yield from validator.descend(instance, {"$ref": target})


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"x-dispatch": _dispatch})


@cache
def _registry() -> Registry:
    spec = _binding_discriminators(load_spec())
    return Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT202012))


def validator_for(schema_name: str) -> Any:
    return _Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"},
        registry=_registry(),
        format_checker=jsonschema.FormatChecker(),
    )


def response_schema_for(status: int) -> str:
    """The schema the spec gives ``POST /personen`` for this status."""
    if status == 200:
        return "RaadpleegMetBurgerservicenummerResponse"
    if status == 400:
        return "BadRequestFoutbericht"
    return "Foutbericht"


def errors_in_response(status: int, body: Any) -> list[str]:
    """Every way ``body`` breaks the spec for a ``POST /personen`` answer with ``status``."""
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator_for(response_schema_for(status)).iter_errors(body)
    ]
    if status in (200,) and isinstance(body, dict) and body.get("type") != "RaadpleegMetBurgerservicenummer":
        problems.append("type: a RaadpleegMetBurgerservicenummer answer must say so")
    if status != 200 and isinstance(body, dict) and body.get("status") != status:
        problems.append(f"status: the problem says {body.get('status')!r}, the response {status}")
    return problems


def spec_field_paths() -> frozenset[str]:
    """Every field path of ``Persoon`` the spec defines (through allOf and discriminators)."""
    schemas = load_spec()["components"]["schemas"]
    paths: set[str] = set()

    def props(schema: dict[str, Any], seen: frozenset[str]) -> dict[str, list[Any]]:
        """Property name -> every schema it has (a polymorphic group unites its variants)."""
        out: dict[str, list[Any]] = {}

        def merge(more: dict[str, list[Any]]) -> None:
            for k, v in more.items():
                out.setdefault(k, []).extend(v)

        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name in seen:
                return out
            seen = seen | {name}
            target = schemas[name]
            merge(props(target, seen))
            for mapped in target.get("discriminator", {}).get("mapping", {}).values():
                merge(props({"$ref": mapped}, seen))
            return out
        if schema.get("type") == "array" and "items" in schema:
            return props(schema["items"], seen)
        for part in schema.get("allOf", ()):
            merge(props(part, seen))
        merge({k: [v] for k, v in schema.get("properties", {}).items()})
        return out

    def walk(schema: dict[str, Any], prefix: str, depth: int) -> None:
        if depth > 6:
            return
        for key, subs in props(schema, frozenset()).items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            for sub in subs:
                walk(sub, path, depth + 1)

    walk({"$ref": "#/components/schemas/Persoon"}, "", 0)
    return frozenset(paths)
