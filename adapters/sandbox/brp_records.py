"""BRP records in the data model of Haal Centraal BRP Bevragen 2.x, for the synthetic citizens.

Shapes follow the vendored OpenAPI (tests/adapters/spec/brp/openapi.json, API 2.7.0): dates are
``{type: "Datum", datum, langFormaat}``, coded values ``{code, omschrijving}``, partners and
children carry a ``naam`` group and their own BSN, the address is a ``verblijfplaats`` of type
``Adres`` with a ``verblijfadres``, and ``gezag`` names minor and adults by BSN with the gezag
types of the spec (``EenhoofdigOuderlijkGezag``, ``GezamenlijkOuderlijkGezag``, ``GezamenlijkGezag``,
``Voogdij``, ``TijdelijkGeenGezag``, ``GezagNietTeBepalen``). ``inOnderzoek`` is per group, as in
the spec. The sandbox BRP (adapters/sandbox/brp.py) adds ``leeftijd`` on the day it is asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MAANDEN = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)

#: Gemeentecodes (CBS / landelijke tabel 33) of the places the sandbox uses.
GEMEENTEN = {
    "Utrecht": "0344",
    "Amsterdam": "0363",
    "Rotterdam": "0599",
    "Zwolle": "0193",
    "Groningen": "0014",
    "Eindhoven": "0772",
    "Leeuwarden": "0080",
    "Nijmegen": "0268",
    "Delft": "0503",
}
GESLACHT = {"V": "vrouw", "M": "man", "O": "onbekend"}


def datum(d: date) -> dict[str, Any]:
    """A VolledigeDatum."""
    return {"type": "Datum", "datum": d.isoformat(), "langFormaat": f"{d.day} {MAANDEN[d.month - 1]} {d.year}"}


def waarde(code: str, omschrijving: str) -> dict[str, str]:
    return {"code": code, "omschrijving": omschrijving}


def geslacht(code: str) -> dict[str, str]:
    return waarde(code, GESLACHT[code])


def gemeente(plaats: str) -> dict[str, str]:
    return waarde(GEMEENTEN[plaats], plaats)


def voorletters(voornamen: str) -> str:
    return "".join(f"{n[0]}." for n in voornamen.split())


def volledige_naam(voornamen: str, voorvoegsel: str | None, geslachtsnaam: str) -> str:
    return " ".join(p for p in (voornamen, voorvoegsel, geslachtsnaam) if p)


@dataclass(frozen=True)
class Naam:
    voornamen: str
    voorvoegsel: str | None
    geslachtsnaam: str

    @property
    def volledig(self) -> str:
        return volledige_naam(self.voornamen, self.voorvoegsel, self.geslachtsnaam)

    def gerelateerde(self) -> dict[str, Any]:
        """NaamGerelateerde: the name group of a partner, child or parent."""
        return {
            "voornamen": self.voornamen,
            "voorvoegsel": self.voorvoegsel,
            "geslachtsnaam": self.geslachtsnaam,
            "voorletters": voorletters(self.voornamen),
        }

    def persoon(self) -> dict[str, Any]:
        """NaamPersoon: the name group of the person asked about."""
        return {**self.gerelateerde(), "volledigeNaam": self.volledig}


@dataclass(frozen=True)
class Verwant:
    """A partner, child or parent as the BRP names them on someone's record."""

    bsn: str
    naam: Naam
    geboren: date
    geslacht: str = "O"
    # partners only: marriage date and, for a marriage ended (by death or divorce), its end
    sinds: date | None = None
    ontbonden: date | None = None


def gezag_ouderlijk(minor: Verwant, ouders: Iterable[Verwant]) -> dict[str, Any]:
    """Parental authority by one parent (EenhoofdigOuderlijkGezag) or both (GezamenlijkOuderlijkGezag)."""
    ouders = list(ouders)
    base: dict[str, Any] = {
        "minderjarige": {"burgerservicenummer": minor.bsn, "naam": {"volledigeNaam": minor.naam.volledig}}
    }
    people = [{"burgerservicenummer": o.bsn, "naam": {"volledigeNaam": o.naam.volledig}} for o in ouders]
    if len(people) == 1:
        return {"type": "EenhoofdigOuderlijkGezag", **base, "ouder": people[0]}
    if len(people) == 2:
        return {"type": "GezamenlijkOuderlijkGezag", **base, "ouders": people}
    raise ValueError("parental authority has one or two parents")


