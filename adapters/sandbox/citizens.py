"""Synthetic citizens for the sandbox agencies: fixed personas plus a seeded generator.

Every person here is made up. BSNs are in the 9999xxxxx range that the BRP test sets use and
pass the elfproef; the personas reuse the Haal Centraal BRP test BSNs listed in DOMAIN.md.

Conventions every sandbox agency follows (and the gateway may rely on):

* A citizen has a record at an agency only where it makes sense (an AOW pension needs the
  pension age, a study debt a study); an agency without a record answers ``personen: []``.
* A record holds every catalog field of its agency. A field that does not apply is ``None``
  in the record and is left out of the answer, as Haal Centraal leaves out empty values.
  Repeating things (partners, kinderen, dienstverbanden, voorzieningen, signalen, gezag) are
  lists, possibly empty.
* Amounts are strings of euros with two decimals and a dot (``"1234.56"``): exact, unlike a
  float, and readable on a page as they are. Monthly amounts are per calendar month.
* Dates are ISO 8601 (``"2026-06-15"``), months ``"2026-09"``. Ages are computed against the
  fixed :data:`REFERENCE_DATE`, so a seed gives the same data on any day.
* Every record carries the catalog's ``always_included_flags`` (``geheimhoudingPersoonsgegevens``,
  ``inOnderzoek``) as booleans.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

REFERENCE_DATE = date(2026, 11, 1)

# Haal Centraal BRP test BSNs (DOMAIN.md) and Loket's own demo persona.
BSN_PARTNER_KINDEREN = "999993847"
BSN_OVERLEDEN = "999992077"
BSN_GEHEIMHOUDING = "999993483"
BSN_MINDERJARIGE = "999990408"
BSN_EX_PARTNERS = "999993926"
BSN_VEEL_KINDEREN = "999990421"
BSN_NIET_NEDERLANDS = "999993653"
BSN_EVA = "999994001"

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def _passes_elfproef(bsn: str) -> bool:
    """Local check for generation only (the gateway's validator is gateway.identity.bsn.is_valid_bsn)."""
    return (
        len(bsn) == 9
        and bsn.isdigit()
        and bsn != "000000000"
        and sum(w * int(d) for w, d in zip(_WEIGHTS, bsn, strict=True)) % 11 == 0
    )


@dataclass(frozen=True)
class Citizen:
    """A synthetic citizen: agency id -> that agency's record (absent = unknown there)."""

    bsn: str = field(repr=False)  # kept out of repr so a failing test does not print it
    name: str
    persona: str | None
    records: dict[str, dict[str, Any]]

    def __post_init__(self) -> None:
        if not _passes_elfproef(self.bsn):
            raise ValueError("synthetic citizen has an invalid BSN")


def _eur(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _flags(secret: bool = False, under_investigation: bool = False) -> dict[str, Any]:
    return {"geheimhoudingPersoonsgegevens": secret, "inOnderzoek": under_investigation}


def _full_name(voornamen: str, voorvoegsel: str | None, geslachtsnaam: str) -> str:
    return " ".join(p for p in (voornamen, voorvoegsel, geslachtsnaam) if p)


def _age(born: date) -> int:
    r = REFERENCE_DATE
    return r.year - born.year - ((r.month, r.day) < (born.month, born.day))


# -- record builders, one per agency, taking plain values ------------------------------------


def _brp(
    *,
    voornamen: str,
    voorvoegsel: str | None,
    geslachtsnaam: str,
    geboren: date,
    straat: str | None,
    huisnummer: int | None,
    postcode: str | None,
    woonplaats: str,
    partners: Iterable[tuple[str, date]] = (),
    kinderen: Iterable[tuple[str, date]] = (),
    overleden: tuple[date, str] | None = None,
    gezag: Iterable[dict[str, Any]] = (),
    secret: bool = False,
    under_investigation: bool = False,
) -> dict[str, Any]:
    return {
        **_flags(secret, under_investigation),
        "naam": {
            "voornamen": voornamen,
            "voorvoegsel": voorvoegsel,
            "geslachtsnaam": geslachtsnaam,
        },
        "geboorte": {"datum": geboren.isoformat()},
        "verblijfplaats": {
            "straat": straat,
            "huisnummer": huisnummer,
            "postcode": postcode,
            "woonplaats": woonplaats,
        },
        "partners": [{"naam": n, "geboortedatum": d.isoformat()} for n, d in partners],
        "kinderen": [{"naam": n, "geboortedatum": d.isoformat()} for n, d in kinderen],
        "overlijden": {
            "datum": overleden[0].isoformat() if overleden else None,
            "plaats": overleden[1] if overleden else None,
        },
        "gezag": list(gezag),
    }


def _uwv(
    *,
    dienstverbanden: Iterable[tuple[str, date, date | None]] = (),
    bruto_maand: int | None = None,
    ww: tuple[str, date, date | None, int] | None = None,
    ao: tuple[str, date, date | None] | None = None,
    beperkingen: Iterable[str] = (),
    belastbaarheid: str | None = None,
) -> dict[str, Any]:
    return {
        **_flags(),
        "dienstverbanden": [
            {"werkgever": w, "begindatum": b.isoformat(), "einddatum": e.isoformat() if e else None}
            for w, b, e in dienstverbanden
        ],
        "inkomen": {
            "brutoMaand": _eur(bruto_maand) if bruto_maand is not None else None,
            "periode": "2026-09" if bruto_maand is not None else None,
        },
        "ww": {
            "status": ww[0] if ww else "geen",
            "begindatum": ww[1].isoformat() if ww else None,
            "einddatum": ww[2].isoformat() if ww and ww[2] else None,
            "bedragMaand": _eur(ww[3]) if ww else None,
        },
        "ao": {
            "uitkeringsType": ao[0] if ao else None,
            "begindatum": ao[1].isoformat() if ao else None,
            "einddatum": ao[2].isoformat() if ao and ao[2] else None,
        },
        "medisch": {"beperkingen": list(beperkingen), "belastbaarheid": belastbaarheid},
    }


def _belastingdienst(*, belastbaar: int, schuld: int = 0, regeling: bool = False) -> dict[str, Any]:
    return {
        **_flags(),
        "inkomen": {"jaar": 2025, "belastbaar": _eur(belastbaar)},
        "belastingschuld": {"openstaand": _eur(schuld), "betalingsregeling": regeling},
    }


def _toeslagen(
    *,
    huur: int = 0,
    zorg: int = 0,
    kinderopvang: int = 0,
    kgb: int = 0,
    terugvordering: int = 0,
    regeling: bool = False,
) -> dict[str, Any]:
    return {
        **_flags(),
        "toeslagen": {
            "huurtoeslag": _eur(huur),
            "zorgtoeslag": _eur(zorg),
            "kinderopvangtoeslag": _eur(kinderopvang),
            "kindgebondenBudget": _eur(kgb),
        },
        "terugvordering": {"bedrag": _eur(terugvordering), "betalingsregeling": regeling},
    }


def _duo(
    *,
    sf: tuple[str, int, str] | None = None,
    schuld: int = 0,
    aflosfase: bool = False,
    maandbedrag: int = 0,
) -> dict[str, Any]:
    return {
        **_flags(),
        "studiefinanciering": {
            "status": sf[0] if sf else "geen",
            "bedragMaand": _eur(sf[1]) if sf else None,
            "opleiding": sf[2] if sf else None,
        },
        "studieschuld": {
            "bedrag": _eur(schuld),
            "aflosfase": aflosfase,
            "maandbedrag": _eur(maandbedrag),
        },
    }


def _svb(
    *,
    aow: tuple[int, date] | None = None,
    aow_status: str | None = None,
    anw: int | None = None,
    kinderen: int = 0,
    aio: int | None = None,
) -> dict[str, Any]:
    return {
        **_flags(),
        "aow": {
            "status": aow_status or ("lopend" if aow else "geen"),
            "bedragMaand": _eur(aow[0]) if aow else None,
            "ingangsdatum": aow[1].isoformat() if aow else None,
        },
        "anw": {"status": "lopend" if anw else "geen", "bedragMaand": _eur(anw) if anw else None},
        "kinderbijslag": {"status": "lopend" if kinderen else "geen", "aantalKinderen": kinderen},
        "aio": {"status": "lopend" if aio else "geen", "bedragMaand": _eur(aio) if aio else None},
    }


def _wmo(
    *, voorzieningen: Iterable[tuple[str, date]], situatie: str | None, beperkingen: Iterable[str]
) -> dict[str, Any]:
    return {
        **_flags(),
        "voorzieningen": [
            {"soort": s, "beschikkingsdatum": d.isoformat()} for s, d in voorzieningen
        ],
        "gezondheid": {"situatie": situatie, "beperkingen": list(beperkingen)},
    }


def _participatie(*, status: str, normbedrag: int, ingang: date) -> dict[str, Any]:
    return {
        **_flags(),
        "bijstand": {
            "status": status,
            "normbedrag": _eur(normbedrag),
            "ingangsdatum": ingang.isoformat(),
        },
    }


def _schuldhulp(
    *, signalen: Iterable[tuple[str, int, date]], status: str | None, fase: str | None
) -> dict[str, Any]:
    return {
        **_flags(),
        "signalen": [
            {"soort": s, "achterstand": _eur(a), "datum": d.isoformat()} for s, a, d in signalen
        ],
        "traject": {"status": status, "fase": fase},
    }


def _cak(
    *, eigen_bijdrage: int = 0, regeling: str | None = None, achterstand: int = 0
) -> dict[str, Any]:
    return {
        **_flags(),
        "eigenBijdrage": {"bedragMaand": _eur(eigen_bijdrage), "regeling": regeling},
        "wanbetaling": {
            "achterstand": _eur(achterstand),
            # The bestuursrechtelijke premie applies from six months' arrears (Zvw art. 18d).
            "bestuursrechtelijkePremie": achterstand > 0 and achterstand >= 6 * 15000,
        },
    }


def _cjib(*, aantal: int, openstaand: int, regeling: bool = False) -> dict[str, Any]:
    return {
        **_flags(),
        "boetes": {"aantal": aantal, "openstaand": _eur(openstaand), "betalingsregeling": regeling},
    }


# -- the fixed personas -------------------------------------------------------------------


def _personas() -> list[Citizen]:
    d = date
    people: list[Citizen] = []

    # Eva, 22, law student in Utrecht, leukemia since June 2026 (PRODUCT.md's example).
    people.append(
        Citizen(
            bsn=BSN_EVA,
            name="Eva de Boer",
            persona="eva",
            records={
                "brp": _brp(
                    voornamen="Eva Maria",
                    voorvoegsel="de",
                    geslachtsnaam="Boer",
                    geboren=d(2004, 3, 14),
                    straat="Biltstraat",
                    huisnummer=112,
                    postcode="3572BK",
                    woonplaats="Utrecht",
                ),
                "duo": _duo(
                    sf=("lopend", 42850, "WO bachelor Rechtsgeleerdheid, Universiteit Utrecht"),
                    schuld=1845000,
                ),
                "uwv": _uwv(
                    dienstverbanden=[
                        ("Albert Heijn Utrecht Centraal", d(2022, 9, 1), d(2026, 8, 31))
                    ],
                    bruto_maand=61240,
                    ao=("ZW", d(2026, 6, 15), None),
                    beperkingen=[
                        "verminderde belastbaarheid tijdens chemotherapie",
                        "infectiegevoelig",
                    ],
                    belastbaarheid="maximaal 4 uur per week, geen klantcontact",
                ),
                "gemeente_wmo": _wmo(
                    voorzieningen=[
                        ("huishoudelijke ondersteuning", d(2026, 7, 20)),
                        ("woningaanpassing: douchestoel en wandbeugels", d(2026, 8, 5)),
                    ],
                    situatie="Acute lymfatische leukemie, in behandeling (chemotherapie) sinds juni 2026",
                    beperkingen=["ernstige vermoeidheid", "verminderde weerstand"],
                ),
                "toeslagen": _toeslagen(huur=22800, zorg=13100, terugvordering=41200),
                "belastingdienst": _belastingdienst(belastbaar=734880),
                "schuldhulp": _schuldhulp(
                    signalen=[
                        ("zorgverzekering", 41250, d(2026, 9, 15)),
                        ("energie", 18620, d(2026, 10, 1)),
                    ],
                    status="aangemeld",
                    fase="intake",
                ),
                "cak": _cak(eigen_bijdrage=2180, regeling="Wmo-abonnementstarief"),
                "cjib": _cjib(aantal=1, openstaand=10900),
            },
        )
    )

    # 999993847: parents, partner, children; custody over the two minors.
    ouders = ["Pieter Jan de Vries", "Sanne de Vries-Bakker"]
    people.append(
        Citizen(
            bsn=BSN_PARTNER_KINDEREN,
            name="Pieter Jan de Vries",
            persona="partner_kinderen",
            records={
                "brp": _brp(
                    voornamen="Pieter Jan",
                    voorvoegsel="de",
                    geslachtsnaam="Vries",
                    geboren=d(1978, 4, 12),
                    straat="Amsterdamsestraatweg",
                    huisnummer=307,
                    postcode="3551CK",
                    woonplaats="Utrecht",
                    partners=[("Sanne de Vries-Bakker", d(1980, 9, 23))],
                    kinderen=[
                        ("Femke de Vries", d(2005, 6, 30)),
                        ("Lotte de Vries", d(2012, 2, 3)),
                        ("Daan de Vries", d(2015, 11, 17)),
                    ],
                    gezag=[
                        {
                            "type": "TweehoofdigOuderlijkGezag",
                            "minderjarige": "Lotte de Vries",
                            "meerderjarigen": ouders,
                        },
                        {
                            "type": "TweehoofdigOuderlijkGezag",
                            "minderjarige": "Daan de Vries",
                            "meerderjarigen": ouders,
                        },
                    ],
                ),
                "uwv": _uwv(
                    dienstverbanden=[
                        ("PostNL", d(2001, 3, 1), d(2014, 12, 31)),
                        ("Gemeente Utrecht", d(2015, 1, 1), None),
                    ],
                    bruto_maand=438000,
                ),
                "belastingdienst": _belastingdienst(belastbaar=5124000),
                "toeslagen": _toeslagen(kgb=4125),
                "svb": _svb(kinderen=2),
                "cjib": _cjib(aantal=1, openstaand=11400),
            },
        )
    )

    # 999992077: deceased; the AOW stopped at death.
    people.append(
        Citizen(
            bsn=BSN_OVERLEDEN,
            name="Hendrik Jansen",
            persona="overleden",
            records={
                "brp": _brp(
                    voornamen="Hendrik",
                    voorvoegsel=None,
                    geslachtsnaam="Jansen",
                    geboren=d(1941, 1, 15),
                    straat="Assendorperstraat",
                    huisnummer=48,
                    postcode="8012DH",
                    woonplaats="Zwolle",
                    partners=[("Geertruida Jansen-Mulder", d(1943, 5, 8))],
                    kinderen=[("Willem Jansen", d(1968, 10, 2))],
                    overleden=(d(2025, 12, 3), "Zwolle"),
                ),
                "svb": _svb(aow=(98712, d(2006, 1, 15)), aow_status="beëindigd"),
                "belastingdienst": _belastingdienst(belastbaar=2210400),
            },
        )
    )

    # 999993483: emigrated, secrecy flag set (no address may go to third parties).
    people.append(
        Citizen(
            bsn=BSN_GEHEIMHOUDING,
            name="Maria Isabel van den Berg",
            persona="geheimhouding",
            records={
                "brp": _brp(
                    voornamen="Maria Isabel",
                    voorvoegsel="van den",
                    geslachtsnaam="Berg",
                    geboren=d(1985, 7, 19),
                    straat=None,
                    huisnummer=None,
                    postcode=None,
                    woonplaats="Málaga (Spanje)",
                    secret=True,
                ),
                "belastingdienst": _belastingdienst(belastbaar=0, schuld=312000, regeling=True),
                "duo": _duo(
                    sf=("beëindigd", 0, "HBO bachelor Verpleegkunde, Hogeschool Rotterdam"),
                    schuld=2290000,
                    aflosfase=True,
                    maandbedrag=11230,
                ),
            },
        )
    )

    # 999990408: a minor with two-headed parental custody.
    people.append(
        Citizen(
            bsn=BSN_MINDERJARIGE,
            name="Noah Bakker",
            persona="minderjarige",
            records={
                "brp": _brp(
                    voornamen="Noah",
                    voorvoegsel=None,
                    geslachtsnaam="Bakker",
                    geboren=d(2013, 6, 2),
                    straat="Vondellaan",
                    huisnummer=21,
                    postcode="3521GD",
                    woonplaats="Utrecht",
                    gezag=[
                        {
                            "type": "TweehoofdigOuderlijkGezag",
                            "minderjarige": "Noah Bakker",
                            "meerderjarigen": ["Linda Bakker-Smit", "Mark Bakker"],
                        }
                    ],
                ),
            },
        )
    )

    # 999993926: a partner and two ex-partners; WW after a reorganisation; in debt help.
    people.append(
        Citizen(
            bsn=BSN_EX_PARTNERS,
            name="Ahmed El Amrani",
            persona="ex_partners",
            records={
                "brp": _brp(
                    voornamen="Ahmed",
                    voorvoegsel=None,
                    geslachtsnaam="El Amrani",
                    geboren=d(1970, 2, 27),
                    straat="Beijerlandselaan",
                    huisnummer=86,
                    postcode="3074EJ",
                    woonplaats="Rotterdam",
                    partners=[
                        ("Petra Visser", d(1972, 8, 14)),
                        ("Ingrid Mol", d(1969, 12, 1)),
                        ("Fatima El Amrani-Benali", d(1975, 3, 30)),
                    ],
                ),
                "uwv": _uwv(
                    dienstverbanden=[("Havenbedrijf Rotterdam", d(1995, 5, 1), d(2026, 4, 30))],
                    bruto_maand=None,
                    ww=("lopend", d(2026, 5, 1), d(2028, 4, 30), 278400),
                ),
                "belastingdienst": _belastingdienst(belastbaar=4680000, schuld=185000),
                "toeslagen": _toeslagen(huur=19500, zorg=9900),
                "schuldhulp": _schuldhulp(
                    signalen=[("huur", 212000, d(2026, 8, 1))], status="lopend", fase="stabilisatie"
                ),
                "cjib": _cjib(aantal=3, openstaand=68000, regeling=True),
            },
        )
    )

    # 999990421: a widowed parent of several children: Anw topped up with bijstand.
    kids = [
        ("Jesse Smits", d(2004, 1, 9)),
        ("Mila Smits", d(2009, 4, 22)),
        ("Sem Smits", d(2011, 9, 5)),
        ("Tess Smits", d(2016, 12, 12)),
        ("Luuk Smits", d(2019, 3, 3)),
    ]
    people.append(
        Citizen(
            bsn=BSN_VEEL_KINDEREN,
            name="Anneke Smits",
            persona="veel_kinderen",
            records={
                "brp": _brp(
                    voornamen="Johanna Anneke",
                    voorvoegsel=None,
                    geslachtsnaam="Smits",
                    geboren=d(1982, 10, 17),
                    straat="Woensel-West Celebesstraat",
                    huisnummer=5,
                    postcode="5621HR",
                    woonplaats="Eindhoven",
                    kinderen=kids,
                    gezag=[
                        {
                            "type": "EenhoofdigOuderlijkGezag",
                            "minderjarige": n,
                            "meerderjarigen": ["Johanna Anneke Smits"],
                        }
                        for n, born in kids
                        if _age(born) < 18
                    ],
                ),
                "svb": _svb(anw=138214, kinderen=4),
                "toeslagen": _toeslagen(huur=31200, zorg=13100, kinderopvang=48000, kgb=44100),
                "gemeente_participatie": _participatie(
                    status="lopend", normbedrag=143010, ingang=d(2023, 2, 1)
                ),
                "schuldhulp": _schuldhulp(
                    signalen=[
                        ("huur", 164000, d(2026, 9, 1)),
                        ("water", 9850, d(2026, 9, 20)),
                    ],
                    status=None,
                    fase=None,
                ),
                "cak": _cak(achterstand=96000),
            },
        )
    )

    # 999993653: non-Dutch nationality; the address is under investigation.
    people.append(
        Citizen(
            bsn=BSN_NIET_NEDERLANDS,
            name="Katarzyna Nowak",
            persona="niet_nederlands",
            records={
                "brp": _brp(
                    voornamen="Katarzyna",
                    voorvoegsel=None,
                    geslachtsnaam="Nowak",
                    geboren=d(1990, 11, 4),
                    straat="Westlandseweg",
                    huisnummer=210,
                    postcode="2624AL",
                    woonplaats="Delft",
                    under_investigation=True,
                ),
                "uwv": _uwv(
                    dienstverbanden=[("Randstad Uitzendbureau", d(2024, 3, 4), None)],
                    bruto_maand=241200,
                ),
                "belastingdienst": _belastingdienst(belastbaar=2735000),
                "toeslagen": _toeslagen(zorg=9900),
            },
        )
    )
    return people


# -- the seeded generator ---------------------------------------------------------------

_MANNEN = [
    "Jan",
    "Daan",
    "Sem",
    "Lucas",
    "Thomas",
    "Bram",
    "Ruben",
    "Mohammed",
    "Kees",
    "Wouter",
    "Joost",
    "Mehmet",
]
_VROUWEN = [
    "Anna",
    "Emma",
    "Julia",
    "Sophie",
    "Fleur",
    "Noor",
    "Yasmina",
    "Ingrid",
    "Marieke",
    "Lisa",
    "Fatma",
    "Els",
]
_ACHTERNAMEN: list[tuple[str | None, str]] = [
    (None, "Jansen"),
    ("de", "Jong"),
    (None, "Bakker"),
    ("van", "Dijk"),
    (None, "Visser"),
    ("van den", "Berg"),
    ("de", "Groot"),
    (None, "Mulder"),
    ("van der", "Meer"),
    (None, "Bos"),
    (None, "Yılmaz"),
    (None, "Hendriks"),
    ("van", "Leeuwen"),
    (None, "Kaya"),
    ("de", "Wit"),
    (None, "Dekker"),
    ("van der", "Linden"),
    (None, "Peters"),
    (None, "Smit"),
    ("el", "Idrissi"),
]
# (woonplaats, first two digits of its postcodes, streets)
_PLAATSEN = [
    ("Utrecht", "35", ["Oudegracht", "Biltstraat", "Kanaalweg", "Vleutenseweg"]),
    ("Amsterdam", "10", ["Javastraat", "Bilderdijkstraat", "Van Woustraat", "Kinkerstraat"]),
    ("Rotterdam", "30", ["Beijerlandselaan", "Nieuwe Binnenweg", "Zwartjanstraat"]),
    ("Zwolle", "80", ["Assendorperstraat", "Diezerstraat", "Thomas a Kempisstraat"]),
    ("Groningen", "97", ["Oosterstraat", "Paterswoldseweg", "Korreweg"]),
    ("Eindhoven", "56", ["Stratumseind", "Boschdijk", "Kruisstraat"]),
    ("Leeuwarden", "89", ["Nieuwestad", "Tweebaksmarkt", "Oranjewijk"]),
    ("Nijmegen", "65", ["Graafseweg", "Hatertseweg", "Molenstraat"]),
]
_WERKGEVERS = [
    "Albert Heijn",
    "Gemeente Utrecht",
    "Rabobank",
    "PostNL",
    "Jumbo Supermarkten",
    "Randstad Uitzendbureau",
    "UMC Utrecht",
    "Bouwbedrijf Van Wijnen",
    "Thuiszorg Noord",
    "NS Reizigers",
    "Coolblue",
    "Stichting Kinderopvang Samen",
]
_OPLEIDINGEN = [
    "MBO Verpleegkunde, ROC Midden Nederland",
    "HBO bachelor Bedrijfskunde, Hogeschool Utrecht",
    "WO bachelor Psychologie, Rijksuniversiteit Groningen",
    "WO master Rechtsgeleerdheid, Universiteit Leiden",
    "MBO Logistiek, Albeda",
    "HBO bachelor Social Work, Hogeschool van Amsterdam",
]
_WMO = [
    "huishoudelijke ondersteuning",
    "rolstoel",
    "scootmobiel",
    "woningaanpassing: traplift",
    "begeleiding individueel",
    "dagbesteding",
]
_GEZONDHEID = [
    ("Reumatoïde artritis, beperkte mobiliteit", ["pijn bij lopen", "beperkte handfunctie"]),
    ("Beginnende dementie", ["geheugenproblemen", "oriëntatieproblemen"]),
    ("Herstel na CVA (beroerte)", ["halfzijdige verlamming", "vermoeidheid"]),
    ("Chronische depressie", ["beperkte energie", "sociale isolatie"]),
]
_SIGNALEN = ["huur", "energie", "water", "zorgverzekering"]
_FORBIDDEN_POSTCODE_LETTERS = {"SA", "SD", "SS"}


def _random_bsn(rng: random.Random, taken: set[str]) -> str:
    while True:
        middle = f"{rng.randrange(10_000):04d}"
        head = "9999" + middle
        check = sum(w * int(c) for w, c in zip(_WEIGHTS[:8], head, strict=True)) % 11
        if check == 10:  # no single check digit fits; try another middle
            continue
        bsn = head + str(check)
        if bsn not in taken and _passes_elfproef(bsn):
            taken.add(bsn)
            return bsn


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def _postcode(rng: random.Random, prefix: str) -> str:
    while True:
        letters = "".join(rng.choice("ABCEGHJKLMNPRTVWXZ") for _ in range(2))
        if letters not in _FORBIDDEN_POSTCODE_LETTERS:
            return f"{prefix}{rng.randrange(10, 100)}{letters}"


def _generated(rng: random.Random, bsn: str) -> Citizen:
    female = rng.random() < 0.5
    voornaam = rng.choice(_VROUWEN if female else _MANNEN)
    tweede = rng.choice(_VROUWEN if female else _MANNEN)
    voornamen = voornaam if rng.random() < 0.6 else f"{voornaam} {tweede}"
    voorvoegsel, achternaam = rng.choice(_ACHTERNAMEN)
    geboren = _random_date(rng, date(1938, 1, 1), date(2008, 12, 31))
    age = _age(geboren)
    woonplaats, prefix, straten = rng.choice(_PLAATSEN)

    partners: list[tuple[str, date]] = []
    if age >= 21 and rng.random() < 0.6:
        pv, pa = rng.choice(_ACHTERNAMEN)
        partner_geboren = geboren + timedelta(days=rng.randrange(-1500, 1500))
        partners.append(
            (_full_name(rng.choice(_MANNEN if female else _VROUWEN), pv, pa), partner_geboren)
        )
    kinderen: list[tuple[str, date]] = []
    if age >= 24 and rng.random() < 0.55:
        for _ in range(rng.randrange(1, 4)):
            born = _random_date(
                rng,
                geboren + timedelta(days=365 * 22),
                min(REFERENCE_DATE, geboren + timedelta(days=365 * 42)),
            )
            kinderen.append(
                (_full_name(rng.choice(_MANNEN + _VROUWEN), voorvoegsel, achternaam), born)
            )
    kinderen.sort(key=lambda k: k[1])
    minors = [n for n, born in kinderen if _age(born) < 18]
    self_name = _full_name(voornamen, voorvoegsel, achternaam)
    gezag = [
        {
            "type": "TweehoofdigOuderlijkGezag" if partners else "EenhoofdigOuderlijkGezag",
            "minderjarige": n,
            "meerderjarigen": [self_name, *(p for p, _ in partners[:1])],
        }
        for n in minors
    ]
    overleden = None
    if age >= 70 and rng.random() < 0.15:
        overleden = (_random_date(rng, date(2024, 1, 1), REFERENCE_DATE), woonplaats)

    records: dict[str, dict[str, Any]] = {
        "brp": _brp(
            voornamen=voornamen,
            voorvoegsel=voorvoegsel,
            geslachtsnaam=achternaam,
            geboren=geboren,
            straat=rng.choice(straten),
            huisnummer=rng.randrange(1, 250),
            postcode=_postcode(rng, prefix),
            woonplaats=woonplaats,
            partners=partners,
            kinderen=kinderen,
            overleden=overleden,
            gezag=gezag,
            under_investigation=rng.random() < 0.05,
        )
    }
    if overleden is None:
        working_age = 18 <= age < 67
        bruto = rng.randrange(180000, 650000) if working_age and rng.random() < 0.75 else None
        if working_age:
            begin = _random_date(rng, geboren + timedelta(days=365 * 18), REFERENCE_DATE)
            einde = None if bruto is not None else _random_date(rng, begin, REFERENCE_DATE)
            ww = None
            if bruto is None and einde and rng.random() < 0.5:
                ww = (
                    "lopend",
                    einde + timedelta(days=1),
                    einde + timedelta(days=rng.randrange(90, 730)),
                    rng.randrange(120000, 300000),
                )
            ao = None
            beperkingen: list[str] = []
            belastbaarheid = None
            if rng.random() < 0.12:
                ao_begin = _random_date(rng, date(2020, 1, 1), REFERENCE_DATE)
                ao_einde = (
                    _random_date(rng, ao_begin, REFERENCE_DATE) if rng.random() < 0.4 else None
                )
                ao = (rng.choice(["ZW", "WGA", "IVA"]), ao_begin, ao_einde)
                beperkingen = rng.choice(_GEZONDHEID)[1]
                belastbaarheid = rng.choice(
                    ["geen arbeidsvermogen", "maximaal 20 uur per week", "maximaal 12 uur per week"]
                )
            records["uwv"] = _uwv(
                dienstverbanden=[(rng.choice(_WERKGEVERS), begin, einde)],
                bruto_maand=bruto,
                ww=ww,
                ao=ao,
                beperkingen=beperkingen,
                belastbaarheid=belastbaarheid,
            )
        if age >= 18:
            yearly = (bruto or 0) * 12 if bruto else rng.randrange(0, 2500000)
            schuld = rng.choice([0, 0, 0, rng.randrange(10000, 900000)])
            records["belastingdienst"] = _belastingdienst(
                belastbaar=yearly, schuld=schuld, regeling=schuld > 0 and rng.random() < 0.5
            )
            if yearly < 4000000:
                terug = rng.choice([0, 0, rng.randrange(5000, 400000)])
                records["toeslagen"] = _toeslagen(
                    huur=rng.choice([0, rng.randrange(5000, 40000)]),
                    zorg=rng.choice([9900, 13100]),
                    kinderopvang=rng.randrange(10000, 90000)
                    if minors and rng.random() < 0.4
                    else 0,
                    kgb=rng.randrange(2000, 45000) if minors else 0,
                    terugvordering=terug,
                    regeling=terug > 0 and rng.random() < 0.6,
                )
        if 17 <= age <= 45 and rng.random() < 0.7:
            studying = age <= 27 and rng.random() < 0.6
            schuld = rng.randrange(0, 4500000)
            records["duo"] = _duo(
                sf=(
                    "lopend" if studying else "beëindigd",
                    rng.randrange(30000, 130000) if studying else 0,
                    rng.choice(_OPLEIDINGEN),
                ),
                schuld=schuld,
                aflosfase=not studying and schuld > 0,
                maandbedrag=schuld // 420 if not studying else 0,
            )
        # Anw: a surviving partner below pension age (here: single parents, now and then).
        anw = (
            rng.randrange(120000, 150000)
            if 30 <= age < 67 and minors and not partners and rng.random() < 0.5
            else None
        )
        if age >= 67 or minors:
            aow = (
                (rng.randrange(90000, 160000), geboren + timedelta(days=365 * 67))
                if age >= 67
                else None
            )
            records["svb"] = _svb(
                aow=aow,
                anw=anw,
                kinderen=len(minors),
                aio=rng.randrange(5000, 40000) if aow and rng.random() < 0.15 else None,
            )
        if rng.random() < (0.5 if age >= 75 else 0.12):
            situatie, beperkingen = rng.choice(_GEZONDHEID)
            records["gemeente_wmo"] = _wmo(
                voorzieningen=[
                    (v, _random_date(rng, date(2019, 1, 1), REFERENCE_DATE))
                    for v in rng.sample(_WMO, rng.randrange(1, 3))
                ],
                situatie=situatie,
                beperkingen=beperkingen,
            )
            records["cak"] = _cak(eigen_bijdrage=2180, regeling="Wmo-abonnementstarief")
        if 18 <= age < 67 and "uwv" in records and bruto is None and rng.random() < 0.5:
            records["gemeente_participatie"] = _participatie(
                status=rng.choice(["lopend", "lopend", "aangevraagd"]),
                normbedrag=143010 if partners else 100107,
                ingang=_random_date(rng, date(2020, 1, 1), REFERENCE_DATE),
            )
        if age >= 18 and rng.random() < 0.2:
            signalen = [
                (
                    s,
                    rng.randrange(5000, 250000),
                    _random_date(rng, date(2026, 1, 1), REFERENCE_DATE),
                )
                for s in rng.sample(_SIGNALEN, rng.randrange(1, 3))
            ]
            status, fase = rng.choice(
                [
                    (None, None),
                    ("aangemeld", "intake"),
                    ("lopend", "stabilisatie"),
                    ("lopend", "schuldregeling"),
                ]
            )
            records["schuldhulp"] = _schuldhulp(signalen=signalen, status=status, fase=fase)
            if rng.random() < 0.3:
                achterstand = rng.randrange(20000, 200000)
                records.setdefault("cak", _cak())["wanbetaling"] = _cak(achterstand=achterstand)[
                    "wanbetaling"
                ]
        if age >= 18 and rng.random() < 0.15:
            aantal = rng.randrange(1, 5)
            records["cjib"] = _cjib(
                aantal=aantal,
                openstaand=aantal * rng.randrange(5000, 40000),
                regeling=rng.random() < 0.3,
            )
    return Citizen(bsn=bsn, name=self_name, persona=None, records=records)


def generate_citizens(seed: int = 1, n: int = 50) -> list[Citizen]:
    """The fixed personas followed by ``n`` generated citizens; the same seed, the same list."""
    if not 0 <= n <= 5000:
        # 9999xxxxx holds about 9,000 valid BSNs; stay well inside it.
        raise ValueError("n must be between 0 and 5000")
    people = _personas()
    rng = random.Random(seed)
    taken = {c.bsn for c in people}
    for _ in range(n):
        people.append(_generated(rng, _random_bsn(rng, taken)))
    return people


PERSONA_BSNS: dict[str, str] = {
    "eva": BSN_EVA,
    "partner_kinderen": BSN_PARTNER_KINDEREN,
    "overleden": BSN_OVERLEDEN,
    "geheimhouding": BSN_GEHEIMHOUDING,
    "minderjarige": BSN_MINDERJARIGE,
    "ex_partners": BSN_EX_PARTNERS,
    "veel_kinderen": BSN_VEEL_KINDEREN,
    "niet_nederlands": BSN_NIET_NEDERLANDS,
}
