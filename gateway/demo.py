"""`loket demo`: the gateway, the sandbox agencies and synthetic citizens on localhost.

Everything runs with embedded defaults: SQLite under the data dir, in-process Rego, the
development token issuer, and keys generated on first run (0600 files, never committed).
"""

from __future__ import annotations

import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from rich.console import Console

from gateway.app import create_app
from gateway.cases.grounds import Ground, GroundType
from gateway.cases.intake import create_aanmelding
from gateway.cases.service import open_case
from gateway.core.context import Loket, build_loket
from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from gateway.core.tracing import TraceContext
from gateway.identity.auth import DEMO_TEAM, Principal, Role, mint_token

DEMO_CASEMANAGER = "cm-001"
DEMO_COORDINATOR = "co-001"
PREFERRED_DEMO_PURPOSES = ("student_in_crisis", "student_in_crisis_eva", "schuldhulp_intake")


@dataclass
class DemoSetup:
    app: FastAPI
    loket: Loket
    sandbox: Any
    base_url: str
    token: str
    case_id: str
    purpose: str
    citizen_name: str
    citizen_bsn: str
    data_dir: Path
    issuer: str

    def stop(self) -> None:
        self.loket.close()
        self.sandbox.stop()


def _demo_citizen(citizens: Any) -> tuple[str, str]:
    """(name, BSN) of the demo persona Eva, else the first synthetic citizen."""
    items = list(citizens.values()) if isinstance(citizens, dict) else list(citizens)
    for c in items:
        name = getattr(c, "name", None) or getattr(c, "display_name", "")
        if str(name).lower().startswith("eva"):
            return str(name), str(c.bsn)
    first = items[0]
    return str(getattr(first, "name", "burger")), str(first.bsn)


def _start_sandbox(host: str, seed: int) -> Any:
    try:  # a dev/test package: in the work tree (editable install) or from loket[sandbox]
        from adapters.sandbox.runner import start_sandbox
    except ImportError as e:
        raise ConfigurationError("loket demo needs the sandbox agencies: pip install 'loket[sandbox]', "
                                 "or `pip install -e .` in a clone of the repository") from e
    return start_sandbox(host=host, seed=seed)


def prepare_demo(*, host: str, port: int, data_dir: Path, seed: int = 1) -> DemoSetup:
    sandbox = _start_sandbox(host, seed)
    base_url = f"http://{host}:{port}"
    settings = Settings(
        demo=True,
        dev_issuer=True,
        data_dir=data_dir,
        agency_urls=sandbox.agency_urls,
        jwt_issuer=f"{base_url}/dev-issuer",
        public_base_url=base_url,
        secure_cookies=False,
        session_secret=None,
    )
    loket = build_loket(settings)
    if loket.settings.session_secret is None:
        loket.extra["session_secret"] = secrets.token_hex(32)
    app = create_app(loket=loket)
    name, bsn = _demo_citizen(sandbox.citizens)
    purpose = next((p for p in PREFERRED_DEMO_PURPOSES if p in loket.known_purposes),
                   sorted(loket.known_purposes)[0])
    # The flow of a real case: Eva asks for help (an aanmelding), the team's coordinator assigns it
    # to the demo casemanager, who then works the case with the printed token.
    trace = TraceContext.from_header(None)
    eva = Principal(sub="burger-demo", role=Role.CITIZEN, name=name, bsn=bsn)
    aanmelding = create_aanmelding(loket, eva, trace, purpose=purpose,
                                   message="Ik ben ziek en kom er niet meer uit met mijn studie en geld.")
    coordinator = Principal(sub=DEMO_COORDINATOR, role=Role.COORDINATOR, name="Demo coördinator", team=DEMO_TEAM)
    case = open_case(loket, coordinator, trace,
                     ground=Ground(type=GroundType.AANMELDING, id=aanmelding.id, casemanager=DEMO_CASEMANAGER))
    assert loket.dev_issuer_key is not None
    token = mint_token(loket.dev_issuer_key, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                       sub=DEMO_CASEMANAGER, role=Role.CASEMANAGER, ttl_s=8 * 3600,
                       name="Demo casemanager", team=DEMO_TEAM)
    return DemoSetup(app=app, loket=loket, sandbox=sandbox, base_url=base_url, token=token,
                     case_id=case.id, purpose=purpose, citizen_name=name, citizen_bsn=bsn,
                     data_dir=data_dir, issuer=settings.jwt_issuer)


def token_hint(setup: DemoSetup) -> str:
    """The `loket token` command that mints a citizen token this demo accepts, run from any
    directory: it names the data dir (the issuer key lives there) and the issuer whenever
    they differ from what `loket token` would use on its own in this environment."""
    defaults = Settings()
    args = ["loket", "token"]
    if setup.data_dir.resolve() != defaults.data_dir.resolve():
        args += ["--data-dir", str(setup.data_dir.resolve())]
    if setup.issuer != defaults.jwt_issuer:
        args += ["--issuer", setup.issuer]
    args += ["--role", "citizen", "--sub", "burger-1", "--bsn", setup.citizen_bsn]
    return shlex.join(args)


def print_demo(setup: DemoSetup) -> None:
    out = Console(highlight=False, soft_wrap=True)
    b = setup.base_url
    out.print("[bold]Loket demo[/bold] — gateway, sandbox agencies and synthetic citizens (all local)\n")
    out.print(f"  API            {b}/v1   (OpenAPI: {b}/openapi.json, docs: {b}/docs)")
    out.print(f"  Citizen pages  {b}/burger   (log in at {b}/burger/inloggen: pick "
              f"{setup.citizen_name} or type a synthetic BSN)")
    out.print(f"  Privacy officer {b}/fg   (log in at {b}/fg/inloggen: pick the FG role)")
    out.print(f"  Accessibility  {b}/toegankelijkheidsverklaring")
    out.print("  Agencies       " + ", ".join(f"{a}={u}" for a, u in sorted(setup.sandbox.agency_urls.items())))
    out.print(f"\nSample case     {setup.case_id}  ({setup.citizen_name}, purpose {setup.purpose})")
    out.print(f"Casemanager token (cm-001, 8 h):\n{setup.token}\n")
    out.print("Try:")
    out.print(f"  export TOKEN={setup.token}")
    out.print(f"  curl -s -H \"Authorization: Bearer $TOKEN\" {b}/v1/cases/{setup.case_id}/dossier")
    out.print(f"\nMore tokens: {token_hint(setup)}   (synthetic BSNs only)")
    out.print("Press Ctrl-C to stop.")
