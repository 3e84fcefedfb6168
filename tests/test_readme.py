"""The README's generated parts stay in step with what generates them."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from gateway.policy.cli import policy_app

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_purposes_table_matches_the_policy_data() -> None:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- purposes:start -->\n(.*?)\n<!-- purposes:end -->", text, re.S)
    assert m, "README lacks the generated purposes table"
    out = CliRunner().invoke(policy_app, ["purposes", "--markdown"])
    assert out.exit_code == 0, out.output
    assert m.group(1).strip() == out.output.strip(), (
        "README purposes table is stale: regenerate it with `loket policy purposes --markdown`")


def test_readme_names_the_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "pip install -e . && loket demo" in text
    assert "pip install -e '.[test]' && pytest" in text
