"""Every `loket` verb that reads state answers a missing data dir or database with one line on
stderr and a non-zero exit (3, configuration), never a traceback and never a new empty file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.core.errors import EXIT_CONFIGURATION
from tests.cli import run_loket

# Verbs that need the gateway's data dir or database. `demo`, `serve` and `db upgrade` create
# them; `policy eval/test/bundle/purposes` read only the packaged policies.
VERBS = [
    ["policy", "replay", "3f0c9d2e-0000-4000-8000-000000000000"],
    ["policy", "replay", "--from-file", "{record}"],
    ["audit", "verify"],
    ["audit", "export", "--out", "{out}"],
    ["audit", "pubkey"],
    ["audit", "checkpoint"],
    ["audit", "prove", "0", "--out", "{out}"],
    ["audit", "rotate-key", "--new-key", "{out}"],
    ["audit", "verify-proof", "{record}"],
    ["sessions", "revoke", "--all"],
    ["sessions", "purge"],
    ["token"],
]


def _loket(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    return run_loket(capsys, *args)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LOKET_DATABASE_URL", "LOKET_SIGNING_KEY_PATH", "LOKET_DEV_ISSUER_KEY_PATH", "LOKET_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"policy_revision": "sha256:" + "1" * 64, "input": {}, "result": {}}))
    return tmp_path


def _args(verb: list[str], where: Path) -> list[str]:
    return [a.format(record=where / "record.json", out=where / "out.file") for a in verb]


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: " ".join(v[:2]) + (" --from-file" if "--from-file" in v else ""))
def test_a_missing_data_dir_is_one_line_and_exit_3(
    verb: list[str], elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOKET_DATA_DIR", str(elsewhere / "no-such-dir"))
    code, out, err = _loket(capsys, _args(verb, elsewhere))
    assert code == EXIT_CONFIGURATION, (code, err)
    assert err.count("\n") == 1 and err.startswith("error:") and "Traceback" not in err, err
    assert "no-such-dir" in err or "loket demo" in err, err
    assert out == ""
    assert not (elsewhere / "no-such-dir").exists()  # nothing created on the way
    assert not (elsewhere / "out.file").exists()


@pytest.mark.parametrize("verb", [v for v in VERBS if v[0] != "token" and "--from-file" not in v],
                         ids=lambda v: " ".join(v[:2]))
def test_a_data_dir_without_a_database_is_one_line_and_exit_3(
    verb: list[str], elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = elsewhere / "data"
    data.mkdir()
    monkeypatch.setenv("LOKET_DATA_DIR", str(data))
    code, _, err = _loket(capsys, _args(verb, elsewhere))
    assert code == EXIT_CONFIGURATION, (code, err)
    assert err.count("\n") == 1 and "no database at" in err and "Traceback" not in err, err
    assert not (data / "loket.db").exists()  # SQLite would have created an empty file


@pytest.mark.parametrize("verb", [["audit", "verify"], ["sessions", "purge"], ["policy", "replay", "x"]],
                         ids=lambda v: " ".join(v[:2]))
def test_a_database_without_the_schema_says_to_upgrade(
    verb: list[str], elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = elsewhere / "data"
    data.mkdir()
    (data / "loket.db").write_bytes(b"")  # an empty SQLite file: no tables
    monkeypatch.setenv("LOKET_DATA_DIR", str(data))
    code, _, err = _loket(capsys, _args(verb, elsewhere))
    assert code == EXIT_CONFIGURATION, (code, err)
    assert err.count("\n") == 1 and "loket db upgrade" in err, err


def test_an_unwritable_out_path_is_one_line_and_exit_2(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOKET_DATA_DIR", str(elsewhere / "data"))
    code, _, err = _loket(capsys, ["policy", "bundle", "--out", str(elsewhere / "record.json" / "x.tar.gz")])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("verb", [["db", "upgrade"], ["audit", "verify"], ["sessions", "purge"],
                                  ["policy", "replay", "x"]], ids=lambda v: " ".join(v[:2]))
def test_an_unreachable_database_server_is_one_line_and_exit_3_without_the_password(
    verb: list[str], elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (elsewhere / "data").mkdir()
    monkeypatch.setenv("LOKET_DATA_DIR", str(elsewhere / "data"))
    monkeypatch.setenv("LOKET_DATABASE_URL", "postgresql+psycopg://loket:s3cret-pw@127.0.0.1:1/loket")
    code, _, err = _loket(capsys, _args(verb, elsewhere))
    assert code == EXIT_CONFIGURATION, (code, err)
    assert err.count("\n") == 1 and "cannot open the database" in err and "Traceback" not in err, err
    assert "s3cret-pw" not in err and "***" in err
