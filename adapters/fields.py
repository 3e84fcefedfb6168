"""Field-path selection in the style of Haal Centraal BRP Bevragen's ``fields`` parameter.

A field path is a dot-separated path into a nested JSON record (``verblijfplaats.straat``).
Asking for a group (``naam``) selects everything below it. Where a path crosses a list
(``partners.naam``) the selection is applied to every element, so the shape of the record
is kept. These functions are pure: the sandbox agencies use them to answer only what was
asked, and the gateway uses them again to filter every answer against the decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_FIELD_DEPTH = 6


class FieldPathError(ValueError):
    """A field path is not well formed."""


def parse_path(path: str) -> tuple[str, ...]:
    """Split and validate a field path; raise FieldPathError on anything odd."""
    if not isinstance(path, str) or not path:
        raise FieldPathError("empty field path")
    return _parse_path(path)


# The same few hundred catalog paths are parsed for every answer (about 100 times per dossier
# request): remembered, bounded. A malformed path raises every time (exceptions are not cached).
@lru_cache(maxsize=4096)
def _parse_path(path: str) -> tuple[str, ...]:
    parts = tuple(path.split("."))
    if len(parts) > MAX_FIELD_DEPTH or not all(_SEGMENT.match(p) for p in parts):
        raise FieldPathError(f"malformed field path: {path[:80]!r}")
    return parts


def _build_tree(paths: Iterable[str]) -> dict[str, Any]:
    """A selection tree: {segment: subtree}; an empty subtree selects the whole value.

    The paths are normalised first, so a group is never narrowed by a deeper path listed
    with it (``["naam", "naam.voornamen"]`` selects all of ``naam``). The tree of a given
    selection is built once (bounded cache) and only ever read."""
    paths = tuple(paths)
    if not all(isinstance(p, str) for p in paths):
        raise FieldPathError("empty field path")
    return _tree_of(paths)


@lru_cache(maxsize=1024)
def _tree_of(paths: tuple[str, ...]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in normalise_fields(paths):
        node = tree
        for part in parse_path(path):
            node = node.setdefault(part, {})
    return tree


_MISSING = object()  # "nothing selected here", as opposed to a selected null value


def _apply(value: Any, tree: Mapping[str, Any]) -> Any:
    if not tree:
        return value
    if isinstance(value, list):
        # A deeper path selects nothing from scalar elements: not even the list's length.
        kept = [_apply(v, tree) for v in value if isinstance(v, Mapping)]
        return kept if kept or not value else _MISSING
    if not isinstance(value, Mapping):
        return _MISSING  # the path goes deeper than the data does: select nothing
    out: dict[str, Any] = {}
    for key, sub in tree.items():
        if key in value:
            selected = _apply(value[key], sub)
            if selected is not _MISSING:
                out[key] = selected
    return out


def project(record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """Return a copy of ``record`` that holds only the selected field paths."""
    result = _apply(record, _build_tree(fields))
    return result if isinstance(result, dict) else {}


def get_path(record: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """The value at ``path`` (mapped over lists) and whether it was present at all."""
    value: Any = record
    for part in parse_path(path):
        if isinstance(value, list):
            picked = [v[part] for v in value if isinstance(v, Mapping) and part in v]
            if not picked and value:
                return False, None
            value = picked
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return False, None
    return True, value


def leaf_paths(record: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Every leaf field path present in a record (list elements share one path)."""
    paths: set[str] = set()
    for key, value in record.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        items = value if isinstance(value, list) else [value]
        nested = [v for v in items if isinstance(v, Mapping)]
        if nested:
            for v in nested:
                paths |= leaf_paths(v, path)
        else:
            paths.add(path)
    return paths


def _leaf_parts(record: Mapping[str, Any], prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
    parts: set[tuple[str, ...]] = set()
    for key, value in record.items():
        path = (*prefix, str(key))
        if isinstance(value, (list, Mapping)) and not value:
            continue  # an empty list or object carries no data to report
        items = value if isinstance(value, list) else [value]
        nested = [v for v in items if isinstance(v, Mapping)]
        if nested:
            for v in nested:
                parts |= _leaf_parts(v, path)
        else:
            parts.add(path)
    return parts


def unselected_leaf_paths(record: Mapping[str, Any], fields: Iterable[str]) -> set[str]:
    """Leaf paths of ``record`` that no path in ``fields`` selects (exactly or as a group).

    ``leaf_paths(record) - leaf_paths(project(record, fields))`` would also count a selected
    field whose value is ``null`` (``project`` leaves nulls out), so this compares paths, not
    values: it is what defence in depth reports as "returned but not asked for". Keys are
    compared segment by segment, so a key that itself contains a dot (``"naam.voornamen"``)
    is never mistaken for the nested path it imitates. Empty lists and objects hold no data
    and are not reported.
    """
    selected = [parse_path(f) for f in fields]
    return {
        ".".join(parts)
        for parts in _leaf_parts(record, ())
        if not any(parts[: len(sel)] == sel for sel in selected)
    }



def normalise_fields(fields: Iterable[str]) -> tuple[str, ...]:
    """Validated field paths without duplicates and without paths a shorter one already selects
    (``["naam", "naam.voornamen"]`` -> ``("naam",)``), in first-seen order."""
    parsed = [(f, parse_path(f)) for f in dict.fromkeys(fields)]
    return tuple(
        f
        for f, parts in parsed
        if not any(len(o) < len(parts) and parts[: len(o)] == o for _, o in parsed)
    )


def minimise(record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The adapters' name for :func:`project` on untrusted agency answers."""
    return project(record, fields)
