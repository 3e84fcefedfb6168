"""The `loket` command. Errors become exit codes through the one table in gateway/core/errors.py
(``OUTCOMES``): 0 ok, 1 a check failed (e.g. tampering), 2 bad input or usage, 3 configuration
(a missing data dir, database or key), 4 a dependency unavailable. Every failure is one line on
stderr, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from gateway.core.errors import (
    EXIT_BAD_INPUT,
    EXIT_UNAVAILABLE,
    BadInput,
    ConfigurationError,
    LoketError,
    exit_code_for,
)
from gateway.core.settings import Settings
from gateway.identity.auth import DEMO_TEAM

app = typer.Typer(name="loket", help="Loket — privacy-preserving 1 Loket data-sharing gateway.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
sessions_app = typer.Typer(help="Page sessions of the citizen and FG pages.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")
err = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrapped at 80 columns

try:  # the policy tooling (gateway/policy/cli.py)
    from gateway.policy.cli import policy_app

    app.add_typer(policy_app, name="policy", help="Write, test, bundle and replay policies.")
except ImportError:  # pragma: no cover
    pass
try:  # the audit tooling (audit/cli.py)
    from audit.cli import audit_app, use_log_source
    from gateway.core.audit_source import SettingsLogSource

    use_log_source(SettingsLogSource())
    app.add_typer(audit_app, name="audit", help="Verify, export and prove the audit log.")
    from audit.witness_cli import witness_app

    app.add_typer(witness_app, name="witness", help="Run a witness for Loket audit logs (C2SP tlog-witness).")
except ImportError:  # pragma: no cover
    pass

@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the configured database to the newest schema (creating the SQLite file)."""
    from gateway.core.migrate import upgrade

    s = Settings()
    if not s.database_url:
        s.data_dir.mkdir(parents=True, exist_ok=True)
    elif not s.database_url.startswith("sqlite"):
        from gateway.core.db import open_existing_database

        open_existing_database(s.database_url, tables=()).dispose()  # reachable? else one line, exit 3
    upgrade(s.resolved_database_url(), revision)
    err.print(f"database at revision {revision}")


def _page_session_db() -> Any:
    from gateway.core.db import open_existing_database

    return open_existing_database(Settings().resolved_database_url(), tables=["page_sessions"])


