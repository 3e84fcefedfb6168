"""Shared fixtures: real sandbox agencies on localhost, a Loket per test on its own SQLite file."""

from __future__ import annotations

import os
import secrets
import sys

# Bytecode caches (__pycache__/, gitignored) are written even where PYTHONDONTWRITEBYTECODE is
# set: without them every xdist worker and every `loket` subprocess of the suite compiled ~560
# modules again on every run (collection 6.6 s -> 2.8 s; the README command 89 s -> 79 s here).
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from gateway.core.settings import Settings

if TYPE_CHECKING:
    from gateway.core.context import Loket

# Property tests check behaviour, not speed: on a loaded 2-core CI machine a per-example deadline
# only produces flaky failures. Speed lives in benchmarks/.
# In CI the examples are derandomized: a run on a clean clone explores the same examples every
# time, so CI is reproducible and a new counterexample is found (and kept in .hypothesis/) on
# a developer's machine, not as a surprise red build. Locally Hypothesis explores at random.
hypothesis_settings.register_profile("loket", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("loket-ci", parent=hypothesis_settings.get_profile("loket"),
                                     derandomize=True, print_blob=True)
hypothesis_settings.load_profile("loket-ci" if os.environ.get("CI") else "loket")


def pytest_configure(config: pytest.Config) -> None:
    """Test files (tmp_path, and what the tests' subprocesses write) on tmpfs where the machine
    has one with room: the suite writes hundreds of SQLite databases whose every commit is an
    fsync, and that is a quarter of its time on a disk. Durability itself is tested where it
    counts (kill -9 during appends, the full-disk case), not by where tmp_path lies. A TMPDIR
    set by the caller wins; pytest's own rotation (three runs kept) bounds what stays in memory."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if "TMPDIR" in os.environ or not shm.is_dir() or not os.access(shm, os.W_OK):
        return
    if shutil.disk_usage(shm).free < 2 * 1024**3:
        return
    os.environ["TMPDIR"] = str(shm)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again


@pytest.fixture(scope="session", autouse=True)
def _fast_gateway_contexts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Building a Loket ran Alembic on a fresh SQLite file (0.3-0.7 s) and compiled the Rego
    bundle (~0.5 s); with hundreds of tests building one, that was most of the suite's time.

    Here a database migrated once is copied for every new SQLite file instead (Alembic itself is
    tested on fresh databases in tests/gateway/test_migrations.py, which calls it directly, and
    by `loket db upgrade` in a subprocess), and the compiled embedded engine of the packaged
    bundle is shared: each Loket gets its own shallow copy, so a test that replaces
    ``loket.policy.evaluate`` changes only its own. The packaged bundle is built once for
    the other engines too (gateway/policy/wasm.py caches the compiled module). The bundle is
    still filed under each data dir for `loket policy replay`, as the real factory does."""
    import copy
    import shutil
    import sqlite3

    import gateway.core.context as context
    from gateway.core import migrate
    from gateway.core.db import create_private_sqlite_file
    from gateway.core.errors import ConfigurationError
    from gateway.policy.bundle import build_bundle, store_bundle, store_dir_for
    from gateway.policy.embedded import EmbeddedPolicyEngine

    real_upgrade, real_create = migrate.upgrade, context.create_policy_engine
    template = tmp_path_factory.mktemp("template") / "loket.db"
    real_upgrade(f"sqlite:///{template}")
    with sqlite3.connect(template) as conn:  # everything in the main file, nothing left in a WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def upgrade(database_url: str, revision: str = "head") -> None:
        prefix = "sqlite:///"
        if revision == "head" and database_url.startswith(prefix) and "?" not in database_url:
            path = Path(database_url[len(prefix):])
            if not path.exists() or path.stat().st_size == 0:
                create_private_sqlite_file(database_url)  # 0600, as the gateway makes it
                with template.open("rb") as src, path.open("r+b") as f:  # keeps the file and its mode
                    shutil.copyfileobj(src, f)
                return
        real_upgrade(database_url, revision)

    shared: dict[str, Any] = {}

    def create_policy_engine(settings: Settings) -> Any:
        if settings.policy_engine != "embedded" or settings.policy_bundle_path is not None:
            return real_create(settings)
        if "engine" not in shared:
            shared["engine"] = EmbeddedPolicyEngine(packaged_bundle())
        try:
            store_bundle(store_dir_for(settings.data_dir), shared["bundle"])
        except OSError as e:
            raise ConfigurationError(f"cannot store the policy bundle for replay: {e}") from e
        return copy.copy(shared["engine"])

    import gateway.policy as policy_package

    def packaged_bundle(*args: Any, **kw: Any) -> Any:
        """The packaged bundle (policies/) built once per worker; any other build runs for real."""
        if args or kw:
            return build_bundle(*args, **kw)
        if "bundle" not in shared:
            shared["bundle"] = build_bundle()
        return shared["bundle"]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(policy_package, "build_bundle", packaged_bundle)  # what current_bundle builds
        mp.setattr(migrate, "upgrade", upgrade)
        mp.setattr(context, "create_policy_engine", create_policy_engine)
        yield


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    from adapters.sandbox.runner import start_sandbox

    handle = start_sandbox(host="127.0.0.1", seed=1)
    try:
        yield handle
    finally:
        handle.stop()


def settings_for(data_dir: Path, agency_urls: dict[str, str], **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        data_dir=data_dir,
        dev_issuer=True,
        pseudonym_key=secrets.token_hex(32),
        bsn_encryption_key=secrets.token_hex(32),
        signing_key_path=data_dir / "audit-signing-key.pem",
        dev_issuer_key_path=data_dir / "dev-issuer-key.pem",
        agency_urls=agency_urls,
        agency_timeout_s=1.5,
        checkpoint_every_records=1000,
        checkpoint_every_s=3600,
        secure_cookies=False,
    )
    values.update(overrides)
    # the keys are created on first use for tests, as the demo does
    from gateway.core.keys import load_ed25519

    load_ed25519(values["signing_key_path"], create=True)
    load_ed25519(values["dev_issuer_key_path"], create=True)
    return Settings(**values)


@pytest.fixture
def make_loket(tmp_path: Path, sandbox: Any) -> Iterator[Callable[..., Loket]]:
    made: list[Loket] = []

    from gateway.core.context import build_loket

    def factory(**overrides: Any) -> Loket:
        data_dir = overrides.pop("data_dir", tmp_path / f"loket-{len(made)}")
        loket = build_loket(settings_for(data_dir, dict(sandbox.agency_urls), **overrides))
        made.append(loket)
        return loket

    yield factory
    for loket in made:
        loket.close()


@pytest.fixture
def loket(make_loket: Callable[..., Loket], request: pytest.FixtureRequest) -> Loket:
    """A gateway on the sandbox. In a module marked ``pilot``, one whose legal bases that are still
    ``verified: false`` (the debt-help Wgs bases) release data: a pilot that switched
    LOKET_PILOT_UNVERIFIED_BASES on (a banner on every page says so)."""
    return make_loket(pilot_unverified_bases=True) if request.node.get_closest_marker("pilot") else make_loket()


@pytest.fixture
def quick_agencies(request: pytest.FixtureRequest) -> Iterator[None]:
    """The sandbox desk answers agency requests after ``AGENCY_ANSWER_S`` of the module (0.2 s), not minutes."""
    from adapters.sandbox.requests import DESK

    before = DESK.answer_after_s
    DESK.answer_after_s = getattr(request.module, "AGENCY_ANSWER_S", 0.2)
    yield
    DESK.answer_after_s = before


@pytest.fixture
def client(loket: Loket) -> Iterator[TestClient]:
    from gateway.app import create_app

    with TestClient(create_app(loket=loket)) as c:
        yield c


@pytest.fixture
def token(loket: Loket) -> Callable[..., str]:
    from gateway.identity.auth import Role, mint_token

    def mint(role: str = "casemanager", sub: str = "cm-001", **kw: Any) -> str:
        assert loket.dev_issuer_key is not None
        return mint_token(loket.dev_issuer_key, issuer=loket.settings.jwt_issuer,
                          audience=loket.settings.jwt_audience, sub=sub, role=Role(role), **kw)

    return mint


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than there are cores, at most four. Many tests wait part of
    their time (an agency's timeout, a checkpoint interval, a subprocess), so on 2 cores three
    workers finish first (measured: 2 workers 85 s, 3 workers 79 s, 4 workers 95 s)."""
    return max(1, min((os.cpu_count() or 1) + 1, 4))
