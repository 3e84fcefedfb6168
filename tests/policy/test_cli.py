"""`loket policy ...` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from gateway.policy.bundle import load_bundle_file
from gateway.policy.cli import policy_app
from tests.policy.conftest import make_input

runner = CliRunner()


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOKET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LOKET_POLICY_BUNDLE_PATH", raising=False)


@pytest.mark.slow  # every Rego test through regopy (~6 s): CI's second pytest step runs it
def test_policy_test_runs_the_rego_tests_and_passes() -> None:
    result = runner.invoke(policy_app, ["test"])
    assert result.exit_code == 0, result.output
    assert "test_consent_revoked" in result.output and "FAIL" not in result.output
    assert "rule coverage" in result.output


def test_policy_test_exits_1_on_a_failing_test(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.policy import testing

    failing = {
        "loket/broken_test.rego": "package broken_test\n\nimport rego.v1\n\ntest_fails if {\n\t1 == 2\n}\n"
    }
    monkeypatch.setattr(testing, "test_modules", lambda root=None: failing)
    result = runner.invoke(policy_app, ["test"])
    assert result.exit_code == 1
    assert "FAIL" in result.output


def test_eval_reads_stdin_and_prints_the_decision() -> None:
    result = runner.invoke(
        policy_app, ["eval"], input=json.dumps(make_input("gezagscontrole_minderjarige"))
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["allow"] is True and decision["grants"][0]["category"] == "gezag"


def test_eval_explain_names_the_rules_hit() -> None:
    result = runner.invoke(
        policy_app,
        ["eval", "--explain"],
        input=json.dumps(make_input("schuldhulp_intake", [("cak", "eigen_bijdrage")])),
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["explain"]["item_status"] == {"cak/eigen_bijdrage": "consent_required"}
    assert "status_of -> consent_required" in out["explain"]["rules_hit"]
    assert out["revision"].startswith("sha256:")


@pytest.mark.parametrize("bad", ["{not json", "", "[1, 2]"])
def test_eval_bad_json_exits_2_with_a_clear_message(bad: str) -> None:
    result = runner.invoke(policy_app, ["eval"], input=bad)
    assert result.exit_code == 2
    assert "JSON" in result.output


def test_bundle_writes_a_signed_bundle(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    key_path = tmp_path / "key.pem"
    key_path.write_bytes(
        key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    )
    pub = key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
    out = tmp_path / "bundle.tar.gz"
    result = runner.invoke(
        policy_app, ["bundle", "--out", str(out), "--signing-key", str(key_path)]
    )
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["signed"] is True
    assert load_bundle_file(out, verify_key_pem=pub).revision == info["revision"]


def _logged(tmp_path: Path, tamper: bool) -> Path:
    policy_input = make_input("schuldhulp_intake", [("cak", "eigen_bijdrage")])
    evaluated = runner.invoke(policy_app, ["eval", "--explain"], input=json.dumps(policy_input))
    out = json.loads(evaluated.output)
    result = out["decision"]
    if tamper:
        result = result | {"allow": True}
    record = {
        "decision_id": "d-1",
        "policy_revision": out["revision"],
        "input": policy_input,
        "result": result,
    }
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    return path


def test_replay_from_file_reports_identical(tmp_path: Path) -> None:
    result = runner.invoke(
        policy_app, ["replay", "--from-file", str(_logged(tmp_path, tamper=False))]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["identical"] is True
    # The shipped module is of this revision: replay runs OPA's compiled policy (ADR 0006).
    assert json.loads(result.output)["engine"] == "wasm"


def test_replay_reports_a_different_result_and_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(
        policy_app, ["replay", "--from-file", str(_logged(tmp_path, tamper=True))]
    )
    assert result.exit_code == 1
    assert json.loads(result.output)["identical"] is False


def test_replay_of_an_unknown_revision_exits_2(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps({"policy_revision": "sha256:" + "1" * 64, "input": {}, "result": {}})
    )
    assert runner.invoke(policy_app, ["replay", "--from-file", str(path)]).exit_code == 2


def test_purposes_markdown_table() -> None:
    result = runner.invoke(policy_app, ["purposes", "--markdown"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("| purpose |")
    assert any(
        "| crisis_noodtoegang |" in line and "noodtoegang:" in result.output for line in lines
    )