def _ref(v: Verwant) -> dict[str, Any]:
    return {"burgerservicenummer": v.bsn, "naam": {"volledigeNaam": v.naam.volledig}}


def gezag_gezamenlijk(minor: Verwant, ouder: Verwant, derde: Verwant) -> dict[str, Any]:
    """GezamenlijkGezag: a parent together with someone who is not a parent (e.g. a partner)."""
    return {
        "type": "GezamenlijkGezag",
        "minderjarige": _ref(minor),
        "ouder": _ref(ouder),
        "derde": {"type": "BekendeDerde", **_ref(derde)},
    }


def gezag_voogdij(minor: Verwant, voogden: Iterable[Verwant]) -> dict[str, Any]:
    """Voogdij: one or two guardians who are not the parents."""
    return {
        "type": "Voogdij",
        "minderjarige": _ref(minor),
        "derden": [{"type": "BekendeDerde", **_ref(v)} for v in voogden],
    }


@dataclass(frozen=True)
class Adres:
    straat: str
    huisnummer: int
    postcode: str
    woonplaats: str
    huisletter: str | None = None
    huisnummertoevoeging: str | None = None
    sinds: date | None = None


@dataclass
class BrpPerson:
    bsn: str
    naam: Naam
    geslacht: str
    geboren: date
    geboorteplaats: str
    adres: Adres | None
    buitenland: str | None = None  # emigrated: the country, instead of an address
    partners: list[Verwant] = field(default_factory=list)
    kinderen: list[Verwant] = field(default_factory=list)
    ouders: list[Verwant] = field(default_factory=list)
    overleden: tuple[date, str] | None = None
    gezag: list[dict[str, Any]] = field(default_factory=list)
    geheimhouding: bool = False
    adres_in_onderzoek: date | None = None  # since when the address is under investigation
    curatele: bool = False
    nationaliteit: tuple[str, str] = ("0001", "Nederlandse")

    def record(self) -> dict[str, Any]:
        verblijf: dict[str, Any] | None
        adressering: dict[str, Any] | None = None
        title = {"V": "mevrouw", "M": "de heer"}.get(self.geslacht)
        achternaam = volledige_naam("", self.naam.voorvoegsel, self.naam.geslachtsnaam).strip()
        if self.adres is not None:
            a = self.adres
            nummer = f"{a.huisnummer}{a.huisletter or ''}" + (
                f" {a.huisnummertoevoeging}" if a.huisnummertoevoeging else ""
            )
            verblijf = {
                "type": "Adres",
                "verblijfadres": {
                    "officieleStraatnaam": a.straat,
                    "korteStraatnaam": a.straat[:24],
                    "huisnummer": a.huisnummer,
                    "huisletter": a.huisletter,
                    "huisnummertoevoeging": a.huisnummertoevoeging,
                    "postcode": a.postcode,
                    "woonplaats": a.woonplaats,
                },
                "datumVan": datum(a.sinds) if a.sinds else None,
                "functieAdres": waarde("W", "woonadres"),
            }
            if self.adres_in_onderzoek:
                verblijf["inOnderzoek"] = {
                    "type": True,
                    "datumIngangOnderzoek": datum(self.adres_in_onderzoek),
                }
                verblijf["verblijfadres"]["inOnderzoek"] = {
                    "officieleStraatnaam": True,
                    "huisnummer": True,
                    "postcode": True,
                    "woonplaats": True,
                    "datumIngangOnderzoek": datum(self.adres_in_onderzoek),
                }
            pc = a.postcode
            adressering = {
                "adresregel1": f"{a.straat[:24]} {nummer}",
                "adresregel2": f"{pc[:4]} {pc[4:]}  {a.woonplaats.upper()}",
                "aanhef": f"Geachte {title} {achternaam[0].upper() + achternaam[1:]}" if title else None,
                "aanschrijfwijze": {"naam": f"{voorletters(self.naam.voornamen)} {achternaam}"},
                "gebruikInLopendeTekst": f"{title} {achternaam[0].upper() + achternaam[1:]}" if title else None,
            }
        elif self.buitenland:
            verblijf = {"type": "VerblijfplaatsBuitenland", "verblijfadres": {"land": waarde("6037", self.buitenland)}}
        else:
            verblijf = None
        woonplaats = self.adres.woonplaats if self.adres else None
        record: dict[str, Any] = {
            "burgerservicenummer": self.bsn,
            "geslacht": geslacht(self.geslacht),
            "naam": self.naam.persoon(),
            "geboorte": {
                "datum": datum(self.geboren),
                "plaats": gemeente(self.geboorteplaats)
                if self.geboorteplaats in GEMEENTEN
                else waarde("1999", self.geboorteplaats),
                "land": waarde("6030", "Nederland"),
            },
            "nationaliteiten": [
                {
                    "type": "Nationaliteit",
                    "nationaliteit": waarde(*self.nationaliteit),
                    "redenOpname": waarde("001", "Bij geboorte"),
                }
            ],
            "verblijfplaats": verblijf,
            "adressering": adressering,
            "gemeenteVanInschrijving": gemeente(woonplaats) if woonplaats in GEMEENTEN else None,
            "partners": [_partner(p) for p in self.partners],
            "kinderen": [
                {"burgerservicenummer": k.bsn, "naam": k.naam.gerelateerde(), "geboorte": {"datum": datum(k.geboren)}}
                for k in self.kinderen
            ],
            "ouders": [
                {
                    "burgerservicenummer": o.bsn,
                    "naam": o.naam.gerelateerde(),
                    "geslacht": geslacht(o.geslacht),
                    "geboorte": {"datum": datum(o.geboren)},
                    "ouderAanduiding": str(i + 1),
                }
                for i, o in enumerate(self.ouders)
            ],
            "gezag": list(self.gezag),
            "overlijden": {"datum": datum(self.overleden[0]), "plaats": gemeente(self.overleden[1])}
            if self.overleden
            else None,
            "geheimhoudingPersoonsgegevens": True if self.geheimhouding else None,
            "indicatieCurateleRegister": True if self.curatele else None,
        }
        if self.overleden:
            # The BRP stops keeping a deceased person's record up to date (opschorting, reden O).
            record["opschortingBijhouding"] = {
                "reden": waarde("O", "overlijden"),
                "datum": datum(self.overleden[0]),
            }
        return record


