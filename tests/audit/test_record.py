"""Audit records: validation, no BSN anywhere, canonical versioned leaf encoding."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.record import (
    LEAF_PREFIX,
    AuditEventKind,
    AuditRecord,
    Disclosure,
    Refusal,
    contains_bsn_like,
    iter_strings,
)

MakeRecord = Callable[..., AuditRecord]


def test_leaf_is_versioned_canonical_json(make_record: MakeRecord) -> None:
    r = make_record(1)
    leaf = r.to_leaf()
    assert leaf.startswith(b"loket-audit-v1\n")
    body = leaf[len(LEAF_PREFIX) :]
    assert b"\n" not in body
    data = json.loads(body)
    assert list(data) == sorted(data)  # RFC 8785 orders keys
    assert data["name"] == data["kind"] == "dossier:read"
    assert AuditRecord.from_leaf(leaf) == r


def test_logboek_fields_are_present_with_defaults(make_record: MakeRecord) -> None:
    r = make_record(2)
    assert len(r.trace_id) == 32 and len(r.span_id) == 16
    assert r.end_time == r.start_time and r.start_time.endswith("Z")
    assert r.status_code == 1
    assert r.processing_activity_id == "urn:loket:processing-activity:wmo_ondersteuning"
    assert r.data_subject_id_type == "loket:hmac-sha256:bsn"
    assert r.receiver == "casemanager:cm-002"
    assert r.name == "dossier:read"


def test_non_canonical_leaf_is_rejected(make_record: MakeRecord) -> None:
    data = make_record(1).to_dict()
    pretty = LEAF_PREFIX + json.dumps(data, indent=1).encode()
    with pytest.raises(ValueError, match="canonical"):
        AuditRecord.from_leaf(pretty)


@pytest.mark.parametrize(
    "leaf",
    [b"loket-audit-v2\n{}", b"loket-audit-v1\n[]", b"loket-audit-v1\n{", b"loket-audit-v1\n{}"],
)
def test_malformed_leaves_are_rejected(leaf: bytes) -> None:
    with pytest.raises(ValueError):
        AuditRecord.from_leaf(leaf)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"trace_id": "ABC"}, "trace_id"),
        ({"trace_id": "0" * 32}, "trace_id"),
        ({"span_id": "12345"}, "span_id"),
        ({"record_id": "not-a-uuid"}, "record_id"),
        ({"start_time": "2026-11-25 10:00:00"}, "start_time"),
        (
            {"start_time": "2026-11-25T10:00:01.000Z", "end_time": "2026-11-25T10:00:00.000Z"},
            "end_time",
        ),
        ({"status_code": 3}, "status_code"),
        ({"processing_activity_id": "no scheme"}, "URI"),
        ({"data_subject_id": "abc"}, "pseudonym"),
        ({"justification_sha256": "ab" * 32}, "break-glass"),
        ({"justification_sha256": "xyz", "break_glass": True}, "justification_sha256"),
        ({"actor_sub": ""}, "actor_sub"),
        ({"actor_sub": "a\nb"}, "one line"),
        ({"outcome": "x" * 300}, "longer"),
        ({"extra": {f"k{i}": "v" for i in range(20)}}, "extra"),
    ],
)
def test_invalid_fields_raise_value_error(
    make_record: MakeRecord, override: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_record(1, **override)


@pytest.mark.parametrize(
    "override",
    [
        {"actor_sub": "999993847"},
        {"case_id": "case-999993847"},
        {"purpose": "bijstand 999993847"},
        {"extra": {"bsn": "999993847"}},
        {"extra": {"999993847": "x"}},
        {"unavailable": ("999993847",)},
        {"receiver": "casemanager:999993847"},
        {"decision_id": "999993847"},
    ],
)
def test_no_nine_digit_bsn_anywhere(make_record: MakeRecord, override: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="BSN"):
        make_record(1, **override)


def test_no_bsn_in_disclosures_or_refusals() -> None:
    with pytest.raises(ValueError, match="BSN"):
        Refusal("uwv", "999993847", "x")
    with pytest.raises(ValueError, match="BSN"):
        Disclosure("uwv", "inkomen", ("burgerservicenummer:999993847",), "consent", "c1")


@pytest.mark.parametrize(
    ("value", "bsn_like"),
    [
        ("999993847", True),
        ("bsn=999993847;", True),
        ("12345678", False),
        ("1234567890", False),
        ("ab123456789cd", False),  # inside a hex token: an opaque id, not a BSN
        ("2026-11-25T10:00:00.000Z", False),
    ],
)
def test_bsn_like_detection(value: str, bsn_like: bool) -> None:
    assert contains_bsn_like(value) is bsn_like


def test_random_identifiers_never_trip_the_bsn_check(make_record: MakeRecord) -> None:
    # Hex ids contain digit runs; they must not make appends fail at random.
    for i in range(300):
        make_record(i)


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
    min_size=1,
    max_size=40,
).filter(lambda s: not contains_bsn_like(s))


@settings(max_examples=60, deadline=None)
@given(
    actor=_text,
    purpose=st.none() | _text,
    extra=st.dictionaries(_text.filter(lambda s: len(s) <= 64), _text, max_size=4),
    kind=st.sampled_from(list(AuditEventKind)),
    status=st.sampled_from([0, 1, 2]),
)
def test_any_valid_record_round_trips_through_its_leaf(
    actor: str, purpose: str | None, extra: dict[str, str], kind: AuditEventKind, status: int
) -> None:
    r = AuditRecord(
        kind=kind,
        actor_sub=actor,
        actor_role="casemanager",
        outcome="ok",
        purpose=purpose,
        extra=extra,
        status_code=status,
    )
    leaf = r.to_leaf()
    assert AuditRecord.from_leaf(leaf) == r
    assert AuditRecord.from_leaf(leaf).to_leaf() == leaf
    assert not any(contains_bsn_like(s) for s in iter_strings(r))


def test_record_is_frozen(make_record: MakeRecord) -> None:
    r = make_record(1)
    with pytest.raises(AttributeError):
        r.actor_sub = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.extra["x"] = "y"  # type: ignore[index]


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=30),
    key=st.text(max_size=8),
    number=st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
)
def test_fast_canonical_json_equals_rfc8785(text: str, key: str, number: int) -> None:
    import rfc8785

    from audit.record import canonical_json

    value = {
        "b": text,
        "a": [number, True, None, text],
        "extra": {key: text, "z\u00e9": "x"},
        "\u00e9": 1,
    }
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:  # e.g. a lone surrogate: both must refuse
        with pytest.raises(ValueError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected
    # All-ASCII keys take the fast json.dumps path; it must agree with rfc8785 too.
    ascii_value = {
        "b": text,
        "a": [number, text],
        "extra": {key.encode("ascii", "ignore").decode(): text},
    }
    assert canonical_json(ascii_value) == rfc8785.dumps(ascii_value)


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.characters(exclude_characters="\r\n\x00"), min_size=1, max_size=30),
    key=st.text(alphabet=st.characters(exclude_characters="\r\n\x00"), min_size=1, max_size=8),
)
def test_record_leaf_body_equals_rfc8785_of_its_dict(text: str, key: str) -> None:
    import rfc8785

    try:
        r = AuditRecord(
            kind=AuditEventKind.DOSSIER_READ,
            actor_sub=text,
            actor_role="casemanager",
            outcome="disclosed",
            purpose=text,
            disclosed=(Disclosure("uwv", text, (text, "inkomen.periode"), "consent", "c-1"),),
            refused=(Refusal("cak", "eigen_bijdrage", text),),
            extra={key: text, "seq": "n3"},
        )
    except ValueError:  # BSN-shaped text: the record refuses it, nothing to encode
        return
    try:
        expected = rfc8785.dumps(r.to_dict())
    except rfc8785.CanonicalizationError:  # a lone surrogate: both must refuse
        with pytest.raises(ValueError):
            r.to_leaf()
        return
    assert r.to_leaf() == LEAF_PREFIX + expected


@pytest.mark.parametrize("where", ["actor_sub", "purpose", "extra"])
def test_a_lone_surrogate_is_refused_at_construction_not_at_encoding(where: str) -> None:
    """Found by Hypothesis: '\\ud800' was accepted, then to_leaf() raised UnicodeEncodeError."""
    kw: dict[str, object] = {"kind": AuditEventKind.DOSSIER_READ, "actor_sub": "cm-1",
                             "actor_role": "casemanager", "outcome": "disclosed"}
    if where == "extra":
        kw["extra"] = {"note": "a\ud800b"}
    else:
        kw[where] = "a\ud800b"
    with pytest.raises(ValueError, match="not valid Unicode"):
        AuditRecord(**kw)  # type: ignore[arg-type]


# --- Logboek Dataverwerkingen 0.8 optional members ------------------------------------------


def _with_spans(**kw: Any) -> AuditRecord:
    from audit.record import ForeignOperation

    fields: dict[str, Any] = {
        "foreign_operation": ForeignOperation("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7",
                                              "urn:loket:organisatie:Gemeente"),
        "resource": {"service.name": "loket-gateway", "service.version": "0.1.0"},
        **kw,
    }
    return AuditRecord(
        kind=AuditEventKind.DOSSIER_READ, actor_sub="cm-1", actor_role="casemanager", outcome="disclosed",
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736", span_id="a1b2c3d4e5f60718", **fields,
    )


def test_a_record_without_the_logboek_08_members_encodes_as_before() -> None:
    r = AuditRecord(kind=AuditEventKind.CASE_OPENED, actor_sub="cm-1", actor_role="casemanager", outcome="opened")
    body = json.loads(r.to_leaf().removeprefix(b"loket-audit-v1\n"))
    assert not {"parent_span_id", "foreign_operation", "resource"} & set(body)
    assert AuditRecord.from_leaf(r.to_leaf()) == r


def test_logboek_08_members_round_trip_through_the_leaf() -> None:
    r = _with_spans(parent_span_id="0102030405060708")
    back = AuditRecord.from_leaf(r.to_leaf())
    assert back == r and back.resource == r.resource
    assert back.foreign_operation is not None and back.foreign_operation.span_id == "00f067aa0ba902b7"


@pytest.mark.parametrize("kw, message", [
    ({"parent_span_id": "0" * 16}, "parent_span_id"),
    ({"parent_span_id": "a1b2c3d4e5f60718"}, "parent_span_id"),  # its own span
    ({"parent_span_id": "XYZ"}, "parent_span_id"),
    ({"resource": {}}, "resource"),
    ({"resource": {"service.name": "123456789"}}, "BSN"),
])
def test_bad_logboek_08_members_are_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _with_spans(**kw)


def test_a_foreign_operation_needs_w3c_ids_and_a_uri() -> None:
    from audit.record import ForeignOperation

    with pytest.raises(ValueError, match="all zero"):
        ForeignOperation("4bf92f3577b34da6a3ce929d0e0e4736", "0" * 16, "urn:x:y")
    with pytest.raises(ValueError, match="URI"):
        ForeignOperation("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "no uri")


def test_an_unknown_member_is_still_refused() -> None:
    body = json.loads(_with_spans().to_leaf().removeprefix(b"loket-audit-v1\n"))
    body["surprise"] = 1
    with pytest.raises(ValueError, match="unknown"):
        AuditRecord.from_dict(body)
