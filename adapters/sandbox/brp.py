"""The sandbox BRP: Haal Centraal BRP Bevragen 2.x (``POST /personen``) over synthetic people.

What it does as the published specification (API 2.7.0, vendored under tests/adapters/spec/brp)
and its feature files describe, for ``type: RaadpleegMetBurgerservicenummer``:

* ``fields`` is required: 1 to 130 paths matching ``^[a-zA-Z0-9\\._]{1,200}$``, each naming a
  field of ``Persoon`` (``brp_fields.json`` holds them all, generated from the spec; a test keeps
  it equal). A group returns its sub-fields. A date (``{type, datum, langFormaat}``), a
  waardetabel (``{code, omschrijving}``) and ``gezag`` come whole when any part is asked.
* Automatically delivered fields (``geheimhoudingPersoonsgegevens``, ``inOnderzoek`` anywhere,
  ``opschortingBijhouding``, ``rni``, ``verificatie``, ``indicatieVastgesteldVerblijftNietOpAdres``)
  may not be asked: 400. They come along when they apply: ``geheimhoudingPersoonsgegevens`` only
  when true, a group's ``inOnderzoek`` with any field asked from that group, and the ``type`` of a
  polymorphic group (``verblijfplaats``) with any of its fields.
* Errors are problem+json as in the feature files: 400 ``paramsValidation`` with
  ``invalidParams`` (codes ``required``, ``array``, ``minItems``, ``maxItems``, ``pattern``,
  ``fields``, ``value``), 401 ``authentication`` for an unknown API key, 403
  ``unauthorizedField`` for a field the client (afnemer) is not authorised for, 406/415.
* ``leeftijd`` is computed on the day of the request; gezag over a person is delivered only
  while that person is a minor (the spec leaves it out from the 18th birthday).
* Every answered request is protocolled: which afnemer asked which fields, when, about whom
  (a keyed pseudonym, never the BSN), and how many persons were delivered.

The client is identified by the ``X-API-KEY`` header, as in the Haal Centraal proefomgeving. A
request *without* a key is the sandbox's default afnemer (the Loket gateway): a sandbox
convenience — the real API answers 401 — so that a gateway without configured credentials can
still talk to it. The BSN is never logged or echoed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from adapters.catalog import Catalog, load_catalog
from adapters.fields import project
from adapters.sandbox.citizens import REFERENCE_DATE, Citizen, _passes_elfproef

logger = logging.getLogger("loket.sandbox")

QUERY_TYPE = "RaadpleegMetBurgerservicenummer"
MAX_REQUEST_BYTES = 64 * 1024
MAX_BSNS_PER_REQUEST = 20  # RaadpleegMetBurgerservicenummer.burgerservicenummer.maxItems
MAX_FIELDS_PER_REQUEST = 130  # PersonenQuery.fields.maxItems
FIELD_PATTERN = re.compile(r"^[a-zA-Z0-9\._]{1,200}$")  # the spec's Field pattern
BSN_PATTERN = re.compile(r"^[0-9]{9}$")
JSON_MEDIA = "application/json; charset=utf-8"
PROBLEM_MEDIA = "application/problem+json"
API_KEY_HEADER = "X-API-KEY"

# RFC 7231 section links, as the feature files use them for problem ``type``.
_RFC7231 = "https://datatracker.ietf.org/doc/html/rfc7231#section-"
_PARAMS_TITLE = "Een of meerdere parameters zijn niet correct."
#: Fields the BRP delivers by itself; asking for them is a 400 (fields-fout-cases.feature).
_AUTOMATIC_TOP = ("geheimhoudingPersoonsgegevens", "opschortingBijhouding", "rni", "verificatie")
_AUTOMATIC_ANYWHERE = ("inOnderzoek", "indicatieVastgesteldVerblijftNietOpAdres")
#: Top-level fields that the person-level ``inOnderzoek`` (PersoonInOnderzoek) is about.
_PERSON_LEVEL = frozenset(
    {
        "burgerservicenummer",
        "geslacht",
        "leeftijd",
        "gemeenteVanInschrijving",
        "datumInschrijvingInGemeente",
        "indicatieCurateleRegister",
    }
)
_DATE_KEYS = frozenset({"type", "datum", "jaar", "maand", "onbekend", "langFormaat"})
_TABLE_KEYS = frozenset({"code", "omschrijving", "soort"})


@cache
def spec_fields() -> frozenset[str]:
    """Every field path of the spec's ``Persoon`` (generated from the vendored OpenAPI)."""
    text = resources.files("adapters.sandbox").joinpath("brp_fields.json").read_text("utf-8")
    return frozenset(json.loads(text))


