"""The gateway and its witnesses (LOKET_WITNESS_POLICY): every new checkpoint goes out in the
background and comes back cosigned on /v1/log/checkpoint; a refusal is a `witness:alert`
record, a metric and a warning on the FG's page; the citizen's page calls the log verified by
witnesses only with the quorum, and says plainly when no witnesses are configured."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.log import AuditFilter
from audit.record import AuditEventKind
from audit.witness import Witness, cosignature_time, parse_policy
from gateway.core.context import Loket
from gateway.core.errors import ConfigurationError
from tests.audit.conftest import record
from tests.web.conftest import eva_bsn, login_citizen, login_fg
from tests.witnesses import serving, show_a_fork, wait_for, witness_for, write_policy

W1, W2 = "getuige.example/fg", "getuige.example/buurgemeente"


@pytest.fixture
def witnesses(tmp_path: Path, make_loket: Callable[..., Loket]) -> Iterator[tuple[Witness, Witness, str, str]]:
    """Two witnesses on localhost that know the log of a gateway about to be built (same key)."""
    probe = make_loket(data_dir=tmp_path / "gw")
    one, two = witness_for(probe, tmp_path, W1), witness_for(probe, tmp_path, W2)
    with serving(one) as u1, serving(two) as u2:
        yield one, two, u1, u2


def _gateway(make_loket: Callable[..., Loket], tmp_path: Path, policy: Path, **kw: Any) -> Loket:
    return make_loket(data_dir=tmp_path / "gw", witness_policy=policy, witness_retry_s=0.05,
                      witness_max_attempts=2, witness_timeout_s=2.0, **kw)


def _cosigned_by(client: TestClient, *ws: Witness) -> str | None:
    note = client.get("/v1/log/checkpoint").text
    return note if all(cosignature_time(note, w.key) is not None for w in ws) else None


def _citizen_page(client: TestClient, sandbox: Any) -> str:
    login_citizen(client, eva_bsn(sandbox))
    return client.get("/burger/toegang").text


def test_without_a_policy_the_pages_say_no_witnesses_are_configured(client: TestClient, loket: Loket,
                                                                    sandbox: Any) -> None:
    assert loket.witness_policy is None and "witness_submitter" not in loket.extra
    loket.audit.append_many([record(i) for i in range(3)])
    loket.audit.checkpoint(force=True)
    page = _citizen_page(client, sandbox)
    assert "Er zijn geen onafhankelijke getuigen ingesteld." in page
    assert 'data-state="geen"' in page and "hebben bevestigd" not in page
    assert "data-witness-policy-url" not in page and 'data-checkpoint-url="/v1/log/checkpoint"' in page
    assert client.get("/.well-known/loket-witness-policy").status_code == 404
    assert client.get("/v1/log/witnessed-checkpoint").status_code == 404
    login_fg(client)
    assert "Er zijn geen onafhankelijke getuigen ingesteld." in client.get("/fg/integriteit").text


def test_each_new_checkpoint_is_cosigned_in_the_background_and_published(
    tmp_path: Path, make_loket: Callable[..., Loket], witnesses: tuple[Witness, Witness, str, str], sandbox: Any,
) -> None:
    one, two, u1, u2 = witnesses
    policy = write_policy(tmp_path / "witnesses.policy", [(one.key, u1), (two.key, u2)], quorum=2)
    loket = _gateway(make_loket, tmp_path, policy)
    from gateway.app import create_app

    with TestClient(create_app(loket=loket)) as client:
        for part in range(2):
            loket.audit.append_many([record(i) for i in range(part * 10, part * 10 + 10)])
            size = loket.audit.checkpoint(force=True).tree_size
            note = wait_for(lambda: _cosigned_by(client, one, two), f"both cosignatures at {size}")
            assert f"\n{size}\n" in note
            # The witnesses keep what they cosigned (the second time with a consistency proof).
            assert one.state.latest(loket.audit.origin)[0] == size  # type: ignore[index]
        assert client.get("/v1/log/witnessed-checkpoint").text == note
        published = parse_policy(client.get("/.well-known/loket-witness-policy").text)
        assert published.quorum == 2 and published.cosigners(note) == (W1, W2)
        page = _citizen_page(client, sandbox)
        assert 'data-state="bevestigd"' in page and f"tot regel {size} klopt" in page
        assert 'data-witness-policy-url="/.well-known/loket-witness-policy"' in page
        login_fg(client)
        fg = client.get("/fg/integriteit").text
        assert f"Bevestigd door getuigen tot {size} regels" in fg and "Waarschuwing" not in fg
    # The cosignature lines do not disturb the log's own verification.
    assert loket.audit.verify().checkpoints_verified >= 2


def test_a_checkpoint_without_the_quorum_is_not_shown_as_verified(
    tmp_path: Path, make_loket: Callable[..., Loket], witnesses: tuple[Witness, Witness, str, str], sandbox: Any,
) -> None:
    from tests.servers import free_port

    one, two, u1, _ = witnesses
    down = f"http://127.0.0.1:{free_port()}"  # nobody listens: the second witness is unreachable
    policy = write_policy(tmp_path / "witnesses.policy", [(one.key, u1), (two.key, down)], quorum=2)
    loket = _gateway(make_loket, tmp_path, policy)
    from gateway.app import create_app

    with TestClient(create_app(loket=loket)) as client:
        loket.audit.append_many([record(i) for i in range(5)])
        loket.audit.checkpoint(force=True)
        wait_for(lambda: _cosigned_by(client, one), "the first witness's cosignature")
        submitter = loket.extra["witness_submitter"]
        wait_for(lambda: [r.outcome for r in submitter.last_results][1:] == ["unavailable"],
                 "the round to give up on the unreachable witness")
        assert client.get("/v1/log/witnessed-checkpoint").status_code == 404
        page = _citizen_page(client, sandbox)
        assert 'data-state="onbevestigd"' in page and "nog niet bevestigd door genoeg onafhankelijke getuigen" in page
        assert "hebben bevestigd" not in page
        login_fg(client)
        fg = client.get("/fg/integriteit").text
        assert "Nog geen checkpoint is door genoeg getuigen bevestigd" in fg
        # An unreachable witness is an outage, not an alert.
        assert loket.audit.find(AuditFilter(kind=AuditEventKind.WITNESS_ALERT)) == []


def test_a_refusal_is_an_alert_record_a_metric_and_a_warning_on_the_fg_page(
    tmp_path: Path, make_loket: Callable[..., Loket], witnesses: tuple[Witness, Witness, str, str], sandbox: Any,
) -> None:
    one, two, u1, u2 = witnesses
    policy = write_policy(tmp_path / "witnesses.policy", [(one.key, u1), (two.key, u2)], quorum=1)
    loket = _gateway(make_loket, tmp_path, policy)
    show_a_fork(loket, one, tmp_path, 12, record)  # the first witness saw another history
    from gateway.app import create_app

    with TestClient(create_app(loket=loket)) as client:
        loket.audit.append_many([record(i) for i in range(8)])
        loket.audit.checkpoint(force=True)
        alerts = wait_for(lambda: loket.audit.find(AuditFilter(kind=AuditEventKind.WITNESS_ALERT)), "an alert")
        assert len(alerts) == 1
        alert = alerts[0].record
        assert (alert.extra["witness"], alert.outcome, alert.extra["tree_size"]) == (W1, "refused", "8")
        assert alert.actor_sub == "loket-gateway" and alert.data_subject_id is None
        metrics = client.get("/metrics").text
        assert f'loket_witness_alerts_total{{reason="refused",witness="{W1}"}} 1.0' in metrics
        login_fg(client)
        fg = client.get("/fg/integriteit").text
        assert "Waarschuwing: een getuige weigerde het logboek." in fg and 'role="alert"' in fg
        assert f"{W1} weigerde het checkpoint bij 8 regels" in fg
        # The other witness cosigned: a refusal never stops the others (quorum 1 is met).
        wait_for(lambda: _cosigned_by(client, two), "the second witness's cosignature")
        assert cosignature_time(client.get("/v1/log/checkpoint").text, one.key) is None
        # Every FG page carries the banner while the alert is open.
        search = client.get("/fg/zoeken").text
        assert "Waarschuwing: een getuige weigerde het logboek." in search and "/fg/integriteit#getuigen" in search
        # An older alert by a witness that cosigned since is history, not an open alert.
        from audit.witnessing import WitnessResult
        from gateway.oversight.witnesses import open_witness_alerts, record_alert

        record_alert(loket, WitnessResult(W2, 5, "bad-cosignature", "witness answered 200 without a cosignature"))
        assert [a.witness for a in open_witness_alerts(loket)] == [W1]
        history = client.get("/fg/integriteit").text
        assert "gaf geen geldige handtekening bij 5 regels (daarna weer bevestigd)" in history


def test_the_fg_banner_shows_only_to_the_logged_in_fg(
    tmp_path: Path, make_loket: Callable[..., Loket], witnesses: tuple[Witness, Witness, str, str], sandbox: Any,
) -> None:
    one, _, u1, _ = witnesses
    loket = _gateway(make_loket, tmp_path, write_policy(tmp_path / "p.policy", [(one.key, u1)], quorum=1))
    show_a_fork(loket, one, tmp_path, 12, record)
    from gateway.app import create_app

    with TestClient(create_app(loket=loket)) as client:
        loket.audit.append_many([record(i) for i in range(8)])
        loket.audit.checkpoint(force=True)
        wait_for(lambda: loket.audit.find(AuditFilter(kind=AuditEventKind.WITNESS_ALERT)), "an alert")
        assert "een getuige weigerde" not in client.get("/fg/inloggen").text  # not before login
        login_fg(client)
        assert "een getuige weigerde" in client.get("/fg/zoeken").text
        assert "een getuige weigerde" not in _citizen_page(client, sandbox)


def test_a_dossier_answer_never_waits_for_a_witness(
    tmp_path: Path, make_loket: Callable[..., Loket], witnesses: tuple[Witness, Witness, str, str],
) -> None:
    """Checkpoints are signed and appends return while a witness hangs: submission is on the
    submitter's own thread (no timing: the witness is held until the appends are done)."""
    one, _, u1, _ = witnesses
    policy = write_policy(tmp_path / "witnesses.policy", [(one.key, u1)], quorum=1)
    loket = _gateway(make_loket, tmp_path, policy)
    from gateway.app import create_app

    held, asked = threading.Event(), threading.Event()
    with TestClient(create_app(loket=loket)) as client:
        submitter = loket.extra["witness_submitter"]
        real = submitter._post

        def hanging(url: str, body: bytes) -> tuple[int, str]:
            asked.set()
            held.wait(20)
            return real(url, body)  # type: ignore[no-any-return]

        submitter._post = hanging
        loket.audit.append_many([record(i) for i in range(4)])
        loket.audit.checkpoint(force=True)
        assert asked.wait(10)
        loket.audit.append_many([record(i) for i in range(4, 8)])  # the witness still holds on
        assert loket.audit.checkpoint(force=True).tree_size == 8
        assert client.get("/health").status_code == 200
        assert not held.is_set()
        held.set()
        wait_for(lambda: one.state.latest(loket.audit.origin), "the held submission to finish")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quorum 1\n", "quorum"),
        ("witness a.example/w nonsense http://w\nquorum 1\n", "line 1"),
        (None, "cannot read"),
    ],
)
def test_a_bad_witness_policy_stops_the_gateway_at_start_up(
    tmp_path: Path, make_loket: Callable[..., Loket], text: str | None, message: str,
) -> None:
    path = tmp_path / "bad.policy"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        make_loket(witness_policy=path)


def test_a_witness_without_a_submission_url_is_refused_at_start_up(
    tmp_path: Path, make_loket: Callable[..., Loket], witnesses: tuple[Witness, Witness, str, str],
) -> None:
    one = witnesses[0]
    path = tmp_path / "nourl.policy"
    path.write_text(f"witness {one.key.name} {one.key.vkey()}\nquorum 1\n")
    with pytest.raises(ConfigurationError, match="no submission URL"):
        make_loket(witness_policy=path)