def _partner(p: Verwant) -> dict[str, Any]:
    out: dict[str, Any] = {
        "burgerservicenummer": p.bsn,
        "geslacht": geslacht(p.geslacht),
        "soortVerbintenis": waarde("H", "huwelijk"),
        "naam": p.naam.gerelateerde(),
        "geboorte": {"datum": datum(p.geboren)},
    }
    if p.sinds:
        out["aangaanHuwelijkPartnerschap"] = {"datum": datum(p.sinds)}
    if p.ontbonden:
        out["ontbindingHuwelijkPartnerschap"] = {"datum": datum(p.ontbonden)}
    return out


def referenced_bsns(record: dict[str, Any]) -> set[str]:
    """Every BSN a BRP record names (its own, partners, children, parents, gezag)."""
    out = {record.get("burgerservicenummer")}
    for group in ("partners", "kinderen", "ouders"):
        out |= {p.get("burgerservicenummer") for p in record.get(group) or ()}
    for g in record.get("gezag") or ():
        out.add(g["minderjarige"]["burgerservicenummer"])
        for key in ("ouder", "derde"):
            if key in g:
                out.add(g[key].get("burgerservicenummer"))
        for key in ("ouders", "derden"):
            out |= {o.get("burgerservicenummer") for o in g.get(key, ())}
    return {b for b in out if b}