def is_automatic(path: str) -> bool:
    parts = path.split(".")
    return parts[0] in _AUTOMATIC_TOP or any(p in _AUTOMATIC_ANYWHERE for p in parts)


@dataclass(frozen=True)
class Afnemer:
    """A client of the BRP with its authorisation: the field paths it may ask (and below)."""

    id: str
    naam: str
    fields: frozenset[str]

    def may_ask(self, path: str) -> bool:
        return any(path == a or path.startswith(a + ".") for a in self.fields)


def loket_afnemer(catalog: Catalog | None = None) -> Afnemer:
    """The Loket gateway's authorisation: the catalog's BRP fields plus the person's own
    identifying fields (the autorisatiebesluit a municipality's 1 Loket would hold)."""
    catalog = catalog or load_catalog()
    own = {"burgerservicenummer", "geslacht", "leeftijd", "adressering", "naam", "gezag"}
    return Afnemer("000001", "Loket (gemeente)", frozenset(catalog.fields_of("brp")) | own)


#: A second client for tests and demos: may ask a name and a birth date, nothing else.
BEPERKTE_AFNEMER = Afnemer("000002", "Beperkte afnemer", frozenset({"naam", "geboorte.datum"}))
BEPERKTE_AFNEMER_KEY = "sandbox-beperkt"


@dataclass(frozen=True)
class ProtocolRecord:
    """One delivery, as the BRP protocols it: to whom, when, which fields, about whom."""

    afnemer: str
    at: datetime
    fields: tuple[str, ...]
    persons: tuple[str, ...]  # keyed pseudonyms of the BSNs asked about, never the BSNs
    delivered: int


@dataclass
class Protocollering:
    """The sandbox BRP's protocol of deliveries, bounded and thread-safe."""

    max_records: int = 10_000
    _records: deque[ProtocolRecord] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _key: bytes = field(init=False, default_factory=lambda: secrets.token_bytes(32), repr=False)

    def __post_init__(self) -> None:
        self._records = deque(maxlen=self.max_records)

    def pseudonym(self, bsn: str) -> str:
        return hmac.new(self._key, bsn.encode("ascii"), hashlib.sha256).hexdigest()[:32]

    def add(self, record: ProtocolRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[ProtocolRecord]:
        with self._lock:
            return list(self._records)

    def about(self, bsn: str) -> list[ProtocolRecord]:
        """The deliveries concerning one person (what a citizen could ask the BRP for)."""
        p = self.pseudonym(bsn)
        return [r for r in self.records() if p in r.persons]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


#: Called with (status, body) for every answer the sandbox BRP gives, in any instance. The
#: tests register a validator against the vendored OpenAPI here (tests/adapters/conftest.py).
#: An injected fault (malformed or oversized body) is reported with body ``None``.
response_observers: list[Callable[[int, Any], None]] = []


def _observe(status: int, body: Any) -> None:
    for observer in list(response_observers):
        observer(status, body)


def _problem(status: int, section: str, title: str, code: str, instance: str, **extra: Any) -> JSONResponse:
    body = {"type": _RFC7231 + section, "title": title, "status": status, **extra}
    body.setdefault("instance", instance)
    body["code"] = code
    _observe(status, body)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA)


def _params_problem(instance: str, invalid: list[dict[str, str]]) -> JSONResponse:
    names = ", ".join(dict.fromkeys(p["name"] for p in invalid))
    return _problem(
        400,
        "6.5.1",
        _PARAMS_TITLE,
        "paramsValidation",
        instance,
        detail=f"De foutieve parameter(s) zijn: {names}.",
        invalidParams=invalid,
    )


