"""Synthetic citizens for the sandbox agencies: fixed personas plus a seeded generator.

Every person here is made up. BSNs are in the 9999xxxxx range that the BRP test sets use and
pass the elfproef; the personas reuse the Haal Centraal BRP test BSNs listed in DOMAIN.md.

Conventions every sandbox agency follows (and the gateway may rely on):

* A citizen has a record at an agency only where it makes sense (an AOW pension needs the
  pension age, a study debt a study); an agency without a record answers ``personen: []``.
* A record of a Loket-style agency holds every catalog field of its agency. A field that does
  not apply is ``None`` and is left out of the answer, as Haal Centraal leaves out empty values.
  Repeating things (dienstverbanden, voorzieningen, signalen, zaken, maatregelen) are lists.
* The BRP record follows the Haal Centraal BRP Bevragen 2.x data model instead (see
  ``adapters/sandbox/brp_records.py``): date objects, ``naam`` groups, gezag by BSN.
* Amounts are strings of euros with two decimals and a dot (``"1234.56"``). Dates are ISO 8601
  (``"2026-06-15"``), months ``"2026-09"``. Everything is computed against the fixed
  :data:`REFERENCE_DATE`, so a seed gives the same data on any day; dates after it are
  scheduled events (a benefit's end, the next surcharge, the next instalment).
* Lives are consistent (tests/adapters/test_citizens.py checks it for many seeds): a WW benefit
  starts the day after the job ended and lasts a month per year worked (3 to 24); its status says
  whether its end date has passed; a CJIB fine escalates by the Wahv steps (+50 % at the first,
  +100 % at the second reminder, 8 weeks apart) unless a payment plan stops it; a toeslagen
  reclaim is due two months after its decision or paid in at most 24 instalments; DUO repayment
  starts on the 1st of January after the two-year grace period; gezag exists only for minors.
* Regular agencies also carry the catalog's ``always_included_flags``
  (``geheimhoudingPersoonsgegevens``, ``inOnderzoek``) as booleans.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from adapters.sandbox.brp_records import (
    Adres,
    BrpPerson,
    Naam,
    Verwant,
    gezag_gezamenlijk,
    gezag_ouderlijk,
    gezag_voogdij,
    referenced_bsns,
)

REFERENCE_DATE = date(2026, 11, 1)

# Haal Centraal BRP test BSNs (DOMAIN.md) and Loket's own demo personas.
BSN_PARTNER_KINDEREN = "999993847"
BSN_OVERLEDEN = "999992077"
BSN_GEHEIMHOUDING = "999993483"
BSN_MINDERJARIGE = "999990408"
BSN_EX_PARTNERS = "999993926"
BSN_VEEL_KINDEREN = "999990421"
BSN_NIET_NEDERLANDS = "999993653"
BSN_EVA = "999994001"
BSN_SCHULDEN = "999912604"  # Sandra Mulder: debts piling up (rent, CJIB, toeslagen, CAK)
BSN_BIJNA_18 = "999913426"  # Jayden Mulder, her son: turns 18 on 20 December 2026
BSN_OUDER_MINDERJARIGE = "999913700"  # Linda Bakker-Smit, mother of Noah (12)
BSN_ONDER_BEWIND = "999914248"  # Gerrit Hoekstra: under bewind and mentorschap
BSN_ONDER_CURATELE = "999914522"  # Bart de Wit: under curatele, his father is curator

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
    records: dict[str, dict[str, Any]] = field(repr=False)  # the BRP record holds BSNs too
    life_event: str | None = None  # the demo story: ziekte, baanverlies, schulden, ...

    def __post_init__(self) -> None:
        if not _passes_elfproef(self.bsn):
            raise ValueError("synthetic citizen has an invalid BSN")


def _eur(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _flags(secret: bool = False, under_investigation: bool = False) -> dict[str, Any]:
    return {"geheimhoudingPersoonsgegevens": secret, "inOnderzoek": under_investigation}


def _age(born: date, on: date = REFERENCE_DATE) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _status(end: date | None) -> str:
    return "lopend" if end is None or end > REFERENCE_DATE else "beëindigd"


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


# -- record builders, one per agency, taking plain values ------------------------------------


def ww_period(job_end: date, years_worked: int) -> tuple[date, date]:
    """WW: from the day after the job ended, one month per year worked, 3 to 24 months."""
    begin = job_end + timedelta(days=1)
    return begin, _add_months(begin, min(24, max(3, years_worked))) - timedelta(days=1)


def _uwv(
    *,
    dienstverbanden: Iterable[tuple[str, date, date | None]] = (),
    bruto_maand: int | None = None,
    ww: tuple[date, date, int] | None = None,
    ao: tuple[str, date, date | None] | None = None,
    beperkingen: Iterable[str] = (),
    belastbaarheid: str | None = None,
) -> dict[str, Any]:
    return {
        **_flags(),
        "dienstverbanden": [
            {"werkgever": w, "begindatum": b.isoformat(), "einddatum": _iso(e)} for w, b, e in dienstverbanden
        ],
        "inkomen": {
            "brutoMaand": _eur(bruto_maand) if bruto_maand is not None else None,
            "periode": "2026-09" if bruto_maand is not None else None,
        },
        "ww": {
            "status": _status(ww[1]) if ww else "geen",
            "begindatum": _iso(ww[0]) if ww else None,
            "einddatum": _iso(ww[1]) if ww else None,
            "bedragMaand": _eur(ww[2]) if ww else None,
        },
        "ao": {
            "uitkeringsType": ao[0] if ao else None,
            "begindatum": _iso(ao[1]) if ao else None,
            "einddatum": _iso(ao[2]) if ao else None,
        },
        "medisch": {"beperkingen": list(beperkingen), "belastbaarheid": belastbaarheid},
    }


def _belastingdienst(*, belastbaar: int, schuld: int = 0, regeling: bool = False) -> dict[str, Any]:
    return {
        **_flags(),
        "inkomen": {"jaar": 2025, "belastbaar": _eur(belastbaar)},
        "belastingschuld": {"openstaand": _eur(schuld), "betalingsregeling": regeling},
    }


def reclaim_schedule(bedrag: int, beschikking: date, regeling: bool) -> dict[str, Any]:
    """A toeslagen reclaim: due two months after the decision, or in at most 24 instalments
    (on the 24th of each month) under a payment plan."""
    due = _add_months(beschikking, 2)
    termijn = -(-bedrag // 24) if regeling else None
    volgende = None
    if regeling:
        volgende = date(REFERENCE_DATE.year, REFERENCE_DATE.month, 24)
        if volgende <= REFERENCE_DATE:
            volgende = _add_months(volgende, 1)
    return {
        "uiterlijkeBetaaldatum": due.isoformat(),
        "termijnbedrag": _eur(termijn) if termijn else None,
        "volgendeTermijn": _iso(volgende),
    }


def _toeslagen(
    *,
    huur: int = 0,
    zorg: int = 0,
    kinderopvang: int = 0,
    kgb: int = 0,
    terugvordering: int = 0,
    regeling: bool = False,
    beschikking: date | None = None,
    toeslagjaar: int | None = None,
) -> dict[str, Any]:
    reclaim: dict[str, Any] = {"bedrag": _eur(terugvordering), "betalingsregeling": regeling}
    if terugvordering:
        beschikking = beschikking or date(2026, 7, 1)
        reclaim |= {
            "toeslagjaar": toeslagjaar or beschikking.year - 2,
            "beschikkingsdatum": beschikking.isoformat(),
            **reclaim_schedule(terugvordering, beschikking, regeling),
        }
    else:
        reclaim |= dict.fromkeys(
            ("toeslagjaar", "beschikkingsdatum", "uiterlijkeBetaaldatum", "termijnbedrag", "volgendeTermijn")
        )
    return {
        **_flags(),
        "toeslagen": {
            "huurtoeslag": _eur(huur),
            "zorgtoeslag": _eur(zorg),
            "kinderopvangtoeslag": _eur(kinderopvang),
            "kindgebondenBudget": _eur(kgb),
        },
        "terugvordering": reclaim,
    }


def repayment_start(sf_end: date) -> date:
    """DUO: the two-year grace period (aanloopfase) starts the month after study finance ends;
    repayment (aflosfase) starts on the 1st of January after it."""
    grace_end = _add_months(date(sf_end.year, sf_end.month, 1), 25)
    return date(grace_end.year + 1, 1, 1)


def _duo(
    *,
    sf: tuple[int, str, date | None] | None = None,
    schuld: int = 0,
    maandbedrag: int = 0,
) -> dict[str, Any]:
    """``sf``: (monthly amount, programme, end date or None while running)."""
    end = sf[2] if sf else None
    start = repayment_start(end) if end and schuld else None
    aflossen = bool(start and start <= REFERENCE_DATE)
    return {
        **_flags(),
        "studiefinanciering": {
            "status": _status(end) if sf else "geen",
            "bedragMaand": _eur(sf[0]) if sf and _status(end) == "lopend" else None,
            "opleiding": sf[1] if sf else None,
            "einddatum": _iso(end),
        },
        "studieschuld": {
            "bedrag": _eur(schuld),
            "aflosfase": aflossen,
            "maandbedrag": _eur(maandbedrag if aflossen else 0),
            "aanvangAflosfase": _iso(start),
        },
    }


def aow_date(born: date) -> date:
    """AOW age, simplified: 65 for those born before 1948, 66 until 1957, 67 from 1958."""
    years = 65 if born.year < 1948 else 66 if born.year < 1958 else 67
    return date(born.year + years, born.month, min(born.day, 28))


def _svb(
    *,
    aow: tuple[int, date] | None = None,
    aow_einde: date | None = None,
    anw: tuple[int, date] | None = None,
    kinderen: int = 0,
    aio: int | None = None,
) -> dict[str, Any]:
    return {
        **_flags(),
        "aow": {
            "status": ("beëindigd" if aow_einde else "lopend") if aow else "geen",
            "bedragMaand": _eur(aow[0]) if aow and not aow_einde else None,
            "ingangsdatum": _iso(aow[1]) if aow else None,
        },
        "anw": {
            "status": "lopend" if anw else "geen",
            "bedragMaand": _eur(anw[0]) if anw else None,
            "ingangsdatum": _iso(anw[1]) if anw else None,
        },
        "kinderbijslag": {"status": "lopend" if kinderen else "geen", "aantalKinderen": kinderen},
        "aio": {"status": "lopend" if aio else "geen", "bedragMaand": _eur(aio) if aio else None},
    }


def _wmo(
    *, voorzieningen: Iterable[tuple[str, date]], situatie: str | None, beperkingen: Iterable[str]
) -> dict[str, Any]:
    return {
        **_flags(),
        "voorzieningen": [{"soort": s, "beschikkingsdatum": d.isoformat()} for s, d in voorzieningen],
        "gezondheid": {"situatie": situatie, "beperkingen": list(beperkingen)},
    }


def _participatie(*, status: str, normbedrag: int, ingang: date) -> dict[str, Any]:
    return {
        **_flags(),
        "bijstand": {"status": status, "normbedrag": _eur(normbedrag), "ingangsdatum": ingang.isoformat()},
    }


#: What a creditor does next when arrears stay unpaid (vroegsignalering, Wgs art. 3a *(check)*).
VERVOLGSTAP = {
    "huur": "huurder gedagvaard; ontruiming dreigt",
    "energie": "afsluiting aangekondigd",
    "water": "afsluiting aangekondigd",
    "zorgverzekering": "aanmelding bij het CAK (wanbetalersregeling)",
}


@dataclass(frozen=True)
class Signaal:
    soort: str  # huur, energie, water, zorgverzekering
    schuldeiser: str
    maand_bedrag: int  # the monthly rent, bill or premium in cents
    maanden: int  # months in arrears
    datum: date  # the signal's date
    vervolgstap: date | None = None  # when the creditor takes the next step, if announced


def _schuldhulp(*, signalen: Iterable[Signaal], status: str | None, fase: str | None) -> dict[str, Any]:
    return {
        **_flags(),
        "signalen": [
            {
                "soort": s.soort,
                "schuldeiser": s.schuldeiser,
                "achterstand": _eur(s.maand_bedrag * s.maanden),
                "maandenAchterstand": s.maanden,
                "datum": s.datum.isoformat(),
                "vervolgstap": VERVOLGSTAP[s.soort] if s.vervolgstap else None,
                "vervolgstapDatum": _iso(s.vervolgstap),
            }
            for s in signalen
        ],
        "traject": {"status": status, "fase": fase},
    }


#: Zvw art. 18d: the CAK takes over the premium (bestuursrechtelijke premie) from six months.
CAK_MAANDPREMIE = 15_900


def _cak(*, eigen_bijdrage: int = 0, regeling: str | None = None, maanden_achterstand: int = 0) -> dict[str, Any]:
    return {
        **_flags(),
        "eigenBijdrage": {"bedragMaand": _eur(eigen_bijdrage), "regeling": regeling},
        "wanbetaling": {
            "achterstand": _eur(maanden_achterstand * CAK_MAANDPREMIE),
            "maandenAchterstand": maanden_achterstand,
            "bestuursrechtelijkePremie": maanden_achterstand >= 6,
        },
    }


#: Wahv: 8 weeks to pay; then a first reminder (+50 % of the fine), 8 weeks later a second
#: (+100 %), then a dwangbevel (bailiff). Wahv art. 23 and 24 *(check the article numbers)*.
WAHV_TERMIJN = timedelta(weeks=8)
ADMINISTRATIEKOSTEN = 900


@dataclass(frozen=True)
class Boete:
    soort: str
    beschikking: date
    bedrag: int  # the sanction, in cents, without the administration fee
    regeling: bool = False


def cjib_case(b: Boete) -> dict[str, Any]:
    """One fine as the CJIB holds it on REFERENCE_DATE: surcharges so far and the next step."""
    steps = [
        ("eerste aanmaning", b.beschikking + WAHV_TERMIJN + timedelta(days=14), b.bedrag // 2),
        ("tweede aanmaning", b.beschikking + 2 * WAHV_TERMIJN + timedelta(days=28), b.bedrag),
    ]
    surcharges = []
    volgende: tuple[str, date] | None = None
    for soort, when, extra in steps:
        if b.regeling and when > b.beschikking + WAHV_TERMIJN:
            break  # a payment plan agreed within the first term stops the escalation
        if when <= REFERENCE_DATE:
            surcharges.append({"soort": soort, "datum": when.isoformat(), "bedrag": _eur(extra)})
        else:
            volgende = (f"{soort} (+{_eur(extra)})", when)
            break
    if volgende is None and not b.regeling:
        dwangbevel = b.beschikking + 3 * WAHV_TERMIJN + timedelta(days=42)
        if dwangbevel > REFERENCE_DATE:
            volgende = ("dwangbevel (deurwaarder)", dwangbevel)
        else:  # the bailiff has the dwangbevel: seizure of wages or benefit comes next
            volgende = (
                "beslag door de deurwaarder",
                max(dwangbevel + timedelta(weeks=4), REFERENCE_DATE + timedelta(days=14)),
            )
    total = b.bedrag + ADMINISTRATIEKOSTEN + sum(int(s["bedrag"].replace(".", "")) for s in surcharges)
    return {
        "soort": b.soort,
        "beschikkingsdatum": b.beschikking.isoformat(),
        "oorspronkelijkBedrag": _eur(b.bedrag + ADMINISTRATIEKOSTEN),
        "verhogingen": surcharges,
        "openstaand": _eur(total),
        "volgendeStap": {"soort": volgende[0], "datum": volgende[1].isoformat()} if volgende else None,
    }


def _cjib(*, boetes: Iterable[Boete]) -> dict[str, Any]:
    zaken = [cjib_case(b) for b in boetes]
    return {
        **_flags(),
        "boetes": {
            "aantal": len(zaken),
            "openstaand": _eur(sum(int(z["openstaand"].replace(".", "")) for z in zaken)),
            "betalingsregeling": any(b.regeling for b in boetes),
            "zaken": zaken,
        },
    }


#: CCBR: which domains each measure covers (the scope a representative acts within).
REIKWIJDTE = {
    "curatele": ["financieel", "zorg en behandeling", "persoonlijk"],
    "beschermingsbewind": ["financieel"],
    "mentorschap": ["zorg en behandeling"],
}


@dataclass(frozen=True)
class Maatregel:
    soort: str  # curatele, beschermingsbewind, mentorschap
    ingang: date
    vertegenwoordiger: str
    professioneel: bool  # a professional (KvK) or a relative (BSN)
    id_nummer: str  # the KvK number or the BSN
    rechtbank: str
    zaaknummer: str
    einde: date | None = None


def _ccbr(*, maatregelen: Iterable[Maatregel]) -> dict[str, Any]:
    return {
        **_flags(),
        "maatregelen": [
            {
                "soort": m.soort,
                "reikwijdte": list(REIKWIJDTE[m.soort]),
                "ingangsdatum": m.ingang.isoformat(),
                "einddatum": _iso(m.einde),
                "vertegenwoordiger": {
                    "naam": m.vertegenwoordiger,
                    "soort": "professioneel" if m.professioneel else "familielid",
                    "kvkNummer": m.id_nummer if m.professioneel else None,
                    "burgerservicenummer": None if m.professioneel else m.id_nummer,
                },
                "uitspraak": {"rechtbank": m.rechtbank, "datum": m.ingang.isoformat(), "zaaknummer": m.zaaknummer},
            }
            for m in maatregelen
        ],
    }


# -- the fixed personas -------------------------------------------------------------------


def _v(bsn: str, voornamen: str, voorvoegsel: str | None, achternaam: str, born: date, sex: str, **kw: Any) -> Verwant:
    return Verwant(bsn, Naam(voornamen, voorvoegsel, achternaam), born, sex, **kw)


def _me(v: Verwant) -> Verwant:
    """A person as they appear on a relative's record."""
    return Verwant(v.bsn, v.naam, v.geboren, v.geslacht)


