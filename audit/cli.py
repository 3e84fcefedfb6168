"""`loket audit …`: verify, export, pubkey, checkpoint, rotate-key, prove, verify-proof,
prove-complete, verify-complete, witness.

Mounted by gateway/cli.py as ``loket audit``. Settings, engine and keys are built inside each
command, never at import. Exit codes (the same as the gateway's one table in
gateway/core/errors.py, kept equal by tests/gateway/test_error_table.py, since audit/ must not
import the gateway): 0 verified/ok, 1 integrity failure (tampering — the message names the
record index or checkpoint size), 2 bad input or an unreadable file, 4 the log could not be
written. Errors audit/ does not own (the configuration of the program that mounts this app:
a missing database or key) propagate to that program, which maps them with its table.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn, Protocol

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from audit.checkpoint import NoteVerifier, Verifier
from audit.errors import AuditWriteError, BadInput, IntegrityError, LoketError, NotFound
from audit.log import AuditFilter, AuditLog
from audit.record import AuditEventKind, AuditRecord, utc_timestamp
from audit.verify import load_proof_bundle, read_verifiers, verify_export_file, verify_proof_bundle
from audit.witness import WitnessPolicy, parse_policy

audit_app = typer.Typer(name="audit", help="The verifiable audit log.", no_args_is_help=True)

EXIT_INTEGRITY = 1
EXIT_ERROR = 2
EXIT_UNAVAILABLE = 4
# The kinds audit/ raises and their exit codes: equal to gateway/core/errors.py's OUTCOMES.
EXIT_CODES: tuple[tuple[type[LoketError], int], ...] = (
    (IntegrityError, EXIT_INTEGRITY),
    (BadInput, EXIT_ERROR),
    (NotFound, EXIT_ERROR),
    (AuditWriteError, EXIT_UNAVAILABLE),
)


def _stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _fail(err: Exception) -> NoReturn:
    if isinstance(err, IntegrityError):
        _stderr().print(f"[bold red]INTEGRITY FAILURE:[/] {escape(str(err.detail or err))}", highlight=False)
        raise typer.Exit(EXIT_INTEGRITY)
    detail = err.detail if isinstance(err, LoketError) else str(err)
    _stderr().print(f"[red]error:[/] {escape(detail)}", highlight=False)  # a [..] in it is text
    code = next((c for cls, c in EXIT_CODES if isinstance(err, cls)), EXIT_ERROR)
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except typer.Exit:
        raise
    except LoketError as e:
        if not any(isinstance(e, cls) for cls, _ in EXIT_CODES):
            raise  # not audit's own kind: the mounting program's table maps it
        _fail(e)
    except OSError as e:
        _fail(e)


class LogSource(Protocol):
    """Where ``loket audit`` finds the configured log. ``audit/`` knows no settings: the program
    that mounts :data:`audit_app` (gateway/cli.py) registers one with :func:`use_log_source`."""

    def open_log(self, *, require_key: bool) -> AuditLog:
        """The configured audit log (database, signing key if present or required, origin)."""
        ...

    def signing_key_path(self) -> Path:
        """Where the configured signing key lives (``rotate-key`` prints it)."""
        ...

    def retired_vkeys(self) -> list[str]:
        """The configured retired verifier keys (``rotate-key`` prints the new list)."""
        ...

    def export_record(self, fmt: str, selection: dict[str, str | None], *,
                      data_subject: str | None) -> AuditRecord:
        """The ``access_log:exported`` record of an export from the command line (NEN 7513:
        exporting the log is an action), shaped as the API's."""
        ...


_log_source: LogSource | None = None


def use_log_source(source: LogSource) -> None:
    """Register where the commands that read the database find the configured log."""
    global _log_source
    _log_source = source


def log_source() -> LogSource:
    if _log_source is None:
        raise BadInput(
            "no audit log is configured here: run this as `loket audit ...` (the gateway "
            "provides the database and keys), or verify an export file with --pubkey"
        )
    return _log_source


def open_log_from_settings(*, require_key: bool) -> AuditLog:
    """The configured audit log (through the registered :class:`LogSource`)."""
    return log_source().open_log(require_key=require_key)