def _param(name: str, code: str, reason: str) -> dict[str, str]:
    return {"name": name, "code": code, "reason": reason}


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _is_value_object(value: Any) -> bool:
    """A date or a waardetabel: the BRP delivers these whole."""
    if not isinstance(value, Mapping) or not value:
        return False
    keys = set(value)
    return (keys <= _DATE_KEYS and "langFormaat" in keys) or (keys <= _TABLE_KEYS and "code" in keys)


def _first_value_object(record: Mapping[str, Any], parts: list[str]) -> int | None:
    """The length of the shortest prefix of ``parts`` that names a value object, if any."""
    nodes: list[Any] = [record]
    for i, part in enumerate(parts):
        nxt: list[Any] = []
        for node in nodes:
            items = node if isinstance(node, list) else [node]
            nxt.extend(n[part] for n in items if isinstance(n, Mapping) and part in n)
        if not nxt:
            return None
        flat = [v for n in nxt for v in (n if isinstance(n, list) else [n])]
        if any(_is_value_object(v) for v in flat):
            return i + 1
        nodes = nxt
    return None


def _expand(record: Mapping[str, Any], requested: Iterable[str]) -> list[str]:
    """The paths the BRP actually delivers for ``requested`` (fields semantics of the spec)."""
    out: dict[str, None] = {}
    for path in requested:
        parts = path.split(".")
        if parts[0] == "gezag":
            parts = ["gezag"]
        else:
            cut = _first_value_object(record, parts)
            if cut is not None:
                parts = parts[:cut]
        out[".".join(parts)] = None
        if len(parts) == 1 and parts[0] in _PERSON_LEVEL:
            out["inOnderzoek"] = None
        for i in range(1, len(parts)):
            group = ".".join(parts[:i])
            out[f"{group}.inOnderzoek"] = None
            out[f"{group}.indicatieVastgesteldVerblijftNietOpAdres"] = None
            if parts[0] in ("verblijfplaats", "nationaliteiten") and i == 1:
                out[f"{group}.type"] = None
    return list(out)


def _deliver(
    record: Mapping[str, Any], requested: tuple[str, ...], today: date, minors: Mapping[str, date]
) -> dict[str, Any]:
    person = dict(record)
    born = person.get("geboorte", {}).get("datum", {}).get("datum")
    if born and "overlijden" not in person:
        person["leeftijd"] = _age(date.fromisoformat(born), today)
    # Gezag is about minors: a relation ends on the minor's 18th birthday.
    person["gezag"] = [
        g
        for g in person.get("gezag", ())
        if (b := minors.get(g["minderjarige"]["burgerservicenummer"])) is None or _age(b, today) < 18
    ]
    if not person["gezag"]:
        del person["gezag"]
    delivered = project(person, _expand(person, requested))
    if record.get("geheimhoudingPersoonsgegevens"):
        delivered["geheimhoudingPersoonsgegevens"] = True
    for auto in ("opschortingBijhouding", "rni", "verificatie"):
        if auto in record:
            delivered[auto] = record[auto]
    return delivered


def _minor_birthdates(records: Iterable[Mapping[str, Any]]) -> dict[str, date]:
    """BSN -> birth date, for everyone the records name with both (persons and their kinderen)."""
    out: dict[str, date] = {}
    for r in records:
        for p in (r, *r.get("kinderen", ())):
            bsn = p.get("burgerservicenummer")
            born = p.get("geboorte", {}).get("datum", {}).get("datum")
            if bsn and born:
                out[bsn] = date.fromisoformat(born)
    return out


