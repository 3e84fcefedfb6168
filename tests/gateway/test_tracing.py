"""W3C Trace Context (Level 1 §3.2): a valid incoming traceparent is continued and kept as the
foreign context; anything else starts a fresh trace and is never passed on as given."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.tracing import TraceContext, parse_traceparent
from gateway.identity.bsn import hex_holds_bsn

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
VALID = f"00-{TRACE}-{PARENT}-01"


def test_a_valid_traceparent_is_continued_and_kept_as_foreign_context() -> None:
    t = TraceContext.from_header(VALID)
    assert t.trace_id == TRACE and t.parent_span_id == PARENT
    assert t.foreign_trace_id == TRACE and t.foreign_span_id == PARENT
    assert t.foreign is not None and t.foreign.flags == "01"
    assert t.span_id != PARENT and len(t.span_id) == 16
    assert t.traceparent() == f"00-{TRACE}-{t.span_id}-01"
    assert t.child().foreign == t.foreign and t.child().parent_span_id == t.span_id


@pytest.mark.parametrize("header", [
    None, "", "garbage",
    VALID.upper(),  # HEXDIGLC: uppercase is invalid, not lowercased
    f" {VALID}", f"{VALID} ", f"{VALID}-extra",  # version 00 is exactly 55 characters
    f"00-{'0' * 32}-{PARENT}-01",  # all-zero trace-id
    f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent-id
    f"ff-{TRACE}-{PARENT}-01",  # version ff is invalid
    f"0-{TRACE}-{PARENT}-01", f"00-{TRACE[:-1]}-{PARENT}-01", f"00-{TRACE}-{PARENT}-1",
    f"00_{TRACE}_{PARENT}_01", f"00-{TRACE}-{PARENT}-0g",
    f"00-{TRACE[:-1]}\u0661-{PARENT}-01",  # an Arabic-Indic digit is not hex
    f"00-0000000999994001000000000000ab-{PARENT}-01",  # a BSN in the trace-id
    f"00-{TRACE}-a999994001bcdef0-01",  # a BSN in the parent-id
    f"00-{TRACE}-{PARENT}-01\n",
    "00-" + "a" * 2000,
])
def test_an_invalid_traceparent_starts_a_fresh_trace(header: str | None) -> None:
    t = TraceContext.from_header(header)
    assert t.foreign is None and t.parent_span_id is None
    assert t.trace_id != TRACE and len(t.trace_id) == 32 and t.trace_id != "0" * 32
    assert "999994001" not in t.traceparent()


def test_a_later_version_is_read_by_the_version_00_layout() -> None:
    assert parse_traceparent(f"01-{TRACE}-{PARENT}-01-what-comes-later") is not None
    assert parse_traceparent(f"01-{TRACE}-{PARENT}-01") is not None
    assert parse_traceparent(f"01-{TRACE}-{PARENT}-01x") is None


@given(st.text(max_size=80))
def test_property_whatever_comes_in_what_goes_out_is_well_formed(header: str) -> None:
    t = TraceContext.from_header(header)
    out = t.traceparent()
    assert parse_traceparent(out) is not None
    assert not hex_holds_bsn(t.trace_id) and not hex_holds_bsn(t.span_id)
    if t.foreign is None:
        assert t.trace_id not in header


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=8, max_size=8))
def test_property_fresh_ids_never_carry_bsn_digits(_a: bytes, _b: bytes) -> None:
    t = TraceContext.from_header(None)
    assert not hex_holds_bsn(t.trace_id) and not hex_holds_bsn(t.span_id)
