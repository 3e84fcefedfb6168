"""The folders are the architecture (docs/architecture.md); this test keeps them so.

Rules, checked on every import statement (top level and inside functions) of every module:
- pages (gateway/web) never import routers (gateway/api): both call the same services;
- domain packages (cases, consents, dossier, oversight, identity, core, policy) import neither
  routers nor pages: no HTTP inside a use case;
- audit/ imports nothing from gateway/ or adapters/ (an outside verifier needs audit/ alone);
- adapters/ import nothing from gateway/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ("cases", "consents", "dossier", "oversight", "identity", "core", "policy", "representation")
RULES: list[tuple[str, tuple[str, ...]]] = [
    ("gateway/web", ("gateway.api",)),
    *[(f"gateway/{d}", ("gateway.api", "gateway.web")) for d in DOMAIN],
    ("audit", ("gateway", "adapters")),
    ("adapters", ("gateway",)),
]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def violations(folder: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(root)} imports {name}")
    return found


@pytest.mark.parametrize(("folder", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_layering_rule_holds(folder: str, forbidden: tuple[str, ...]) -> None:
    assert violations(folder, forbidden) == []


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "gateway" / "web" / "sneaky.py"
    page.parent.mkdir(parents=True)
    page.write_text("def f():\n    from gateway.api.cases import router\n    return router\n")
    assert violations("gateway/web", ("gateway.api",), root=tmp_path) == [
        "gateway/web/sneaky.py imports gateway.api.cases"]