def _check_query(doc: Any, instance: str) -> tuple[list[str], tuple[str, ...], str | None] | JSONResponse:
    if not isinstance(doc, dict) or "type" not in doc:
        return _params_problem(instance, [_param("type", "required", "Parameter is verplicht.")])
    if doc["type"] != QUERY_TYPE:
        # The other search types of the spec are not offered by the sandbox.
        return _params_problem(instance, [_param("type", "value", "Waarde is geen geldig zoek type.")])
    invalid: list[dict[str, str]] = []
    bsns = doc.get("burgerservicenummer")
    if bsns is None:
        invalid.append(_param("burgerservicenummer", "required", "Parameter is verplicht."))
    elif not isinstance(bsns, list):
        invalid.append(_param("burgerservicenummer", "array", "Parameter is geen array."))
    elif not bsns:
        invalid.append(_param("burgerservicenummer", "minItems", "Array bevat minder dan 1 items."))
    elif len(bsns) > MAX_BSNS_PER_REQUEST:
        invalid.append(_param("burgerservicenummer", "maxItems", "Array bevat meer dan 20 items."))
    else:
        for i, b in enumerate(bsns):
            if not isinstance(b, str) or not BSN_PATTERN.match(b):
                reason = "Waarde voldoet niet aan patroon ^[0-9]{9}$."
                invalid.append(_param(f"burgerservicenummer[{i}]", "pattern", reason))
            elif not _passes_elfproef(b):
                # Stricter than the spec (which checks the pattern only): keeps garbage out.
                reason = "Waarde is geen geldig burgerservicenummer."
                invalid.append(_param(f"burgerservicenummer[{i}]", "value", reason))
    requested = doc.get("fields")
    if requested is None:
        invalid.append(_param("fields", "required", "Parameter is verplicht."))
    elif not isinstance(requested, list):
        invalid.append(_param("fields", "array", "Parameter is geen array."))
    elif not requested:
        invalid.append(_param("fields", "minItems", "Array bevat minder dan 1 items."))
    elif len(requested) > MAX_FIELDS_PER_REQUEST:
        invalid.append(_param("fields", "maxItems", "Array bevat meer dan 130 items."))
    else:
        known = spec_fields()
        for i, f in enumerate(requested):
            if not isinstance(f, str) or not FIELD_PATTERN.match(f):
                reason = "Waarde voldoet niet aan patroon ^[a-zA-Z0-9\\._]{1,200}$."
                invalid.append(_param(f"fields[{i}]", "pattern", reason))
            elif f not in known:
                reason = "Parameter bevat een niet bestaande veldnaam."
                invalid.append(_param(f"fields[{i}]", "fields", reason))
            elif is_automatic(f):
                reason = "Parameter bevat een niet toegestane veldnaam."
                invalid.append(_param(f"fields[{i}]", "fields", reason))
    gemeente = doc.get("gemeenteVanInschrijving")
    if gemeente is not None and not (isinstance(gemeente, str) and re.fullmatch(r"[0-9]{4}", gemeente)):
        reason = "Waarde voldoet niet aan patroon ^[0-9]{4}$."
        invalid.append(_param("gemeenteVanInschrijving", "pattern", reason))
    if invalid:
        return _params_problem(instance, invalid)
    assert isinstance(bsns, list) and isinstance(requested, list)  # checked above
    return bsns, tuple(dict.fromkeys(requested)), gemeente if isinstance(gemeente, str) else None


