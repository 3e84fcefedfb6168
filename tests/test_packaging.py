"""What the wheels ship: the gateway's wheel has no sandbox agencies or synthetic citizens; the
sandbox is its own distribution (packaging/sandbox/) that `loket[sandbox]` pulls in; `loket demo`
from the wheel says what to install, and works once the sandbox wheel is there too.

Builds real wheels with `pip wheel` (build isolation fetches setuptools): marked slow, run by
CI's second pytest step.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(".git", ".loket", "__pycache__", ".hypothesis", ".pytest_cache", "build",
                                 "dist", "*.egg-info", "results", "screenshots", "node_modules")
# A wheel installed away from the work tree: drop the editable install's finder (the repository
# itself is installed with `pip install -e .` here and in CI) so only the unpacked wheels count.
RUN_INSTALLED = """
import runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in (getattr(f, "__module__", "") + repr(f)).lower()]
sys.path.insert(0, sys.argv.pop(1))
sys.argv[0] = "loket"
runpy.run_module("gateway", run_name="__main__")
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    src = tmp_path_factory.mktemp("src") / "loket"
    shutil.copytree(REPO, src, ignore=IGNORED)  # build outside the work tree: no build/ left there
    out = tmp_path_factory.mktemp("wheels")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src),
                        str(src / "packaging" / "sandbox")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    found = {p.name.split("-")[0]: p for p in out.glob("*.whl")}
    assert set(found) == {"loket", "loket_sandbox"}, found
    return found


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as z:
        return z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()


def test_the_gateway_wheel_ships_no_sandbox(wheels: dict[str, Path]) -> None:
    names = _names(wheels["loket"])
    assert not [n for n in names if n.startswith("adapters/sandbox/")]
    # ... and everything the gateway needs at run time
    for needed in ("gateway/cli.py", "adapters/brp.py", "audit/log.py", "policies/loket_data/legal_bases/data.json",
                   "policies/catalog/agencies.json", "migrations/env.py", "gateway/web/templates/base.html"):
        assert needed in names, needed
    assert [n for n in names if n.startswith("policies/loket/") and n.endswith(".rego")]
    assert [n for n in names if n.startswith("migrations/versions/")]
    meta = _metadata(wheels["loket"])
    assert "Provides-Extra: sandbox" in meta
    assert 'Requires-Dist: loket-sandbox==0.1.0; extra == "sandbox"' in meta


def test_the_sandbox_wheel_ships_only_the_sandbox(wheels: dict[str, Path]) -> None:
    files = [n for n in _names(wheels["loket_sandbox"]) if ".dist-info/" not in n]
    assert files and all(n.startswith("adapters/sandbox/") for n in files), files
    assert "adapters/sandbox/citizens.py" in files and "adapters/__init__.py" not in files
    assert "Requires-Dist: loket==0.1.0" in _metadata(wheels["loket_sandbox"])


def test_demo_from_the_wheel_asks_for_the_extra_then_runs_with_it(wheels: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheels["loket"]) as z:
        z.extractall(site)
    env_args = [sys.executable, "-c", RUN_INSTALLED, str(site), "demo", "--no-run", "--port", "8791",
                "--data-dir", str(tmp_path / "d")]
    without = subprocess.run(env_args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert without.returncode == 3, without.stderr
    assert without.stderr.strip() == ("error: loket demo needs the sandbox agencies: pip install 'loket[sandbox]', "
                                      "or `pip install -e .` in a clone of the repository")
    with zipfile.ZipFile(wheels["loket_sandbox"]) as z:
        z.extractall(site)  # what `pip install 'loket[sandbox]'` adds
    with_sandbox = subprocess.run(env_args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert with_sandbox.returncode == 0, with_sandbox.stderr
    assert "Sample case" in with_sandbox.stdout and "export TOKEN=" in with_sandbox.stdout