def _verifier(pubkey: list[str] | None, log: AuditLog | None = None) -> Verifier:
    if pubkey:
        return read_verifiers(pubkey)
    if log is None:
        log = open_log_from_settings(require_key=False)
    if log.verifier is None:
        raise BadInput("no --pubkey given and no local signing key configured")
    return log.verifier


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_stderr(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def _time(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as e:
        raise BadInput(
            f"--{name} must be an ISO 8601 date or time, e.g. 2026-11-25T10:00:00+01:00"
        ) from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return utc_timestamp(dt)


PubkeyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--pubkey",
        help="Verifier key (C2SP vkey) or a file holding it; repeat it to also trust retired keys.",
    ),
]


def _hex_key(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        key = bytes.fromhex(value.strip())
    except ValueError as e:
        raise BadInput("--subject-map-key must be hex") from e
    if len(key) < 32:
        raise BadInput("--subject-map-key must be at least 32 bytes")
    return key


def _read_policy(path: Path) -> WitnessPolicy:
    try:
        return parse_policy(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise BadInput(f"cannot read witness policy {path}: {e.strerror}") from e


def _check_quorum(policy: WitnessPolicy, trusted: list[str], export_file: Path | None, size: int) -> str:
    """Every checkpoint given with --checkpoint must carry the quorum, and so must at least one
    of the log's own; say up to which size the log is witnessed."""
    check_given_quorum(policy, trusted)
    if export_file is not None:
        notes = _export_notes(export_file)
    else:
        notes = open_log_from_settings(require_key=False).checkpoints()
    witnessed = None
    for note in notes:
        if len(policy.cosigners(note)) >= policy.quorum:
            witnessed = note
    if witnessed is None:
        raise IntegrityError(
            f"no checkpoint of this log carries the policy's quorum of {policy.quorum} witness "
            "cosignatures: nothing outside the log vouches for it"
        )
    wsize = int(witnessed.split("\n", 2)[1])
    names = ", ".join(policy.cosigners(witnessed))
    if wsize < size:
        return f"witnessed up to tree size {wsize} by {names} (records {wsize}..{size - 1} not yet)"
    return f"witnessed at tree size {wsize} by {names}"


def check_given_quorum(policy: WitnessPolicy, notes: list[str]) -> None:
    """Notes of the same checkpoint (each witness hands out its own cosigned copy, `loket
    witness latest`) pool their cosignatures; a witness counts once however often its note or
    line is given. Raise IntegrityError for a checkpoint short of the quorum."""
    pooled: dict[str, set[str]] = {}
    for note in notes:
        body = note.rpartition("\n\n")[0]
        pooled.setdefault(body, set()).update(policy.cosigners(note))
    for body, names in pooled.items():
        if len(names) < policy.quorum:
            size = body.split("\n", 2)[1] if body.count("\n") >= 2 else "?"
            raise IntegrityError(
                f"checkpoint at tree size {size} has {len(names)} of the {policy.quorum} witness "
                f"cosignatures the policy requires ({', '.join(sorted(names)) or 'none'}): "
                "it is not accepted as verified"
            )


def _export_notes(path: Path) -> list[str]:
    with path.open("rb") as f:
        header = json.loads(f.readline())
        return [json.loads(f.readline())["checkpoint"] for _ in range(int(header["checkpoints"]))]


@audit_app.command("verify")
def verify_cmd(
    export_file: Annotated[
        Path | None, typer.Argument(help="A full export; without it, the configured database.")
    ] = None,
    pubkey: PubkeyOpt = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A trusted checkpoint note obtained elsewhere."),
    ] = None,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also decode and validate every record.")
    ] = False,
    subject_map_key: Annotated[
        str | None,
        typer.Option("--subject-map-key", help="Export only: the log's subject map key (hex), "
                     "to check each checkpoint's per-subject map root (ADR 0005)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="A witness policy: accept checkpoints only with its quorum "
                     "of witness cosignatures."),
    ] = None,
) -> None:
    """Verify the log: every leaf, every checkpoint signature and root, and (on the database)
    every index column and cached subtree hash; exit 1 on tampering, naming what changed."""
    with _errors():
        trusted = [p.read_text(encoding="utf-8") for p in checkpoint or []]
        if export_file is not None:
            verifier = _verifier(pubkey)
            with _progress("verifying", None) as progress:
                report = verify_export_file(
                    str(export_file),
                    verifier,
                    trusted_checkpoints=trusted,
                    deep=deep,
                    progress=progress,
                    subject_map_key=_hex_key(subject_map_key),
                )
        else:
            log = open_log_from_settings(require_key=False)
            verifier = _verifier(pubkey, log)
            with _progress("verifying", log.head().tree_size) as progress:
                report = log.verify(
                    verifier, progress=progress, trusted_checkpoints=trusted, deep=deep
                )
        witnessed = ""
        if policy is not None:
            witnessed = "; " + _check_quorum(_read_policy(policy), trusted, export_file, report.tree_size)
        typer.echo(
            f"OK: {report.tree_size} records, {report.checkpoints_verified} signed checkpoints verified{witnessed} "
            f"(origin {report.origin}); root {base64.b64encode(report.root_hash).decode()}; "
            f"{report.records_per_s:,.0f} records/s"
        )


