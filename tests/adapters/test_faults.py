"""Agency faults: every failure becomes an unavailable answer with a stable code, never an
exception, never a delay beyond the timeout, and never a BSN in a log line or error."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from adapters.base import AgencyAnswer
from adapters.catalog import load_catalog
from adapters.gemeente import GemeenteAdapter
from adapters.registry import aclose_adapters, build_adapters, fetch_all
from adapters.sandbox.citizens import BSN_EVA
from adapters.sandbox.runner import SandboxHandle
from adapters.uwv import UwvAdapter
from tests.adapters.conftest import FetchMany, FetchOne, run

CATALOG = load_catalog()
FLAGS = set(CATALOG.always_included_flags)


# -- faults injected into the real sandbox agency --------------------------------------


def test_a_slow_agency_times_out(fetch: FetchOne, agency_sandbox: SandboxHandle) -> None:
    agency_sandbox.faults["uwv"].delay_s = 3.0
    answer = fetch("uwv", ["ww.status"], timeout_s=0.4)
    assert (answer.status, answer.error_code, answer.data) == ("unavailable", "timeout", {})
    assert answer.duration_ms < 1500


@pytest.mark.parametrize("status", [500, 502, 503, 403, 429])
def test_an_http_error_status_is_reported_as_http_code(
    fetch: FetchOne, agency_sandbox: SandboxHandle, status: int
) -> None:
    agency_sandbox.faults["duo"].status_code = status
    answer = fetch("duo", ["studieschuld"])
    assert (answer.status, answer.error_code, answer.data) == ("unavailable", f"http_{status}", {})


def test_a_malformed_body_is_reported_as_malformed(
    fetch: FetchOne, agency_sandbox: SandboxHandle
) -> None:
    agency_sandbox.faults["cak"].malformed_body = True
    answer = fetch("cak", ["eigenBijdrage"])
    assert (answer.status, answer.error_code, answer.data) == ("unavailable", "malformed", {})


def test_fields_not_asked_for_are_dropped_and_reported(
    fetch: FetchOne, agency_sandbox: SandboxHandle
) -> None:
    agency_sandbox.faults["uwv"].extra_fields = True  # the agency over-shares everything
    answer = fetch("uwv", ["ao.uitkeringsType"])
    assert answer.status == "ok"
    assert answer.data == {
        "ao": {"uitkeringsType": "ZW"},
        "geheimhoudingPersoonsgegevens": False,
        "inOnderzoek": False,
    }
    dropped = set(answer.extra_fields_dropped)
    assert {
        "interneNotitie",
        "medisch.beperkingen",
        "medisch.belastbaarheid",
        "ao.begindatum",
    } <= dropped
    assert "ao.uitkeringsType" not in dropped and not dropped & FLAGS
    assert list(answer.extra_fields_dropped) == sorted(dropped)


def test_an_oversized_body_is_cut_off_while_reading(
    fetch: FetchOne, agency_sandbox: SandboxHandle
) -> None:
    # The sandbox streams 64 MiB slowly without Content-Length (>5 s to send it all); only an
    # adapter that stops at the limit answers quickly, and well before its 10 s timeout.
    agency_sandbox.faults["cjib"].oversized_body = True
    started = time.perf_counter()
    answer = fetch("cjib", ["boetes"], timeout_s=10.0, max_response_bytes=64 * 1024)
    assert (answer.status, answer.error_code, answer.data) == ("unavailable", "too_large", {})
    assert time.perf_counter() - started < 3.0


def test_a_normal_answer_over_the_limit_is_too_large(fetch: FetchOne) -> None:
    answer = fetch("brp", ["naam"], max_response_bytes=20)
    assert (answer.status, answer.error_code) == ("unavailable", "too_large")


def test_an_agency_that_is_down_is_a_connection_error(fetch: FetchOne) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again on exit: nothing listens there
    answer = fetch("cjib", ["boetes"], urls={"cjib": f"http://127.0.0.1:{port}"})
    assert (answer.status, answer.error_code) == ("unavailable", "connection_error")


def test_a_slow_agency_does_not_hold_up_the_others(
    fetch_many: FetchMany, agency_sandbox: SandboxHandle
) -> None:
    agency_sandbox.faults["uwv"].delay_s = 5.0
    timeout_s = 1.0
    requests = [(agency, sorted(CATALOG.fields_of(agency))) for agency in CATALOG.agencies]
    started = time.perf_counter()
    answers = fetch_many(requests, timeout_s=timeout_s)
    elapsed = time.perf_counter() - started
    # A behaviour bound, not a benchmark: parallel, and no longer than the one timeout.
    assert elapsed < timeout_s + 1.5
    by_agency = {a.agency: a for a in answers}
    assert [a.agency for a in answers] == [agency for agency, _ in requests]
    assert by_agency["uwv"].error_code == "timeout"
    assert all(a.status == "ok" for name, a in by_agency.items() if name != "uwv")


def test_an_agency_without_a_url_is_not_configured(
    fetch_many: FetchMany, agency_sandbox: SandboxHandle
) -> None:
    urls = {k: v for k, v in agency_sandbox.agency_urls.items() if k != "cjib"}
    answers = fetch_many([("cjib", ["boetes"]), ("duo", ["studieschuld"])], urls=urls)
    assert (answers[0].status, answers[0].error_code) == ("unavailable", "not_configured")
    assert answers[1].status == "ok"
    assert agency_sandbox.observations["cjib"].requests() == []


@pytest.mark.parametrize(
    ("agency", "bsn", "fields"),
    [
        ("duo", "99999384", ["studieschuld"]),  # not nine digits
        ("duo", "9999 3847", ["studieschuld"]),
        ("duo", BSN_EVA, []),
        ("duo", BSN_EVA, "studieschuld"),  # a string, not a list of paths
        ("duo", BSN_EVA, ["studieschuld..bedrag"]),
        ("duo", BSN_EVA, ["x"] * 129),
    ],
)
def test_a_bad_request_is_refused_before_anything_is_sent(
    fetch: FetchOne, agency_sandbox: SandboxHandle, agency: str, bsn: str, fields: Any
) -> None:
    answer = fetch(agency, fields, bsn)
    assert (answer.status, answer.error_code) == ("unavailable", "invalid_request")
    assert agency_sandbox.observations["duo"].requests() == []


def test_an_agency_of_another_kind_is_refused(agency_sandbox: SandboxHandle) -> None:
    adapters = build_adapters(agency_sandbox.agency_urls, timeout_s=1, max_response_bytes=4096)
    answer = run(adapters["duo"].fetch("uwv", BSN_EVA, ["ww"]))
    assert answer.error_code == "invalid_request"


# -- shapes the sandbox does not produce, through an in-memory transport -------------------


def _answer_from(respond: Callable[[httpx.Request], httpx.Response], **limits: Any) -> AgencyAnswer:
    async def go() -> AgencyAnswer:
        async with httpx.AsyncClient(transport=httpx.MockTransport(respond)) as client:
            adapter = UwvAdapter(
                {"uwv": "http://uwv.test"},
                timeout_s=limits.get("timeout_s", 2.0),
                max_response_bytes=limits.get("max_response_bytes", 4096),
                client=client,
            )
            return await adapter.fetch("uwv", BSN_EVA, ["ww.status"])

    return run(go())


def _raw(
    body: bytes, content_type: str = "application/json", **headers: str
) -> Callable[[httpx.Request], httpx.Response]:
    # stream=, not content=: a network response is read by the adapter, not pre-read.
    return lambda request: httpx.Response(
        200, stream=httpx.ByteStream(body), headers={"content-type": content_type, **headers}
    )


def _json(doc: Any) -> Callable[[httpx.Request], httpx.Response]:
    return _raw(json.dumps(doc).encode())


@pytest.mark.parametrize(
    "respond",
    [
        _json({"personen": {}}),
        _json({"persons": []}),
        _json([{"ww": {}}]),
        _json({"personen": [{"ww": {}}, {"ww": {}}]}),  # asked for one citizen, got two
        _json({"personen": ["ww"]}),
        _raw(b'{"personen": []}', "text/html"),
        _raw(b"\xff\xfe{}"),
        _raw(b"[" * 3000 + b"]" * 3000),
        _raw(gzip.compress(b'{"personen": []}'), **{"content-encoding": "gzip"}),
    ],
    ids=[
        "personen-object",
        "no-personen",
        "top-level-list",
        "two-persons",
        "person-not-object",
        "not-json-type",
        "not-utf8",
        "nested-too-deep",
        "gzip",
    ],
)
def test_a_wrongly_shaped_answer_is_malformed(
    respond: Callable[[httpx.Request], httpx.Response],
) -> None:
    answer = _answer_from(respond, max_response_bytes=1 << 20)
    assert (answer.status, answer.error_code, answer.data) == ("unavailable", "malformed", {})


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            stream=httpx.ByteStream(b'{"personen": []}'),
            headers={"content-type": "application/json", "content-length": "999999999"},
        )

    assert _answer_from(respond).error_code == "too_large"


def test_a_redirect_is_not_followed() -> None:
    seen: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(307, headers={"location": "http://elsewhere.test/personen"})

    assert _answer_from(respond).error_code == "http_307"
    assert seen == ["http://uwv.test/uwv/personen"]


def test_the_request_is_a_haal_centraal_post_with_the_bsn_in_the_body_only() -> None:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _json({"personen": []})(request)

    assert _answer_from(respond).status == "ok"
    (request,) = seen
    assert request.method == "POST" and BSN_EVA not in str(request.url)
    assert json.loads(request.content) == {
        "type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": [BSN_EVA],
        "fields": ["ww.status"],
    }
    assert request.headers["accept-encoding"] == "identity"


class _BrokenAdapter(GemeenteAdapter):
    async def _fetch(self, *args: Any, **kwargs: Any) -> Mapping[str, Any] | None:
        raise RuntimeError(f"bug while handling {args[2]}")  # even a BSN in a message


def test_fetch_never_raises_even_when_the_plug_in_has_a_bug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = _BrokenAdapter({"schuldhulp": "http://x.test"}, timeout_s=1, max_response_bytes=10)
    answer = run(adapter.fetch("schuldhulp", BSN_EVA, ["traject"]))
    assert (answer.status, answer.error_code) == ("unavailable", "internal")
    assert BSN_EVA not in caplog.text


# -- no BSN anywhere it could leak ---------------------------------------------------------


def test_no_bsn_in_logs_or_errors_across_every_fault(
    fetch: FetchOne, agency_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything: httpx, uvicorn, the sandbox, the adapters
    faults = agency_sandbox.faults["gemeente"]
    answers = [fetch("gemeente_wmo", ["gezondheid"])]
    answers.append(fetch("gemeente_wmo", ["onbekend"]))
    for flip in ("malformed_body", "extra_fields", "oversized_body"):
        setattr(faults, flip, True)
        answers.append(fetch("gemeente_wmo", ["voorzieningen"]))
        setattr(faults, flip, False)
    faults.status_code = 500
    answers.append(fetch("gemeente_wmo", ["voorzieningen"]))
    faults.status_code = None
    faults.delay_s = 2.0
    answers.append(fetch("gemeente_wmo", ["voorzieningen"], timeout_s=0.3))

    codes = [a.error_code for a in answers]
    assert codes == [None, "http_400", "malformed", None, "too_large", "http_500", "timeout"]
    assert caplog.records, "the faults should have been logged"
    everything = caplog.text + " ".join(repr(a) for a in answers)
    for person in agency_sandbox.citizens[:10]:
        assert person.bsn not in everything


def test_a_body_dribbled_in_under_the_read_timeout_still_hits_the_deadline(
    fetch: FetchOne, agency_sandbox: SandboxHandle
) -> None:
    # Each chunk arrives well within httpx's per-read timeout; only the whole-exchange
    # deadline stops an agency that keeps the connection busy for ever.
    agency_sandbox.faults["cjib"].oversized_body = True
    started = time.perf_counter()
    answer = fetch("cjib", ["boetes"], timeout_s=0.8, max_response_bytes=1 << 30)
    assert (answer.status, answer.error_code) == ("unavailable", "timeout")
    assert time.perf_counter() - started < 0.8 + 1.5


class _RaisingAdapter(GemeenteAdapter):
    async def fetch(self, *args: Any, **kwargs: Any) -> AgencyAnswer:  # breaks the contract
        raise RuntimeError("boom")


def test_fetch_all_reports_a_contract_breaking_adapter_as_internal() -> None:
    adapter = _RaisingAdapter({"schuldhulp": "http://x.test"}, timeout_s=1, max_response_bytes=10)
    answers = run(fetch_all({"schuldhulp": adapter}, [("schuldhulp", ["traject"])], BSN_EVA))
    assert [(a.agency, a.status, a.error_code) for a in answers] == [
        ("schuldhulp", "unavailable", "internal")
    ]
    run(aclose_adapters({"schuldhulp": adapter}))
