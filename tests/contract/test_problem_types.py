"""Every problem type the code can raise is in the catalogue, and docs/problems.md is its copy."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.core import errors
from gateway.core.problems import PROBLEM_TYPES, problems_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_docs_problems_md_is_the_catalogue() -> None:
    assert (ROOT / "docs" / "problems.md").read_text() == problems_markdown(), \
        "run: python -m gateway.core.problems > docs/problems.md"


def test_every_code_raised_in_the_gateway_is_catalogued() -> None:
    raised = set()
    for path in (ROOT / "gateway").rglob("*.py"):
        raised |= set(re.findall(r'code="([a-z0-9-]+)"', path.read_text()))
        raised |= set(re.findall(r'problem\(\d+, "([a-z0-9-]+)"', path.read_text()))
    classes = {c.code for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.LoketError)}
    missing = (raised | classes) - set(PROBLEM_TYPES) - {"loket-error"}
    assert not missing, f"add to PROBLEM_TYPES in gateway/core/problems.py: {sorted(missing)}"