@audit_app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="jsonl, csv, or logboek (Logboek Dataverwerkingen 0.8 lines)."),
    ] = "jsonl",
    since: Annotated[
        str | None, typer.Option(help="From this time (inclusive, ISO 8601; UTC if no offset).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Until this time (exclusive).")] = None,
    actor: Annotated[str | None, typer.Option(help="Casemanager (actor sub).")] = None,
    purpose: Annotated[str | None, typer.Option()] = None,
    pseudonym: Annotated[str | None, typer.Option(help="Data subject pseudonym (64 hex).")] = None,
    kind: Annotated[AuditEventKind | None, typer.Option()] = None,
    case: Annotated[str | None, typer.Option("--case")] = None,
    break_glass: Annotated[bool | None, typer.Option("--break-glass/--no-break-glass")] = None,
) -> None:
    """Export records as JSONL (verifiable when unfiltered), CSV or Logboek lines, with filters."""
    from audit.export import write_csv, write_full_export, write_jsonl
    from audit.logboek import write_logboek_jsonl

    with _errors():
        if fmt not in ("jsonl", "csv", "logboek"):
            raise BadInput("--format must be jsonl, csv or logboek")
        flt = AuditFilter(
            since=_time(since, "since"),
            until=_time(until, "until"),
            actor_sub=actor,
            purpose=purpose,
            data_subject_id=pseudonym,
            kind=kind,
            break_glass=break_glass,
            case_id=case,
        )
        log = open_log_from_settings(require_key=False)
        full = fmt == "jsonl" and flt.is_empty()
        if full and log.verifier is not None:
            log.checkpoint(force=True)  # cover the newest records
        latest = log.latest_checkpoint()
        # As the API's export: the export is logged before any record leaves, and it ends where
        # the log stood before that, so it never contains its own record.
        stop = (latest.tree_size if latest else 0) if full else log.head().tree_size
        selection = {"since": since, "until": until, "casemanager": actor, "purpose": purpose,
                     "kind": kind.value if kind else None, "case": case,
                     "break_glass": None if break_glass is None else str(break_glass).lower()}
        log.append(log_source().export_record(fmt, selection, data_subject=pseudonym))
        if fmt == "logboek":
            with out.open("wb") as f, _progress("exporting", log.count(flt, stop=stop)) as p:
                n = write_logboek_jsonl(log, f, flt, progress=p, stop=stop)
            typer.echo(f"wrote {n} Logboek Dataverwerkingen lines to {out}")
            return
        if full:
            with out.open("wb") as f, _progress("exporting", stop) as p:
                summary = write_full_export(log, f, progress=p, stop=stop)
        elif fmt == "jsonl":
            with out.open("wb") as f, _progress("exporting", log.count(flt)) as p:
                summary = write_jsonl(log, f, flt, progress=p, stop=stop)
        else:
            with (
                out.open("w", encoding="utf-8", newline="") as t,
                _progress("exporting", log.count(flt)) as p,
            ):
                summary = write_csv(log, t, flt, progress=p, stop=stop)
        kind_text = "full, verifiable" if summary.complete else "filtered"
        typer.echo(f"wrote {summary.records} records ({kind_text}) to {out}")


