"""Validators for the Logboek Dataverwerkingen schemas beside this file (see README.md)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

HERE = Path(__file__).parent
RECORD_SCHEMA = "logboek-dataverwerkingen-0.8.schema.json"
ATTRIBUTES_SCHEMA = "attributes.schema.json"


@lru_cache(maxsize=1)
def logboek_validator() -> Draft202012Validator:
    record: dict[str, Any] = json.loads((HERE / RECORD_SCHEMA).read_text("utf-8"))
    attributes: dict[str, Any] = json.loads((HERE / ATTRIBUTES_SCHEMA).read_text("utf-8"))
    base = record["$id"].rsplit("/", 1)[0] + "/"
    registry: Registry[Any] = Registry().with_resource(
        base + ATTRIBUTES_SCHEMA, Resource.from_contents(attributes, default_specification=_draft())
    )
    Draft202012Validator.check_schema(record)
    return Draft202012Validator(record, registry=registry)


def _draft() -> Any:
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


def logboek_errors(line: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in logboek_validator().iter_errors(line)]
