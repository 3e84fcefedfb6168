"""Import rules between the top-level packages, checked on the source (AST), lazy imports too.

``audit/`` stands alone: an outside verifier installs it without the gateway or the adapters.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: package -> top-level packages it must never import
FORBIDDEN = {"audit": ("gateway", "adapters")}


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an ``import`` or ``from … import`` names, with its line (relative imports
    are resolved no further than their dots: they stay inside their own package)."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.lineno, node.args[0].value))
    return out


def violations(package: str, root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in imported_modules(tree):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_none_of_its_forbidden_packages(package: str) -> None:
    assert violations(package) == []


def test_the_rule_catches_a_forbidden_import_even_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "x.py").write_text(
        "def f():\n    from gateway.settings import Settings\n    import adapters.brp\n"
    )
    assert violations("audit", tmp_path) == [
        "audit/x.py:2 imports gateway.settings",
        "audit/x.py:3 imports adapters.brp",
    ]


def test_audit_and_gateway_share_one_naming_convention() -> None:
    """Both metadata objects describe one Alembic-managed schema."""
    from audit.db import NAMING_CONVENTION as AUDIT
    from gateway.core.db import NAMING_CONVENTION as GATEWAY

    assert AUDIT == GATEWAY


def test_gateway_errors_are_the_audit_errors() -> None:
    """`except IntegrityError` in the gateway catches what audit/ raises."""
    import audit.errors
    import gateway.core.errors

    for name in ("LoketError", "BadInput", "NotFound", "AuditWriteError", "IntegrityError"):
        assert getattr(gateway.core.errors, name) is getattr(audit.errors, name)
