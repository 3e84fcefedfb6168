"""The verifier's check of the index columns against the leaf (audit.log.index_columns_match):
exact for every valid record, no JSON parse."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.log import INDEX_COLUMNS, index_columns_match
from audit.record import LEAF_PREFIX, AuditEventKind, AuditRecord, contains_bsn_like

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
    min_size=1,
    max_size=30,
).filter(lambda s: not contains_bsn_like(s))
# Text built to look like the layout the matcher searches for.
_tricky = st.sampled_from(
    ['","purpose":"x', ',"kind":"case:opened"', '\\"', '"', "}", ',"justification_sha256":null',
     ',"record_id":"', '","refused":', "é", "\u2028", "\x7f", "\x01"]
)
_value = st.one_of(_text, _tricky)


@st.composite
def records(draw: st.DrawFn) -> AuditRecord:
    bg = draw(st.booleans())
    return AuditRecord(
        kind=draw(st.sampled_from(list(AuditEventKind))),
        actor_sub=draw(_value),
        actor_role=draw(_value),
        outcome=draw(_value),
        purpose=draw(st.none() | _value),
        case_id=draw(st.none() | _value),
        data_subject_id=draw(st.none() | st.sampled_from(["ab" * 32, "0f" * 32])),
        break_glass=bg,
        justification_sha256=draw(st.none() | st.just("cd" * 32)) if bg else None,
        receiver=draw(st.none() | _value),
        policy_revision=draw(st.none() | _value),
        extra=draw(st.dictionaries(st.sampled_from(
            ["kind", "purpose", "record_id", "justification_sha256", "trace_id", "z"]), _value,
            max_size=3)),
    )


def _columns(r: AuditRecord) -> list[object]:
    data = r.to_dict()
    return [data[c] for c in INDEX_COLUMNS]


@settings(max_examples=300, deadline=None)
@given(r=records())
def test_the_columns_of_any_valid_record_match_its_leaf(r: AuditRecord) -> None:
    assert index_columns_match(r.to_leaf(), _columns(r), len(LEAF_PREFIX))


@settings(max_examples=400, deadline=None)
@given(r=records(), column=st.sampled_from(INDEX_COLUMNS), other=st.none() | _value | st.booleans()
       | st.integers(-2, 3) | st.sampled_from(["ab" * 32, "case:opened", "dossier:read"]))
def test_any_changed_column_is_caught(r: AuditRecord, column: str, other: object) -> None:
    cols = _columns(r)
    i = INDEX_COLUMNS.index(column)
    if json.dumps(other) == json.dumps(cols[i]) or (column == "break_glass" and other == cols[i]):
        return  # not a change (SQLite stores a bool as 0/1)
    cols[i] = other
    assert not index_columns_match(r.to_leaf(), cols, len(LEAF_PREFIX))


def test_a_non_canonical_leaf_never_matches() -> None:
    r = AuditRecord(kind=AuditEventKind.CASE_OPENED, actor_sub="cm-1", actor_role="cm", outcome="ok")
    pretty = LEAF_PREFIX + json.dumps(r.to_dict(), indent=1, sort_keys=True).encode()
    assert not index_columns_match(pretty, _columns(r), len(LEAF_PREFIX))