def _personas() -> list[Citizen]:
    d = date
    people: list[Citizen] = []

    def add(person: BrpPerson, persona: str, life_event: str | None = None, **records: dict[str, Any]) -> None:
        people.append(
            Citizen(
                bsn=person.bsn,
                name=person.naam.volledig,
                persona=persona,
                records={"brp": person.record(), **records},
                life_event=life_event,
            )
        )

    # Eva, 22, law student in Utrecht, leukemia since June 2026 (PRODUCT.md's example). Sick
    # while employed; her temporary contract ended on 31 August, so UWV pays Ziektewet since.
    add(
        BrpPerson(
            BSN_EVA,
            Naam("Eva Maria", "de", "Boer"),
            "V",
            d(2004, 3, 14),
            "Utrecht",
            Adres("Biltstraat", 112, "3572BK", "Utrecht", sinds=d(2022, 8, 15)),
        ),
        "eva",
        "ziekte",
        duo=_duo(sf=(42850, "WO bachelor Rechtsgeleerdheid, Universiteit Utrecht", None), schuld=1845000),
        uwv=_uwv(
            dienstverbanden=[("Albert Heijn Utrecht Centraal", d(2022, 9, 1), d(2026, 8, 31))],
            bruto_maand=61240,
            ao=("ZW", d(2026, 6, 15), None),
            beperkingen=["verminderde belastbaarheid tijdens chemotherapie", "infectiegevoelig"],
            belastbaarheid="maximaal 4 uur per week, geen klantcontact",
        ),
        gemeente_wmo=_wmo(
            voorzieningen=[
                ("huishoudelijke ondersteuning", d(2026, 7, 20)),
                ("woningaanpassing: douchestoel en wandbeugels", d(2026, 8, 5)),
            ],
            situatie="Acute lymfatische leukemie, in behandeling (chemotherapie) sinds juni 2026",
            beperkingen=["ernstige vermoeidheid", "verminderde weerstand"],
        ),
        toeslagen=_toeslagen(huur=22800, zorg=13100, terugvordering=41200, beschikking=d(2026, 7, 1), toeslagjaar=2024),
        belastingdienst=_belastingdienst(belastbaar=734880),
        schuldhulp=_schuldhulp(
            signalen=[
                Signaal("zorgverzekering", "Zilveren Kruis", 13750, 3, d(2026, 9, 15)),
                Signaal("energie", "Eneco", 9310, 2, d(2026, 10, 1), vervolgstap=d(2026, 11, 20)),
            ],
            status="aangemeld",
            fase="intake",
        ),
        cak=_cak(eigen_bijdrage=2180, regeling="Wmo-abonnementstarief"),
        cjib=_cjib(boetes=[Boete("verkeersboete (Wahv): te hard rijden", d(2026, 8, 10), 10000)]),
    )

    # 999993847: married, three children; parental authority over the two minors.
    pieter = _v(BSN_PARTNER_KINDEREN, "Pieter Jan", "de", "Vries", d(1978, 4, 12), "M")
    sanne = _v("999915344", "Sanne", "de", "Vries-Bakker", d(1980, 9, 23), "V", sinds=d(2004, 6, 18))
    femke = _v("999916166", "Femke", "de", "Vries", d(2005, 6, 30), "V")
    lotte = _v("999916440", "Lotte", "de", "Vries", d(2012, 2, 3), "V")
    daan = _v("999917262", "Daan", "de", "Vries", d(2015, 11, 17), "M")
    add(
        BrpPerson(
            pieter.bsn,
            pieter.naam,
            "M",
            pieter.geboren,
            "Utrecht",
            Adres("Amsterdamsestraatweg", 307, "3551CK", "Utrecht", sinds=d(2006, 3, 1)),
            partners=[sanne],
            kinderen=[femke, lotte, daan],
            gezag=[gezag_ouderlijk(lotte, [pieter, sanne]), gezag_ouderlijk(daan, [pieter, sanne])],
        ),
        "partner_kinderen",
        uwv=_uwv(
            dienstverbanden=[("PostNL", d(2001, 3, 1), d(2014, 12, 31)), ("Gemeente Utrecht", d(2015, 1, 1), None)],
            bruto_maand=438000,
        ),
        belastingdienst=_belastingdienst(belastbaar=5124000),
        toeslagen=_toeslagen(kgb=4125),
        svb=_svb(kinderen=2),
        cjib=_cjib(boetes=[Boete("verkeersboete (Wahv): fout parkeren", d(2026, 9, 20), 10500)]),
    )

    # 999992077: deceased; the AOW stopped at death.
    add(
        BrpPerson(
            BSN_OVERLEDEN,
            Naam("Hendrik", None, "Jansen"),
            "M",
            d(1941, 1, 15),
            "Zwolle",
            Adres("Assendorperstraat", 48, "8012DH", "Zwolle", huisnummertoevoeging="bis", sinds=d(1972, 5, 1)),
            partners=[_v("999918084", "Geertruida", None, "Jansen-Mulder", d(1943, 5, 8), "V", sinds=d(1965, 9, 10))],
            kinderen=[_v("999919180", "Willem", None, "Jansen", d(1968, 10, 2), "M")],
            overleden=(d(2025, 12, 3), "Zwolle"),
        ),
        "overleden",
        svb=_svb(aow=(98712, aow_date(d(1941, 1, 15))), aow_einde=d(2025, 12, 3)),
        belastingdienst=_belastingdienst(belastbaar=2210400),
    )

    # 999993483: emigrated to Spain, secrecy flag set (no data to third parties).
    add(
        BrpPerson(
            BSN_GEHEIMHOUDING,
            Naam("Maria Isabel", "van den", "Berg"),
            "V",
            d(1985, 7, 19),
            "Rotterdam",
            None,
            buitenland="Spanje",
            geheimhouding=True,
        ),
        "geheimhouding",
        belastingdienst=_belastingdienst(belastbaar=0, schuld=312000, regeling=True),
        duo=_duo(
            sf=(0, "HBO bachelor Verpleegkunde, Hogeschool Rotterdam", d(2009, 6, 30)),
            schuld=2290000,
            maandbedrag=11230,
        ),
    )

    # 999990408: Noah, 12, with his parents Linda and Mark holding joint parental authority.
    linda = _v(BSN_OUDER_MINDERJARIGE, "Linda", None, "Bakker-Smit", d(1983, 2, 11), "V")
    mark = _v("999929318", "Mark", None, "Bakker", d(1981, 10, 30), "M", sinds=d(2011, 7, 2))
    noah = _v(BSN_MINDERJARIGE, "Noah", None, "Bakker", d(2014, 6, 2), "M")
    thuis = Adres("Vondellaan", 21, "3521GD", "Utrecht", sinds=d(2014, 9, 1))
    noah_gezag = gezag_ouderlijk(noah, [linda, mark])
    add(
        BrpPerson(
            noah.bsn, noah.naam, "M", noah.geboren, "Utrecht", thuis, ouders=[_me(linda), _me(mark)], gezag=[noah_gezag]
        ),
        "minderjarige",
    )
    add(
        BrpPerson(
            linda.bsn,
            linda.naam,
            "V",
            linda.geboren,
            "Utrecht",
            thuis,
            partners=[mark],
            kinderen=[noah],
            gezag=[noah_gezag],
        ),
        "ouder_minderjarige",
        uwv=_uwv(dienstverbanden=[("UMC Utrecht", d(2008, 9, 1), None)], bruto_maand=392000),
        belastingdienst=_belastingdienst(belastbaar=4704000),
        svb=_svb(kinderen=1),
    )

    # 999993926: job loss. 31 years at the port, let go in a reorganisation on 30 April 2026:
    # WW for 24 months; rent arrears and three fines under a payment plan. The BRP 2.x answer
    # holds only the current (or last dissolved) partner, so the two ex-partners do not show.
    ahmed_job_end = d(2026, 4, 30)
    ww_begin, ww_end = ww_period(ahmed_job_end, 31)
    add(
        BrpPerson(
            BSN_EX_PARTNERS,
            Naam("Ahmed", None, "El Amrani"),
            "M",
            d(1970, 2, 27),
            "Rotterdam",
            Adres("Beijerlandselaan", 86, "3074EJ", "Rotterdam", sinds=d(2010, 6, 1)),
            partners=[_v("999930825", "Fatima", None, "El Amrani-Benali", d(1975, 3, 30), "V", sinds=d(2010, 5, 14))],
        ),
        "ex_partners",
        "baanverlies",
        uwv=_uwv(
            dienstverbanden=[("Havenbedrijf Rotterdam", d(1995, 5, 1), ahmed_job_end)],
            ww=(ww_begin, ww_end, 278400),
        ),
        belastingdienst=_belastingdienst(belastbaar=4680000, schuld=185000),
        toeslagen=_toeslagen(huur=19500, zorg=9900),
        schuldhulp=_schuldhulp(
            signalen=[Signaal("huur", "Woonstad Rotterdam", 106000, 2, d(2026, 8, 1))],
            status="lopend",
            fase="stabilisatie",
        ),
        cjib=_cjib(
            boetes=[
                Boete("verkeersboete (Wahv): te hard rijden", d(2026, 3, 2), 22000, regeling=True),
                Boete("verkeersboete (Wahv): handheld bellen", d(2026, 4, 15), 19000, regeling=True),
                Boete("verkeersboete (Wahv): door rood licht", d(2026, 5, 20), 24300, regeling=True),
            ]
        ),
    )

    # 999990421: partner's death. Rob died on 14 August 2026; Anneke, with four minor children,
    # gets Anw from September, applied for bijstand, and the rent fell behind.
    anneke = _v(BSN_VEEL_KINDEREN, "Johanna Anneke", None, "Smits", d(1982, 10, 17), "V")
    rob = _v("999931647", "Rob", None, "Smits", d(1980, 5, 5), "M", sinds=d(2003, 8, 22), ontbonden=d(2026, 8, 14))
    kids = [
        _v("999931921", "Jesse", None, "Smits", d(2004, 1, 9), "M"),
        _v("999932469", "Mila", None, "Smits", d(2009, 4, 22), "V"),
        _v("999932743", "Sem", None, "Smits", d(2011, 9, 5), "M"),
        _v("999933565", "Tess", None, "Smits", d(2016, 12, 12), "V"),
        _v("999934387", "Luuk", None, "Smits", d(2019, 3, 3), "M"),
    ]
    minors = [k for k in kids if _age(k.geboren) < 18]
    add(
        BrpPerson(
            anneke.bsn,
            anneke.naam,
            "V",
            anneke.geboren,
            "Eindhoven",
            Adres("Celebesstraat", 5, "5621HR", "Eindhoven", sinds=d(2008, 4, 1)),
            partners=[rob],
            kinderen=kids,
            gezag=[gezag_ouderlijk(k, [anneke]) for k in minors],
        ),
        "veel_kinderen",
        "overlijden_partner",
        svb=_svb(anw=(138214, d(2026, 9, 1)), kinderen=len(minors)),
        toeslagen=_toeslagen(huur=31200, zorg=13100, kinderopvang=48000, kgb=44100),
        gemeente_participatie=_participatie(status="aangevraagd", normbedrag=100107, ingang=d(2026, 10, 1)),
        schuldhulp=_schuldhulp(
            signalen=[
                Signaal("huur", "Woonbedrijf Eindhoven", 82000, 2, d(2026, 10, 5), vervolgstap=d(2026, 12, 1)),
                Signaal("water", "Brabant Water", 4925, 2, d(2026, 10, 20)),
            ],
            status=None,
            fase=None,
        ),
        cak=_cak(maanden_achterstand=6),
    )

    # 999993653: non-Dutch nationality; the address is under investigation since June. She is
    # guardian (voogd) of her niece Zofia, and shares authority over her partner's son Kacper.
    kasia = _v(BSN_NIET_NEDERLANDS, "Katarzyna", None, "Nowak", d(1990, 11, 4), "V")
    tomasz = _v("999941100", "Tomasz", None, "Kowalczyk", d(1987, 1, 19), "M", sinds=d(2023, 5, 6))
    zofia = _v("999946717", "Zofia", None, "Nowak", d(2015, 8, 28), "V")
    kacper = _v("999936001", "Kacper", None, "Kowalczyk", d(2017, 3, 14), "M")
    add(
        BrpPerson(
            kasia.bsn,
            kasia.naam,
            "V",
            kasia.geboren,
            "Warschau",
            Adres("Westlandseweg", 210, "2624AL", "Delft", sinds=d(2024, 2, 12)),
            partners=[tomasz],
            gezag=[gezag_voogdij(zofia, [kasia]), gezag_gezamenlijk(kacper, tomasz, kasia)],
            adres_in_onderzoek=d(2026, 6, 1),
            nationaliteit=("0131", "Poolse"),
        ),
        "niet_nederlands",
        uwv=_uwv(dienstverbanden=[("Randstad Uitzendbureau", d(2024, 3, 4), None)], bruto_maand=241200),
        belastingdienst=_belastingdienst(belastbaar=2735000),
        toeslagen=_toeslagen(zorg=9900),
    )

    # 999912604: debts. Sandra, single mother of two, part-time in home care: four months of
    # rent arrears (the landlord has gone to court), energy cut-off announced, a toeslagen
    # reclaim paid in instalments, two fines escalating at the CJIB, health-insurance arrears.
    sandra = _v(BSN_SCHULDEN, "Sandra", None, "Mulder", d(1988, 3, 21), "V")
    jayden = _v(BSN_BIJNA_18, "Jayden", None, "Mulder", d(2008, 12, 20), "M")
    mees = _v("999934661", "Mees", None, "Mulder", d(2017, 5, 9), "M")
    korreweg = Adres("Korreweg", 118, "9715AH", "Groningen", huisletter="B", sinds=d(2016, 11, 1))
    add(
        BrpPerson(
            sandra.bsn,
            sandra.naam,
            "V",
            sandra.geboren,
            "Groningen",
            korreweg,
            kinderen=[jayden, mees],
            gezag=[gezag_ouderlijk(jayden, [sandra]), gezag_ouderlijk(mees, [sandra])],
        ),
        "schulden",
        "schulden",
        uwv=_uwv(dienstverbanden=[("Thuiszorg Noord", d(2019, 2, 1), None)], bruto_maand=168000),
        belastingdienst=_belastingdienst(belastbaar=2016000),
        toeslagen=_toeslagen(
            huur=38500,
            zorg=13100,
            kgb=39500,
            terugvordering=284000,
            regeling=True,
            beschikking=d(2026, 5, 12),
            toeslagjaar=2024,
        ),
        svb=_svb(kinderen=2),
        schuldhulp=_schuldhulp(
            signalen=[
                Signaal("huur", "Lefier", 72500, 4, d(2026, 9, 4), vervolgstap=d(2026, 11, 18)),
                Signaal("energie", "Vattenfall", 18900, 2, d(2026, 10, 12), vervolgstap=d(2026, 11, 26)),
            ],
            status="aangemeld",
            fase="intake",
        ),
        cak=_cak(maanden_achterstand=7),
        cjib=_cjib(
            boetes=[
                Boete("verkeersboete (Wahv): door rood licht", d(2026, 5, 4), 25000),
                Boete("ov-boete: reizen zonder geldig vervoersbewijs", d(2026, 8, 24), 5000),
            ]
        ),
    )

    # 999913426: a young person turning 18. Jayden, Sandra's son, turns 18 on 20 December 2026:
    # then his mother's authority ends (the sandbox BRP stops delivering it), and kinderbijslag,
    # own health insurance, zorgtoeslag and MBO study finance start to matter.
    add(
        BrpPerson(
            jayden.bsn,
            jayden.naam,
            "M",
            jayden.geboren,
            "Groningen",
            korreweg,
            ouders=[_me(sandra)],
            gezag=[gezag_ouderlijk(jayden, [sandra])],
        ),
        "bijna_18",
        "bijna_18",
        uwv=_uwv(dienstverbanden=[("Jumbo Supermarkten", d(2024, 6, 1), None)], bruto_maand=42000),
    )

    # 999914248: under beschermingsbewind (a professional) and mentorschap (his sister).
    aaltje = _v("999935483", "Aaltje", None, "Hoekstra", d(1958, 4, 2), "V")
    add(
        BrpPerson(
            BSN_ONDER_BEWIND,
            Naam("Gerrit", None, "Hoekstra"),
            "M",
            d(1961, 8, 30),
            "Leeuwarden",
            Adres("Nieuwestad", 42, "8911CN", "Leeuwarden", sinds=d(2019, 1, 15)),
        ),
        "onder_bewind",
        curateleregister=_ccbr(
            maatregelen=[
                Maatregel(
                    "beschermingsbewind",
                    d(2021, 3, 15),
                    "Bewindvoering Noord B.V. (synthetisch)",
                    True,
                    "90000017",
                    "Rechtbank Noord-Nederland",
                    "C/17/000123 / BW RK 21-0456",
                ),
                Maatregel(
                    "mentorschap",
                    d(2022, 9, 1),
                    aaltje.naam.volledig,
                    False,
                    aaltje.bsn,
                    "Rechtbank Noord-Nederland",
                    "C/17/000789 / ME RK 22-0112",
                ),
                # Aaltje was his bewindvoerder first; a professional took over in 2021.
                Maatregel(
                    "beschermingsbewind",
                    d(2017, 6, 1),
                    aaltje.naam.volledig,
                    False,
                    aaltje.bsn,
                    "Rechtbank Noord-Nederland",
                    "C/17/000045 / BW RK 17-0321",
                    einde=d(2021, 3, 14),
                ),
            ]
        ),
        uwv=_uwv(
            ao=("WGA", d(2018, 5, 1), None),
            beperkingen=["niet-aangeboren hersenletsel"],
            belastbaarheid="geen arbeidsvermogen",
        ),
        gemeente_wmo=_wmo(
            voorzieningen=[("begeleiding individueel", d(2020, 2, 3))],
            situatie="Niet-aangeboren hersenletsel na een ongeval (2016)",
            beperkingen=["geheugenproblemen", "overzicht houden"],
        ),
        cak=_cak(eigen_bijdrage=2180, regeling="Wmo-abonnementstarief"),
        schuldhulp=_schuldhulp(signalen=[], status="lopend", fase="schuldregeling"),
    )

    # 999914522: under curatele; his father is his curator (everything: money, care, person).
    johan = _v("999940004", "Johan", "de", "Wit", d(1966, 7, 7), "M")
    add(
        BrpPerson(
            BSN_ONDER_CURATELE,
            Naam("Bart", "de", "Wit"),
            "M",
            d(1996, 2, 14),
            "Nijmegen",
            Adres("Graafseweg", 301, "6532ZP", "Nijmegen", sinds=d(2020, 4, 1)),
            ouders=[_me(johan)],
            curatele=True,
        ),
        "onder_curatele",
        curateleregister=_ccbr(
            maatregelen=[
                Maatregel(
                    "curatele",
                    d(2019, 10, 1),
                    johan.naam.volledig,
                    False,
                    johan.bsn,
                    "Rechtbank Gelderland",
                    "C/05/000456 / CU RK 19-0789",
                ),
            ]
        ),
        uwv=_uwv(ao=("Wajong", d(2014, 2, 14), None)),
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


_SCHULDEISERS = {
    "huur": ["Woonstad Rotterdam", "Mitros", "Lefier", "Ymere", "Portaal"],
    "energie": ["Eneco", "Vattenfall", "Essent"],
    "water": ["Vitens", "Evides", "Brabant Water"],
    "zorgverzekering": ["Zilveren Kruis", "CZ", "VGZ", "Menzis"],
}
_MAANDBEDRAG = {
    "huur": (55000, 110000),
    "energie": (9000, 25000),
    "water": (2500, 5000),
    "zorgverzekering": (13000, 15500),
}
_BOETES = [
    ("verkeersboete (Wahv): te hard rijden", 5000, 40000),
    ("verkeersboete (Wahv): fout parkeren", 9500, 11500),
    ("verkeersboete (Wahv): door rood licht", 25000, 27000),
    ("ov-boete: reizen zonder geldig vervoersbewijs", 5000, 5000),
]


def _name(rng: random.Random, female: bool) -> str:
    first = rng.choice(_VROUWEN if female else _MANNEN)
    return first if rng.random() < 0.6 else f"{first} {rng.choice(_VROUWEN if female else _MANNEN)}"


def _generated(rng: random.Random, bsn: str, taken: set[str]) -> Citizen:
    female = rng.random() < 0.5
    voorvoegsel, achternaam = rng.choice(_ACHTERNAMEN)
    naam = Naam(_name(rng, female), voorvoegsel, achternaam)
    geboren = _random_date(rng, date(1938, 1, 1), date(2008, 12, 31))
    age = _age(geboren)
    woonplaats, prefix, straten = rng.choice(_PLAATSEN)
    verhuisd = _random_date(rng, max(geboren + timedelta(days=365 * 18), date(1990, 1, 1)), REFERENCE_DATE)
    adres = Adres(
        rng.choice(straten),
        rng.randrange(1, 250),
        _postcode(rng, prefix),
        woonplaats,
        sinds=verhuisd if age >= 18 else geboren,
    )
    me = Verwant(bsn, naam, geboren, "V" if female else "M")

    partners: list[Verwant] = []
    if age >= 21 and rng.random() < 0.6:
        pv, pa = rng.choice(_ACHTERNAMEN)
        sinds = _random_date(rng, geboren + timedelta(days=365 * 20), REFERENCE_DATE)
        partners.append(
            Verwant(
                _random_bsn(rng, taken),
                Naam(_name(rng, not female), pv, pa),
                geboren + timedelta(days=rng.randrange(-1500, 1500)),
                "M" if female else "V",
                sinds=sinds,
            )
        )
    kinderen: list[Verwant] = []
    if age >= 24 and rng.random() < 0.55:
        for _ in range(rng.randrange(1, 4)):
            born = _random_date(
                rng, geboren + timedelta(days=365 * 22), min(REFERENCE_DATE, geboren + timedelta(days=365 * 42))
            )
            child_female = rng.random() < 0.5
            kinderen.append(
                Verwant(
                    _random_bsn(rng, taken),
                    Naam(_name(rng, child_female), voorvoegsel, achternaam),
                    born,
                    "V" if child_female else "M",
                )
            )
    kinderen.sort(key=lambda k: k.geboren)
    minors = [k for k in kinderen if _age(k.geboren) < 18]
    overleden = None
    if age >= 70 and rng.random() < 0.15:
        overleden = (_random_date(rng, date(2024, 1, 1), REFERENCE_DATE), woonplaats)
    gezag = [] if overleden else [gezag_ouderlijk(k, [me, *(_me(p) for p in partners[:1])]) for k in minors]

    records: dict[str, dict[str, Any]] = {
        "brp": BrpPerson(
            bsn,
            naam,
            me.geslacht,
            geboren,
            woonplaats,
            adres,
            partners=partners,
            kinderen=kinderen,
            overleden=overleden,
            gezag=gezag,
            adres_in_onderzoek=date(2026, 3, 1) if rng.random() < 0.05 else None,
        ).record()
    }
    if overleden is not None:
        return Citizen(bsn=bsn, name=naam.volledig, persona=None, records=records)

    working_age = 18 <= age < aow_date(geboren).year - geboren.year
    bruto: int | None = None
    if working_age:
        employed = rng.random() < 0.75
        begin = _random_date(rng, geboren + timedelta(days=365 * 18), REFERENCE_DATE - timedelta(days=30))
        einde = None if employed else _random_date(rng, begin + timedelta(days=30), REFERENCE_DATE)
        bruto = rng.randrange(180000, 650000) if employed else None
        ww = None
        if einde is not None and rng.random() < 0.6:
            years = max(0, (einde - begin).days // 365)
            wb, we = ww_period(einde, years)
            ww = (wb, we, rng.randrange(120000, 300000))
        ao = None
        beperkingen: list[str] = []
        belastbaarheid = None
        if rng.random() < 0.12:
            ao_begin = _random_date(rng, max(begin, date(2020, 1, 1)), REFERENCE_DATE)
            # Ziektewet lasts at most 104 weeks; then WIA (WGA or IVA) or recovery.
            zw_end = ao_begin + timedelta(weeks=104)
            if zw_end > REFERENCE_DATE:
                ao = ("ZW", ao_begin, None if rng.random() < 0.7 else _random_date(rng, ao_begin, REFERENCE_DATE))
            else:
                ao = (rng.choice(["WGA", "IVA"]), zw_end + timedelta(days=1), None)
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
        yearly = bruto * 12 if bruto else rng.randrange(0, 2500000)
        schuld = rng.choice([0, 0, 0, rng.randrange(10000, 900000)])
        records["belastingdienst"] = _belastingdienst(
            belastbaar=yearly, schuld=schuld, regeling=schuld > 0 and rng.random() < 0.5
        )
        if yearly < 4000000:
            terug = rng.choice([0, 0, rng.randrange(5000, 400000)])
            records["toeslagen"] = _toeslagen(
                huur=rng.choice([0, rng.randrange(5000, 40000)]),
                zorg=rng.choice([9900, 13100]),
                kinderopvang=rng.randrange(10000, 90000) if minors and rng.random() < 0.4 else 0,
                kgb=rng.randrange(2000, 45000) if minors else 0,
                terugvordering=terug,
                regeling=terug > 0 and rng.random() < 0.6,
                beschikking=_random_date(rng, date(2025, 6, 1), REFERENCE_DATE) if terug else None,
            )
    if 17 <= age <= 45 and rng.random() < 0.7:
        studying = age <= 27 and rng.random() < 0.6
        schuld = rng.randrange(0, 4500000)
        sf_end = None if studying else _random_date(rng, geboren + timedelta(days=365 * 21), REFERENCE_DATE)
        records["duo"] = _duo(
            sf=(rng.randrange(30000, 130000), rng.choice(_OPLEIDINGEN), sf_end),
            schuld=schuld,
            maandbedrag=schuld // 420,
        )
    # Anw: a surviving partner below pension age (here: single parents, now and then).
    anw = None
    if 30 <= age < 67 and minors and not partners and rng.random() < 0.5:
        anw = (rng.randrange(120000, 150000), _random_date(rng, minors[-1].geboren, REFERENCE_DATE))
    aow_start = aow_date(geboren)
    if aow_start <= REFERENCE_DATE or minors:
        aow = (rng.randrange(90000, 160000), aow_start) if aow_start <= REFERENCE_DATE else None
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
                (v, _random_date(rng, date(2019, 1, 1), REFERENCE_DATE)) for v in rng.sample(_WMO, rng.randrange(1, 3))
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
        signalen = []
        for soort in rng.sample(_SIGNALEN, rng.randrange(1, 3)):
            lo, hi = _MAANDBEDRAG[soort]
            maanden = rng.randrange(1, 7)
            datum = _random_date(rng, date(2026, 1, 1), REFERENCE_DATE)
            stap = datum + timedelta(days=rng.randrange(30, 120)) if maanden >= 3 else None
            signalen.append(
                Signaal(soort, rng.choice(_SCHULDEISERS[soort]), rng.randrange(lo, hi), maanden, datum, stap)
            )
        status, fase = rng.choice(
            [(None, None), ("aangemeld", "intake"), ("lopend", "stabilisatie"), ("lopend", "schuldregeling")]
        )
        records["schuldhulp"] = _schuldhulp(signalen=signalen, status=status, fase=fase)
        if rng.random() < 0.3:
            records.setdefault("cak", _cak())["wanbetaling"] = _cak(maanden_achterstand=rng.randrange(1, 12))[
                "wanbetaling"
            ]
    if age >= 18 and rng.random() < 0.15:
        boetes = []
        for _ in range(rng.randrange(1, 4)):
            soort, lo, hi = rng.choice(_BOETES)
            boetes.append(
                Boete(
                    soort,
                    _random_date(rng, date(2025, 9, 1), REFERENCE_DATE),
                    rng.randrange(lo, hi + 1),
                    regeling=rng.random() < 0.3,
                )
            )
        records["cjib"] = _cjib(boetes=boetes)
    if age >= 18 and rng.random() < 0.05:
        soort = rng.choice(["beschermingsbewind", "beschermingsbewind", "mentorschap", "curatele"])
        ingang = _random_date(rng, geboren + timedelta(days=365 * 18), REFERENCE_DATE)
        records["curateleregister"] = _ccbr(
            maatregelen=[
                Maatregel(
                    soort,
                    ingang,
                    "Bewindvoering Zorgvuldig B.V. (synthetisch)",
                    True,
                    "90000025",
                    "Rechtbank Midden-Nederland",
                    f"C/16/{rng.randrange(100000, 999999)}",
                )
            ]
        )
        if soort == "curatele":
            records["brp"]["indicatieCurateleRegister"] = True
    return Citizen(bsn=bsn, name=naam.volledig, persona=None, records=records)


#: 9999xxxxx holds about 9,000 valid BSNs, shared by citizens and the relatives they name.
MAX_GENERATED = 2000


def generate_citizens(seed: int = 1, n: int = 50) -> list[Citizen]:
    """The fixed personas followed by ``n`` generated citizens; the same seed, the same list."""
    if not 0 <= n <= MAX_GENERATED:
        raise ValueError(f"n must be between 0 and {MAX_GENERATED}")
    people = _personas()
    rng = random.Random(seed)
    taken = {c.bsn for c in people} | {b for c in people for b in referenced_bsns(c.records["brp"])}
    for _ in range(n):
        people.append(_generated(rng, _random_bsn(rng, taken), taken))
    return people


PERSONA_BSNS: dict[str, str] = {
    "eva": BSN_EVA,
    "partner_kinderen": BSN_PARTNER_KINDEREN,
    "overleden": BSN_OVERLEDEN,
    "geheimhouding": BSN_GEHEIMHOUDING,
    "minderjarige": BSN_MINDERJARIGE,
    "ouder_minderjarige": BSN_OUDER_MINDERJARIGE,
    "ex_partners": BSN_EX_PARTNERS,
    "veel_kinderen": BSN_VEEL_KINDEREN,
    "niet_nederlands": BSN_NIET_NEDERLANDS,
    "schulden": BSN_SCHULDEN,
    "bijna_18": BSN_BIJNA_18,
    "onder_bewind": BSN_ONDER_BEWIND,
    "onder_curatele": BSN_ONDER_CURATELE,
}
