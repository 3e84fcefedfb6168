"""Agency faults: every failure becomes an unavailable answer with a stable code, never an
exception, never a delay beyond the timeout, and never a BSN in a log line or error."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.base import AgencyAdapter, AgencyAnswer
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


# -- shapes the sandbox does not produce, from a local server that sends exactly these bytes -


@dataclass(frozen=True)
class _Received:
    """One request as the local agency read it off the socket."""

    method: str
    target: str
    headers: dict[str, str]  # lower-case names
    body: bytes


def _exchange(
    response: bytes, *, fetches: int = 1, host: str = "127.0.0.1", **limits: Any
) -> tuple[list[AgencyAnswer], list[_Received]]:
    """Ask a local agency that answers every request with ``response`` and then hangs up.

    A real socket on the loopback, served in the adapter's own event loop; the adapter uses
    a client made by ``AgencyAdapter.new_client``, passed in as a caller's client.
    """
    timeout_s = limits.get("timeout_s", 2.0)
    received: list[_Received] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            method, target, _ = request_line.split(" ", 2)
            received.append(_Received(method, target, headers, body))
            writer.write(response)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the adapter hung up first
        finally:
            writer.close()

    async def go() -> list[AgencyAnswer]:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, AgencyAdapter.new_client(timeout_s=timeout_s) as client:
            adapter = UwvAdapter(
                {"uwv": f"http://{host}:{port}"},
                timeout_s=timeout_s,
                max_response_bytes=limits.get("max_response_bytes", 4096),
                client=client,
            )
            return [await adapter.fetch("uwv", BSN_EVA, ["ww.status"]) for _ in range(fetches)]

    return run(go()), received


def _answer_from(response: bytes, **limits: Any) -> AgencyAnswer:
    (answer,), _ = _exchange(response, **limits)
    return answer


def _response(status: str, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode("latin-1") + body


def _raw(body: bytes, content_type: str = "application/json", **headers: str) -> bytes:
    fields = {
        "content-type": content_type,
        "content-length": str(len(body)),
        "connection": "close",  # what the local agency does after each answer
        **headers,
    }
    return _response("200 OK", list(fields.items()), body)


def _json(doc: Any) -> bytes:
    return _raw(json.dumps(doc).encode())


@pytest.mark.parametrize(
    "response",
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
        # A second header must not hide behind an acceptable first one (RFC 9110 §5.3).
        _response(
            "200 OK",
            [("Content-Type", "application/json"), ("Content-Type", "text/html")]
            + [("Content-Length", "16")],
            b'{"personen": []}',
        ),
        _response(
            "200 OK",
            [("Content-Type", "application/json"), ("Content-Length", "16")]
            + [("Content-Encoding", "identity"), ("Content-Encoding", "gzip")],
            b'{"personen": []}',
        ),
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
        "second-content-type",
        "second-content-encoding",
    ],
)
def test_a_wrongly_shaped_answer_is_malformed(response: bytes) -> None:
    answer = _answer_from(response, max_response_bytes=1 << 20)
    assert (answer.status, answer.error_code, answer.data) == ("unavailable", "malformed", {})


@pytest.mark.parametrize(
    "response",
    [
        b"",
        b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
        b"hello\r\n\r\n",
        _raw(b'{"personen": []}', **{"content-length": "99"}),
        _response(
            "200 OK",
            [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
            b"zz\r\n{}\r\n0\r\n\r\n",
        ),
    ],
    ids=["hangs-up", "bad-status-line", "not-http", "body-cut-short", "bad-chunk"],
)
def test_an_answer_that_breaks_http_is_a_connection_error(response: bytes) -> None:
    answer = _answer_from(response)
    assert (answer.status, answer.error_code) == ("unavailable", "connection_error")
    assert answer.data == {}


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    response = _raw(b'{"personen": []}', **{"content-length": "999999999"})
    assert _answer_from(response).error_code == "too_large"


def test_a_redirect_is_not_followed() -> None:
    # A Location on the same server: had the redirect been followed, it would have been seen.
    redirect = _response(
        "307 Temporary Redirect",
        [("Location", "/elsewhere/personen"), ("Content-Length", "0")],
        b"",
    )
    answers, received = _exchange(redirect)
    assert [a.error_code for a in answers] == ["http_307"]
    assert [r.target for r in received] == ["/uwv/personen"]


def test_the_request_is_a_haal_centraal_post_with_the_bsn_in_the_body_only() -> None:
    (answer,), (request,) = _exchange(_json({"personen": []}))
    assert answer.status == "ok"
    assert request.method == "POST" and request.target == "/uwv/personen"
    assert BSN_EVA not in request.target and BSN_EVA not in repr(request.headers)
    assert json.loads(request.body) == {
        "type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": [BSN_EVA],
        "fields": ["ww.status"],
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept-encoding"] == "identity"


def test_a_cookie_set_by_an_agency_is_not_sent_back() -> None:
    # By host name: aiohttp's default cookie jar would ignore a cookie from an IP address.
    set_cookie = _raw(b'{"personen": []}', **{"set-cookie": "sessie=abc; Path=/"})
    answers, received = _exchange(set_cookie, fetches=2, host="localhost")
    assert [a.status for a in answers] == ["ok", "ok"]
    assert [r.headers.get("cookie") for r in received] == [None, None]


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
    caplog.set_level(logging.DEBUG)  # everything: aiohttp, uvicorn, the sandbox, the adapters
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
    # Each chunk arrives well within any per-read timeout; only the whole-exchange deadline
    # stops an agency that keeps the connection busy for ever.
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