@sessions_app.command("revoke")
def sessions_revoke(
    sub: Annotated[str | None, typer.Option(help="end every session of this subject (e.g. fg-001)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="end every page session of everyone")] = False,
) -> None:
    """End page sessions now: their cookies stop working on the next request."""
    from gateway.core.db import session_factory
    from gateway.identity import page_sessions

    if (sub is None) == (not all_):
        raise BadInput("give exactly one of --sub SUBJECT or --all")
    if sub is not None and not sub.strip():
        raise BadInput("--sub must not be empty")
    engine = _page_session_db()
    try:
        factory, now = session_factory(engine), page_sessions.utcnow()
        n = page_sessions.revoke_all(factory, now) if all_ else page_sessions.revoke_subject(factory, str(sub), now)
    finally:
        engine.dispose()
    typer.echo(f"revoked {n} page session(s)" + ("" if all_ else f" of {sub}"))


@sessions_app.command("purge")
def sessions_purge() -> None:
    """Delete revoked, expired and idle-ended page sessions (sign-in does this too)."""
    from gateway.core.db import session_factory
    from gateway.identity import page_sessions
    from gateway.web.session import SESSION_LIMITS

    engine = _page_session_db()
    try:
        n = page_sessions.purge(session_factory(engine), page_sessions.utcnow(), SESSION_LIMITS)
    finally:
        engine.dispose()
    typer.echo(f"purged {n} ended page session(s)")


@app.command()
def token(
    role: Annotated[str, typer.Option(
        help="casemanager | coordinator | citizen | privacy_officer | admin")] = "casemanager",
    sub: Annotated[str, typer.Option(help="subject (user id)")] = "cm-001",
    bsn: Annotated[str | None, typer.Option(help="citizen's BSN (role citizen only)")] = None,
    act_for: Annotated[str | None, typer.Option(
        help="BSN of the person the citizen acts for (a parent, bewindvoerder, mentor, curator, gemachtigde)")] = None,
    kvk: Annotated[str | None, typer.Option(
        help="KvK number of an organisation acting for someone (with --act-for, instead of --bsn)")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    team: Annotated[str | None, typer.Option(
        help=f"team of a casemanager or coordinator (default: the demo team {DEMO_TEAM!r})")] = None,
    ttl: Annotated[int, typer.Option(help="lifetime in seconds")] = 3600,
    data_dir: Annotated[Path | None, typer.Option(
        help="the data dir of the gateway that will accept the token [default: LOKET_DATA_DIR or .loket]")] = None,
    issuer: Annotated[str | None, typer.Option(
        help="its issuer, e.g. http://127.0.0.1:8123/dev-issuer [default: LOKET_JWT_ISSUER]")] = None,
) -> None:
    """Print a DEVELOPMENT bearer token signed by the built-in issuer of a local gateway."""
    from gateway.core.context import dev_issuer_key_path
    from gateway.core.keys import load_ed25519
    from gateway.identity.auth import TEAM_ROLES, Role, mint_token
    from gateway.identity.bsn import require_valid_bsn

    try:
        role_v = Role(role)
    except ValueError as e:
        raise BadInput(f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}") from e
    if role_v is Role.CITIZEN:
        if act_for is not None:
            require_valid_bsn(act_for)
        if kvk is not None:
            if bsn is not None or act_for is None or not (len(kvk) == 8 and kvk.isdigit()):
                raise BadInput("--kvk is eight digits, with --act-for and without --bsn")
        elif bsn is None:
            raise BadInput("a citizen token needs --bsn")
        else:
            require_valid_bsn(bsn)
    elif bsn is not None or act_for is not None or kvk is not None:
        raise BadInput("--bsn, --act-for and --kvk are only for citizen tokens")
    if role_v not in TEAM_ROLES and team is not None:
        raise BadInput("--team is only for casemanager and coordinator tokens")
    s = Settings()
    s = s.model_copy(update={"data_dir": data_dir or s.data_dir, "jwt_issuer": issuer or s.jwt_issuer})
    key_path = dev_issuer_key_path(s)
    if not key_path.is_file():
        # A fresh key here would sign tokens that no running gateway accepts.
        raise ConfigurationError(f"no development issuer key at {key_path}: start `loket demo` first "
                                 "(or pass the --data-dir it printed)")
    key = load_ed25519(key_path)
    typer.echo(mint_token(key, issuer=s.jwt_issuer, audience=s.jwt_audience, sub=sub, role=role_v,
                          ttl_s=ttl, bsn=bsn, name=name, act_for=act_for, kvk=kvk,
                          team=(team or DEMO_TEAM) if role_v in TEAM_ROLES else None))


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Run the gateway with the configured settings (LOKET_* environment)."""
    import uvicorn

    from gateway.core.context import build_loket

    s = Settings()
    build_loket(s).close()  # fail fast on configuration, migrate once before workers start
    _configure_logging(s)
    if workers > 1:
        uvicorn.run("gateway.cli:served_app", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", log_config=None)
    else:
        from gateway.app import create_app

        uvicorn.run(create_app(s), host=host, port=port, log_level="warning", log_config=None)


def _configure_logging(s: Settings) -> None:
    from gateway.core.logs import configure_logging

    configure_logging(level=s.log_level, fmt=s.log_format)


def served_app() -> Any:
    """The app of one `loket serve --workers N` worker process: its own logging, then the app."""
    from gateway.app import create_app

    s = Settings()
    _configure_logging(s)
    return create_app(s)


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: Annotated[Path, typer.Option(help="where keys and the SQLite file go")] = Path(".loket"),
    seed: int = 1,
    run: Annotated[bool, typer.Option(help="serve until Ctrl-C (--no-run: set up, print, exit)")] = True,
) -> None:
    """The main job: gateway + sandbox agencies + synthetic citizens, embedded defaults."""
    from gateway.demo import prepare_demo, print_demo

    setup = prepare_demo(host=host, port=port, data_dir=data_dir, seed=seed)
    print_demo(setup)
    if not run:
        setup.stop()
        return
    import uvicorn

    _configure_logging(setup.loket.settings)
    try:
        uvicorn.run(setup.app, host=host, port=port, log_level="warning", log_config=None)
    finally:
        setup.stop()


def main(argv: list[str] | None = None) -> None:
    try:
        # Without standalone mode click *returns* the code of a typer.Exit instead of exiting.
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except LoketError as e:
        err.print(f"[red]error:[/red] {escape(e.detail or e.code)}", highlight=False)
        sys.exit(exit_code_for(e))
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except OSError as e:  # a file or directory the user named (an --out path, a key file)
        err.print(f"[red]error:[/red] {escape(str(e.strerror or type(e).__name__))}: {escape(str(e.filename or ''))}",
                  highlight=False)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as e:  # click usage errors and the like
        import click

        # typer 0.2x raises the click it vendors (typer._click), whose exceptions are not click's:
        # without this, a usage error (unknown option, no command) ended in a traceback.
        vendored = getattr(getattr(typer, "_click", None), "ClickException", click.ClickException)
        if isinstance(e, (click.ClickException, vendored)):
            e.show()
            sys.exit(EXIT_BAD_INPUT)
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(e, SQLAlchemyError):
            # Only the driver's first line: the full text can carry the statement's parameters.
            reason = str(getattr(e, "orig", None) or type(e).__name__).strip().splitlines()[0]
            err.print(f"[red]error:[/red] the database failed: {escape(reason)}", highlight=False)
            sys.exit(EXIT_UNAVAILABLE)
        raise


