from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.errors import BadInput, IntegrityError
from gateway.identity.bsn import BsnVault, is_valid_bsn, require_valid_bsn

VALID = ["999993847", "999992077", "999993483", "999990408", "999993926", "999990421", "999993653"]


@pytest.mark.parametrize("bsn", VALID)
def test_haal_centraal_test_bsns_pass_the_elfproef(bsn: str) -> None:
    assert is_valid_bsn(bsn)


@pytest.mark.parametrize("bad", ["000000000", "999993848", "12345678", "1234567890", "99999384a",
                                 "", " 999993847", "９９９９９３８４７", "-99993847"])
def test_invalid_bsns_are_rejected_without_echo(bad: str) -> None:
    assert not is_valid_bsn(bad)
    with pytest.raises(BadInput) as e:
        require_valid_bsn(bad)
    assert bad.strip() == "" or bad not in str(e.value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_elfproef_matches_the_definition(digits: str) -> None:
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    expected = digits != "000000000" and sum(w * int(d) for w, d in zip(weights, digits, strict=False)) % 11 == 0
    assert is_valid_bsn(digits) == expected


def test_sealed_bsn_opens_only_with_its_own_pseudonym() -> None:
    vault = BsnVault(bytes(range(32)))
    blob = vault.seal("999993847", "p" * 64)
    assert b"999993847" not in blob
    assert vault.open(blob, "p" * 64) == "999993847"
    with pytest.raises(IntegrityError):
        vault.open(blob, "q" * 64)
    with pytest.raises(IntegrityError):
        vault.open(blob[:-1] + bytes([blob[-1] ^ 1]), "p" * 64)


@pytest.mark.parametrize("text, found", [
    ("bel mij terug over 999993847 vandaag", True),
    ("dossiernummer 1999993847 en 99999384", False),  # ten and eight digits: not a BSN
    ("999993848", False),  # nine digits, elfproef fails
    ("bsn:999993847.", True),
    ("geen nummers hier", False),
])
def test_free_text_with_a_bsn_is_recognised(text: str, found: bool) -> None:
    from gateway.identity.bsn import contains_bsn

    assert contains_bsn(text) is found