def create_brp_app(
    citizens: Iterable[Citizen],
    *,
    faults: Any = None,
    observations: Any = None,
    protocollering: Protocollering | None = None,
    afnemers: Mapping[str, Afnemer] | None = None,
    default_afnemer: Afnemer | None = None,
    today: Callable[[], date] = lambda: REFERENCE_DATE,
    catalog: Catalog | None = None,
) -> FastAPI:
    """The sandbox BRP. ``afnemers`` maps an API key to its client; ``default_afnemer`` serves
    requests without a key (``None``: such requests are a 401, as at the real API)."""
    from adapters.sandbox.app import ObservedRequest, SandboxFaults, _oversized

    catalog = catalog or load_catalog()
    faults = faults if faults is not None else SandboxFaults()
    protocollering = protocollering if protocollering is not None else Protocollering()
    afnemers = dict(afnemers) if afnemers is not None else {BEPERKTE_AFNEMER_KEY: BEPERKTE_AFNEMER}
    records: dict[str, dict[str, Any]] = {
        c.bsn: _without_nulls(c.records["brp"]) for c in citizens if "brp" in c.records
    }
    minors = _minor_birthdates(records.values())

    app = FastAPI(title="Loket sandbox BRP (Haal Centraal BRP Bevragen 2.x)", docs_url=None, redoc_url=None)
    app.state.kind = "brp"
    app.state.faults = faults
    app.state.protocollering = protocollering

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "kind": "brp", "agencies": ["brp"]}

    async def personen(request: Request) -> Response:
        instance = request.url.path
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
            return _problem(413, "6.5.11", "Verzoek te groot.", "tooLarge", instance)
        key = request.headers.get(API_KEY_HEADER)
        afnemer = afnemers.get(key) if key is not None else default_afnemer
        if afnemer is None:
            return _problem(401, "6.5.1", "Niet correct geauthenticeerd.", "authentication", instance)
        accept = request.headers.get("accept", "*/*").lower()
        if not any(a in accept for a in ("application/json", "*/*", "application/*")):
            return _problem(406, "6.5.6", "Gevraagde content type wordt niet ondersteund.", "notAcceptable", instance)
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            return _problem(415, "6.5.13", "Media Type wordt niet ondersteund.", "unsupported", instance)
        body = await request.body()
        if len(body) > MAX_REQUEST_BYTES:
            return _problem(413, "6.5.11", "Verzoek te groot.", "tooLarge", instance)
        try:
            doc = json.loads(body)
        except ValueError:
            return _problem(400, "6.5.1", "Het verzoek is geen geldige JSON.", "badRequest", instance)
        checked = _check_query(doc, instance)
        if isinstance(checked, JSONResponse):
            return checked
        bsns, requested, gemeente = checked
        if observations is not None:
            observations.add(
                ObservedRequest(
                    agency="brp",
                    url=instance + (f"?{request.url.query}" if request.url.query else ""),
                    fields=requested,
                    bsn_count=len(bsns),
                    traceparent=request.headers.get("traceparent"),
                )
            )
        if not all(afnemer.may_ask(f) for f in requested):
            return _problem(
                403,
                "6.5.3",
                "U bent niet geautoriseerd voor één of meerdere opgegeven field waarden.",
                "unauthorizedField",
                instance,
            )

        if faults.delay_s > 0:
            await asyncio.sleep(faults.delay_s)
        if faults.status_code is not None:
            return _problem(faults.status_code, "6.6.1", "Storing.", "notAvailable", instance)
        if faults.malformed_body:
            _observe(200, None)
            return Response(b'{"personen": [{"naam": ', media_type=JSON_MEDIA)
        if faults.oversized_body:
            _observe(200, None)
            return StreamingResponse(_oversized(faults.oversized_bytes), media_type=JSON_MEDIA)

        day = today()
        personen: list[dict[str, Any]] = []
        for bsn in dict.fromkeys(bsns):
            record = records.get(bsn)
            if record is None:
                continue
            if gemeente and record.get("gemeenteVanInschrijving", {}).get("code") != gemeente:
                continue
            if faults.extra_fields:
                person = json.loads(json.dumps(record))  # everything, asked for or not
                person["interneNotitie"] = "alleen voor intern gebruik"
            else:
                person = _deliver(record, requested, day, minors)
            personen.append(person)
        protocollering.add(
            ProtocolRecord(
                afnemer=afnemer.id,
                at=datetime.now(UTC),
                fields=requested,
                persons=tuple(protocollering.pseudonym(b) for b in dict.fromkeys(bsns)),
                delivered=len(personen),
            )
        )
        logger.info("brp answered: %d field(s) asked, %d person(s) found", len(requested), len(personen))
        answer = {"type": QUERY_TYPE, "personen": personen}
        _observe(200, answer)
        return JSONResponse(answer, media_type=JSON_MEDIA)

    # The spec's path, and Loket's per-agency path (``{base}/brp/personen``) for older callers.
    app.add_api_route("/personen", personen, methods=["POST"])
    app.add_api_route("/brp/personen", personen, methods=["POST"])
    return app


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value
