"""Properties of field-path projection (adapters.fields), the minimisation both the sandbox
agencies and the gateway rely on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.fields import (
    get_path,
    leaf_paths,
    minimise,
    normalise_fields,
    project,
    unselected_leaf_paths,
)

KEYS = st.sampled_from(["a", "b", "c", "naam", "partners"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
FIELDS = st.lists(st.lists(KEYS, min_size=1, max_size=3).map(".".join), min_size=1, max_size=4)


def _records(
    list_element: Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        st.dictionaries(KEYS, SCALARS, max_size=3),
        lambda inner: st.dictionaries(
            KEYS, st.one_of(SCALARS, inner, st.lists(list_element(inner), max_size=3)), max_size=3
        ),
        max_leaves=12,
    )


# The shape agencies use: lists hold records (partners, kinderen, ...) or are leaf values.
CATALOG_SHAPED = _records(lambda inner: inner)
# Anything JSON can hold, including lists of scalars under a path that goes deeper.
ANY_SHAPED = _records(lambda inner: st.one_of(SCALARS, inner))


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """(path, value) for every non-container leaf, lists mapped over."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v, path)]
    return [(path, value)]


def _has_data(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_data(v) for v in value)
    return value is not None


def _selected(path: tuple[str, ...], fields: list[str]) -> bool:
    return any(path[: len(f.split("."))] == tuple(f.split(".")) for f in fields)


@settings(max_examples=300)
@given(record=CATALOG_SHAPED, fields=FIELDS)
def test_project_returns_only_requested_leaf_paths(
    record: dict[str, Any], fields: list[str]
) -> None:
    for path, _ in _leaves(project(record, fields)):
        assert _selected(path, fields), (path, fields)


@settings(max_examples=300)
@given(record=ANY_SHAPED, fields=FIELDS)
def test_project_is_idempotent(record: dict[str, Any], fields: list[str]) -> None:
    once = project(record, fields)
    assert project(once, fields) == once


def _assert_keeps_every_requested_value(
    projected: dict[str, Any], record: dict[str, Any], fields: list[str]
) -> None:
    for path in leaf_paths(record):
        if _selected(tuple(path.split(".")), fields):
            present, value = get_path(record, path)
            if _has_data(value):  # a null is left out, as Haal Centraal leaves it out
                assert get_path(projected, path) == (present, value), path


@settings(max_examples=300)
@given(record=CATALOG_SHAPED, fields=FIELDS.map(lambda f: list(normalise_fields(f))))
def test_project_keeps_every_requested_value(record: dict[str, Any], fields: list[str]) -> None:
    _assert_keeps_every_requested_value(project(record, fields), record, fields)


@settings(max_examples=300)
@given(record=CATALOG_SHAPED, fields=FIELDS)
def test_minimise_keeps_every_requested_value_in_any_field_order(
    record: dict[str, Any], fields: list[str]
) -> None:
    _assert_keeps_every_requested_value(minimise(record, fields), record, fields)


def test_project_does_not_narrow_a_group_by_a_later_deeper_path() -> None:
    record = {"naam": {"voornamen": "Eva", "geslachtsnaam": "Boer"}}
    assert project(record, ["naam", "naam.voornamen"]) == record


def test_normalise_fields_folds_paths_into_their_group() -> None:
    assert normalise_fields(["naam.voornamen", "naam", "naam", "geboorte.datum"]) == (
        "naam",
        "geboorte.datum",
    )


@settings(max_examples=300)
@given(record=ANY_SHAPED, fields=FIELDS)
def test_minimise_returns_only_requested_leaf_paths_for_any_shape(
    record: dict[str, Any], fields: list[str]
) -> None:
    minimised = minimise(record, fields)
    for path, _ in _leaves(minimised):
        assert _selected(path, fields), (path, fields)
    assert minimise(minimised, fields) == minimised


@settings(max_examples=300)
@given(record=CATALOG_SHAPED, fields=FIELDS.map(lambda f: list(normalise_fields(f))))
def test_minimise_equals_project_on_catalog_shaped_records(
    record: dict[str, Any], fields: list[str]
) -> None:
    assert minimise(record, fields) == project(record, fields)


@settings(max_examples=300)
@given(record=CATALOG_SHAPED, fields=FIELDS)
def test_unselected_leaf_paths_are_exactly_the_paths_no_field_selects(
    record: dict[str, Any], fields: list[str]
) -> None:
    unselected = unselected_leaf_paths(record, fields)
    data_paths = {".".join(p) for p, _ in _leaves(record)}
    assert unselected <= data_paths
    for path in data_paths:
        assert (path in unselected) == (not _selected(tuple(path.split(".")), fields))


@settings(max_examples=300)
@given(record=ANY_SHAPED, fields=FIELDS)
def test_nothing_unselected_survives_minimise(record: dict[str, Any], fields: list[str]) -> None:
    for path in unselected_leaf_paths(record, fields):
        assert not _selected(tuple(path.split(".")), fields)
    assert unselected_leaf_paths(minimise(record, fields), fields) == set()


def test_minimise_drops_scalar_list_under_a_deeper_path() -> None:
    # Not [None, None]: that would still leak the list's length and a path nobody asked for.
    assert project({"partners": ["A", "B"]}, ["partners.naam"]) == {}
    assert minimise({"partners": ["A", "B"]}, ["partners.naam"]) == {}


def test_a_key_containing_a_dot_is_not_mistaken_for_a_nested_path() -> None:
    record = {"naam.voornamen": "smuggled", "naam": {"voornamen": "Eva"}}
    # Reported as unselected (its joined path looks selected, its segments are not) ...
    assert unselected_leaf_paths(record, ["naam.voornamen"]) == {"naam.voornamen"}
    # ... and dropped.
    assert minimise(record, ["naam.voornamen"]) == {"naam": {"voornamen": "Eva"}}
