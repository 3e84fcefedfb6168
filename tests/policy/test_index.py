"""The decision index (data.loket_data.index) is derived from the policy data, never stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gateway.policy.bundle import build_bundle, policies_root, source_files
from gateway.policy.embedded import EmbeddedPolicyEngine
from gateway.policy.index import INDEX_PATH, derive_index, index_file
from tests.policy.conftest import make_input


def _copy_policies(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(str(policies_root()), root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_checked_in_index_matches_the_data() -> None:
    # `opa test policies/` reads the checked-in copy; `python -m gateway.policy.index` rewrites it.
    root = Path(str(policies_root()))
    assert (root / INDEX_PATH).read_bytes() == index_file(source_files(root))


def test_bundle_derives_the_index_even_when_the_checked_in_copy_is_stale(tmp_path: Path) -> None:
    root = _copy_policies(tmp_path)
    path = root / "loket_data" / "purposes" / "data.json"
    purposes = json.loads(path.read_text("utf-8"))
    del purposes["ww_warme_overdracht"]["scope"]["uwv"]["ww"]["basis"]
    path.write_text(json.dumps(purposes), "utf-8")
    (root / INDEX_PATH).write_text("{}", "utf-8")  # stale on purpose
    bundle = build_bundle(root=root)
    status = bundle.data["loket_data"]["index"]["purposes"]["ww_warme_overdracht"]["status"]
    assert status["uwv/ww"] == "needs_consent"
    d = EmbeddedPolicyEngine(bundle).evaluate(make_input("ww_warme_overdracht", [("uwv", "ww")]))
    assert d["refusals"][0]["code"] == "consent_required"


def test_index_is_deterministic() -> None:
    files = source_files()
    assert index_file(files) == index_file(dict(reversed(list(files.items()))))


@pytest.mark.parametrize("name", ["brp/x", "a/b"])
def test_names_with_a_slash_are_refused(name: str) -> None:
    # Keys are "agency/category": a "/" inside a name could make two items share one key.
    catalog = {"agencies": {"brp": {"categories": {name: {"special": False, "fields": []}}}}}
    reasons = {"basis_texts": {"break_glass": {"id": "x", "citation": "c", "verified": False}}}
    with pytest.raises(ValueError, match="'/'"):
        derive_index(catalog, {}, {}, reasons)
