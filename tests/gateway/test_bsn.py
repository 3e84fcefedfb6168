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


# --- the one detector (issue 16): every way of writing a BSN, and what is not a BSN -------------

from datetime import datetime  # noqa: E402
from decimal import Decimal  # noqa: E402

from gateway.identity.bsn import contains_bsn, hex_holds_bsn, require_no_bsn  # noqa: E402

BSN = "999994001"  # valid under the elfproef, unlike 999994002
DIGIT_SCRIPTS = [
    "0123456789",  # ASCII
    "０１２３４５６７８９",  # full-width
    "٠١٢٣٤٥٦٧٨٩",  # Arabic-Indic
    "۰۱۲۳۴۵۶۷۸۹",  # Extended Arabic-Indic (Persian)
    "०१२३४५६७८९",  # Devanagari
    "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",  # mathematical bold
    "⓪①②③④⑤⑥⑦⑧⑨",  # circled (NFKC)
]
SEPARATORS = [" ", ".", "-", "\u00a0", "\u2009", "\u2013", "\u2014", "\u2212", "\n", "\t"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff"]


def in_script(digits: str, script: str) -> str:
    return "".join(script[int(d)] for d in digits)


TEN_FORMATS = [
    "999994001", "999 994 001", "999-99-4001", "999.994.001", "９９９９９４００１",
    "٩٩٩٩٩٤٠٠١", "999\u200b994\u200b001", "9 9 9 9 9 4 0 0 1", "bsn:999994001.",
    "\u202e100499999",  # a right-to-left override shows it as 999994001
]


@pytest.mark.parametrize("text", TEN_FORMATS, ids=repr)
def test_a_bsn_in_any_of_ten_formats_is_found(text: str) -> None:
    assert contains_bsn(f"Graag bellen over {text} vandaag")
    with pytest.raises(BadInput) as e:
        require_no_bsn(text, what="message")
    assert e.value.code == "bsn-in-free-text" and "999" not in str(e.value)


@pytest.mark.parametrize("text", [
    "999994002",  # elfproef fails
    "dossier 9999940010",  # ten digits
    "12-05-2026 om 10:30:45.123",  # dates and times
    "2026-11-25T10:30:45.123456+01:00",
    "€ 12.345.678,90 achterstand",  # amounts with a decimal comma
    "bel 06-12345678 of +31 20 123 4567 of +31 (0)20 123 4567",
    "91cf611c-b9c3-4988-810d-3b4b0363f0f3",
    "sha256:" + "0" * 7 + BSN + "a" * 48,  # a hash that happens to hold the digits
    "trace 4bf92f3577b34da6a3ce929d0e0e4736",
])
def test_things_that_are_not_a_bsn_are_left_alone(text: str) -> None:
    assert not contains_bsn(text)
    assert require_no_bsn(text, what="message") == text


def _valid_bsns() -> st.SearchStrategy[str]:
    def complete(first8: str) -> str | None:
        total = sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2), first8, strict=True))
        check = total % 11  # the last digit d9 must make total - d9 ≡ 0 (mod 11)
        return first8 + str(check) if check < 10 and first8 + str(check) != "000000000" else None

    return st.text(alphabet="0123456789", min_size=8, max_size=8).map(complete).filter(
        lambda b: b is not None)  # type: ignore[return-value]


@given(bsn=_valid_bsns(), data=st.data())
def test_property_a_disguised_bsn_in_text_is_always_found(bsn: str, data: st.DataObject) -> None:
    assert is_valid_bsn(bsn)
    out = []
    for i, d in enumerate(bsn):
        out.append(data.draw(st.sampled_from(DIGIT_SCRIPTS))[int(d)])
        if i < 8:
            out.append("".join(data.draw(st.lists(st.sampled_from(SEPARATORS + INVISIBLE), max_size=3))))
    before = data.draw(st.text(alphabet="abcdefghij klmnopqrstuvwxyz:(", max_size=20))
    after = data.draw(st.text(alphabet=" klmnopqrstuvwxyz.,)!", max_size=20))
    assert contains_bsn(before + "".join(out) + after)


@given(st.uuids())
def test_property_uuids_are_not_bsns(u: object) -> None:
    assert not contains_bsn(str(u)) and not contains_bsn(str(u).upper())
    assert not contains_bsn(f"zaak {u} geopend")


@given(st.binary(min_size=16, max_size=64))
def test_property_long_hex_identifiers_are_not_bsns(raw: bytes) -> None:
    assert not contains_bsn(raw.hex()) and not contains_bsn(f"hash {raw.hex()}.")


@given(st.datetimes(min_value=datetime(1000, 1, 1)))
def test_property_iso_timestamps_are_not_bsns(when: datetime) -> None:
    assert not contains_bsn(when.isoformat())
    assert not contains_bsn(f"{when:%d-%m-%Y %H:%M:%S}")
    assert not contains_bsn(f"{when:%Y-%m-%d %H:%M}")


@given(st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))
def test_property_amounts_in_dutch_notation_are_not_bsns(amount: Decimal) -> None:
    whole, cents = f"{amount:,.2f}".split(".")
    assert not contains_bsn(f"€ {whole.replace(',', '.')},{cents}")


@given(st.text())
def test_property_the_detector_never_raises_and_ascii_agrees_with_the_plain_reading(text: str) -> None:
    import re as _re

    found = contains_bsn(text)
    plain = [m for m in _re.findall(r"(?<![0-9A-Za-z])[0-9]{9}(?![0-9A-Za-z])", text) if is_valid_bsn(m)]
    if plain:
        assert found  # anything the old ASCII check saw, the new one sees


@given(_valid_bsns(), st.integers(min_value=0, max_value=23))
def test_property_a_bsn_anywhere_in_a_chosen_trace_id_is_found(bsn: str, at: int) -> None:
    trace_id = ("0" * at + bsn + "a" * 32)[:32]
    assert hex_holds_bsn(trace_id)