@audit_app.command("pubkey")
def pubkey_cmd() -> None:
    """Print the log's verifier key (C2SP vkey) for publishing."""
    with _errors():
        typer.echo(open_log_from_settings(require_key=True).vkey())


@audit_app.command("checkpoint")
def checkpoint_cmd() -> None:
    """Sign a checkpoint for the current tree (if it grew) and print it."""
    with _errors():
        signed = open_log_from_settings(require_key=True).checkpoint(force=True)
        sys.stdout.write(signed.note)


def _write_new_key(path: Path, key: Ed25519PrivateKey) -> Path:
    """Write ``key`` (PEM, mode 0600) to a fresh temporary file beside ``path``; the caller
    moves it into place once the transition checkpoint is committed."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _install_key(tmp: Path, path: Path, *, force: bool) -> None:
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if the path exists: never replaces a key file unasked
    finally:
        tmp.unlink(missing_ok=True)


@audit_app.command("rotate-key")
def rotate_key_cmd(
    new_key: Annotated[
        Path, typer.Option("--new-key", help="Where to write the new Ed25519 signing key (PEM, 0600).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the file at --new-key if it exists.")
    ] = False,
) -> None:
    """Rotate the checkpoint signing key: write a new key, sign a transition checkpoint with
    the old and the new key, and print the old verifier key to add to the retired keys."""
    with _errors():
        if new_key.exists() and not force:
            raise BadInput(f"{new_key} already exists; refusing to overwrite a key file (use --force)")
        if new_key.is_dir():
            raise BadInput(f"{new_key} is a directory")
        if not new_key.parent.is_dir():
            raise BadInput(f"directory {new_key.parent} does not exist")
        source = log_source()
        log = source.open_log(require_key=True)
        assert log.verifier is not None and log.verifier.current is not None
        old = log.verifier.current
        key = Ed25519PrivateKey.generate()
        new = NoteVerifier.for_private_key(log.key_name, key)
        tmp = _write_new_key(new_key, key)
        try:
            signed = log.rotate_key(key)
        except BaseException:
            tmp.unlink(missing_ok=True)  # no transition was signed: the new key must not exist
            raise
        try:
            _install_key(tmp, new_key, force=force)
        except OSError as e:
            raise BadInput(
                f"the transition checkpoint is signed, but the new key could not be written to "
                f"{new_key} ({e.strerror}); it is at {tmp}: move it there yourself"
            ) from e
        retired = [*source.retired_vkeys(), old.vkey()]
        typer.echo(f"wrote the new signing key to {new_key} (mode 0600), key id {new.key_id.hex()}")
        typer.echo(
            f"signed transition checkpoint at tree size {signed.tree_size} with the old key "
            f"(key id {old.key_id.hex()}) and the new key (key id {new.key_id.hex()})"
        )
        typer.echo("")
        typer.echo("retired verifier key (add it to LOKET_RETIRED_AUDIT_VKEYS):")
        typer.echo(f"  {old.vkey()}")
        typer.echo("new verifier key (published at /.well-known/loket-audit-key after the restart):")
        typer.echo(f"  {new.vkey()}")
        typer.echo("")
        typer.echo("next, for every gateway process:")
        typer.echo(f"  LOKET_SIGNING_KEY_PATH={new_key.resolve()}")
        typer.echo(f"  LOKET_RETIRED_AUDIT_VKEYS='{json.dumps(retired)}'")
        old_path = source.signing_key_path()
        if new_key.resolve() != old_path.resolve():
            typer.echo(f"then restart them; keep the old key file {old_path} offline or destroy it")
        else:
            typer.echo("then restart them (the old key file was replaced)")


@audit_app.command("prove")
def prove_cmd(
    index: Annotated[int, typer.Argument(help="Leaf index of the record.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the proof bundle (JSON).")],
) -> None:
    """Write a single-record proof bundle: record + inclusion proof + signed checkpoint."""
    from audit.export import proof_bundle

    with _errors():
        bundle = proof_bundle(open_log_from_settings(require_key=False), index)
        out.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        typer.echo(f"wrote proof of record {index} in tree size {bundle['tree_size']} to {out}")


@audit_app.command("verify-proof")
def verify_proof_cmd(
    file: Annotated[Path, typer.Argument(help="A proof bundle from `loket audit prove`.")],
    pubkey: PubkeyOpt = None,
) -> None:
    """Verify a single-record proof bundle offline; exit 1 if it does not verify."""
    with _errors():
        verifier = _verifier(pubkey)
        report = verify_proof_bundle(load_proof_bundle(file.read_bytes()), verifier)
        r = report.record
        typer.echo(
            f"OK: record {report.index} ({r.kind.value}, {r.start_time}, actor {r.actor_sub}) is in the log "
            f"{report.checkpoint.origin} at tree size {report.checkpoint.tree_size}"
        )


@audit_app.command("prove-complete")
def prove_complete_cmd(
    pseudonym: Annotated[str, typer.Argument(help="The data subject's pseudonym (64 hex).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the completeness bundle (JSON).")],
    tree_size: Annotated[
        int | None, typer.Option("--tree-size", help="A signed checkpoint's size (default: latest).")
    ] = None,
) -> None:
    """Write a completeness bundle: all records about one data subject up to a checkpoint,
    with one proof from the signed subject map (ADR 0005)."""
    from audit.export import completeness_bundle

    with _errors():
        bundle = completeness_bundle(
            open_log_from_settings(require_key=False), pseudonym, tree_size=tree_size
        )
        out.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        typer.echo(
            f"wrote {len(bundle['records'])} records and the completeness proof at tree size "
            f"{bundle['tree_size']} to {out}"
        )


@audit_app.command("verify-complete")
def verify_complete_cmd(
    file: Annotated[Path, typer.Argument(help="A bundle from `loket audit prove-complete`.")],
    pubkey: PubkeyOpt = None,
) -> None:
    """Verify offline that a completeness bundle holds every record about its data subject up
    to its signed checkpoint; exit 1 if a record was hidden, added or changed."""
    from audit.verify import MAX_COMPLETENESS_BUNDLE_BYTES, verify_completeness_bundle

    with _errors():
        verifier = _verifier(pubkey)
        data = file.read_bytes()
        if len(data) > MAX_COMPLETENESS_BUNDLE_BYTES:
            raise BadInput("completeness bundle too large")
        try:
            bundle = json.loads(data)
        except ValueError as e:
            raise IntegrityError("completeness bundle is not JSON") from e
        if not isinstance(bundle, dict):
            raise IntegrityError("completeness bundle is not a JSON object")
        report = verify_completeness_bundle(bundle, verifier)
        size = report.checkpoint.tree_size
        if report.absence_checked:
            typer.echo(
                f"OK: these {len(report.records)} records are all the records about this data "
                f"subject in the log {report.checkpoint.origin} up to tree size {size}"
            )
        else:
            typer.echo(
                f"OK: the log {report.checkpoint.origin} signed that it holds no records about "
                f"this data subject up to tree size {size} (an empty list rests on the log's "
                "keyed index; an auditor's full verification checks it)"
            )


@audit_app.command("witness")
def witness_cmd(
    policy: Annotated[Path, typer.Option("--policy", help="The witness policy (witnesses and their URLs).")],
) -> None:
    """Submit the latest checkpoint to the policy's witnesses and publish their cosignatures;
    exit 1 if a witness refused it as inconsistent with what it saw (an alert)."""
    from audit.witnessing import witness_latest

    with _errors():
        results = witness_latest(open_log_from_settings(require_key=False), _read_policy(policy))
        for r in results:
            typer.echo(f"{r.witness}: {r.outcome} at tree size {r.tree_size}{': ' + r.detail if r.detail else ''}")
        if any(r.alert for r in results):
            raise IntegrityError("a witness refused the log's checkpoint as inconsistent, or did not "
                                 "cosign it validly (see above)")
