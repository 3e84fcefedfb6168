"""One error table (gateway/core/errors.py OUTCOMES): the same error gets the same HTTP status
from the API and the same exit code from every CLI (`loket`, `loket policy`, `loket audit`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import audit.cli
from gateway.core import errors
from gateway.core.errors import (
    OUTCOMES,
    LoketError,
    PolicyEngineError,
    exit_code_for,
    http_status_for,
)
from gateway.core.problems import install_problem_handlers


def _all_error_classes() -> Iterator[type[LoketError]]:
    todo = [LoketError]
    while todo:
        cls = todo.pop()
        yield cls
        todo.extend(cls.__subclasses__())


def _domain_errors() -> list[type[LoketError]]:
    """The classes of the error vocabulary itself (test doubles elsewhere may subclass them)."""
    return sorted({c for c in _all_error_classes() if c.__module__.split(".")[0] in ("gateway", "audit")},
                  key=lambda c: c.__name__)


def test_every_kind_of_error_has_a_row_whose_status_is_the_classs() -> None:
    """The kinds (direct children of LoketError) each have a row; a subclass (BsnInForm under
    BadInput, say) inherits its parent's. The HTTP status lives on the class (audit/errors.py
    holds the root and the log's own kinds, so an outside verifier needs no gateway); the table
    reads it from there and adds the exit code, so there is still one source for each."""
    kinds = [c for c in _domain_errors() if LoketError in c.__bases__]
    missing = [c.__name__ for c in kinds if c not in OUTCOMES]
    assert missing == [], f"add these to OUTCOMES in gateway/core/errors.py: {missing}"
    assert all(OUTCOMES[c].status == c.status for c in OUTCOMES)


def test_the_table_is_the_documented_one() -> None:
    """The contract, as docs/contracts.md states it (change both together)."""
    table = {c.__name__: tuple(row) for c, row in OUTCOMES.items()}
    assert table == {
        "LoketError": (500, 1),
        "BadInput": (400, 2),
        "NotAuthenticated": (401, 2),
        "Forbidden": (403, 2),
        "NotFound": (404, 2),
        "Conflict": (409, 2),
        "Denied": (403, 2),
        "PolicyEngineError": (503, 4),
        "AuditWriteError": (503, 4),
        "IntegrityError": (500, 1),
        "AgencyUnavailable": (502, 4),
        "ConfigurationError": (500, 3),
    }


def test_a_subclass_inherits_its_parents_row() -> None:
    class StoredBundleCorrupt(errors.IntegrityError):
        pass

    assert exit_code_for(StoredBundleCorrupt("x")) == exit_code_for(errors.IntegrityError("x")) == 1


def test_audit_cli_codes_equal_the_gateway_table() -> None:
    """audit/ imports no gateway, so its CLI keeps its own copy for the kinds it raises."""
    assert audit.cli.EXIT_CODES, "audit/cli.py lost its table"
    for cls, code in audit.cli.EXIT_CODES:
        assert code == exit_code_for(cls("x")), cls.__name__


@pytest.mark.parametrize("cls", [c for c in OUTCOMES if c is not LoketError], ids=lambda c: c.__name__)
def test_the_api_answers_with_the_tables_status(cls: type[LoketError]) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise cls("it went wrong")

    r = TestClient(app).get("/boom")
    assert r.status_code == http_status_for(cls("x")) == OUTCOMES[cls].status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == r.status_code and r.json()["type"].endswith(cls.code)


@pytest.mark.parametrize("cls", [c for c in OUTCOMES if c is not LoketError], ids=lambda c: c.__name__)
def test_loket_exits_with_the_tables_code(
    cls: type[LoketError], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gateway.demo
    from gateway.cli import main

    def fail(**_: object) -> None:
        raise cls("it went wrong: pip install 'loket[sandbox]'")  # brackets are text, not markup

    monkeypatch.setattr(gateway.demo, "prepare_demo", fail)
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--no-run"])
    assert exited.value.code == OUTCOMES[cls].exit_code
    assert capsys.readouterr().err.strip() == "error: it went wrong: pip install 'loket[sandbox]'"


def test_a_policy_engine_failure_exits_4_from_loket_and_from_loket_policy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from gateway.cli import main
    from gateway.policy.cli import policy_app
    from gateway.policy.embedded import EmbeddedPolicyEngine

    def broken(self: object, policy_input: object) -> dict[str, object]:
        raise PolicyEngineError("engine crashed")

    monkeypatch.setenv("LOKET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOKET_POLICY_ENGINE", "embedded")  # the engine whose evaluate is broken here
    monkeypatch.setattr(EmbeddedPolicyEngine, "evaluate", broken)
    assert CliRunner().invoke(policy_app, ["eval"], input=json.dumps({})).exit_code == 4
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("{}"))
    with pytest.raises(SystemExit) as exited:
        main(["policy", "eval"])
    assert exited.value.code == 4 == exit_code_for(PolicyEngineError())


@pytest.mark.parametrize("cls", list(OUTCOMES), ids=lambda c: c.__name__)
def test_an_errors_status_and_exit_code_read_the_table(cls: type[LoketError]) -> None:
    e = cls("x")
    assert (http_status_for(e), exit_code_for(e)) == tuple(OUTCOMES[cls])
