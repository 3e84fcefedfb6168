"""`loket witness …`: run a C2SP tlog-witness for Loket logs (its own key, its own SQLite state).

    loket witness init --dir W --name witness.example/fg      # key (0600) + state, prints vkey
    loket witness serve --dir W --name witness.example/fg --log <log vkey> [--log <old vkey>@<size>] [--port 8700]

Mounted by gateway/cli.py as ``loket witness``; needs nothing of the gateway.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import NoteVerifier, RetiredKey, TrustedKeys, Verifier
from audit.errors import BadInput
from audit.witness import CosignerKey, Witness, WitnessState, asgi_app

witness_app = typer.Typer(name="witness", help="Run a transparency-log witness (C2SP tlog-witness).",
                          no_args_is_help=True)

KEY_FILE = "witness-key.pem"
STATE_FILE = "witness.db"

DirOpt = Annotated[Path, typer.Option("--dir", help="The witness's directory (key and state).")]
NameOpt = Annotated[str, typer.Option("--name", help="The witness's key name, e.g. witness.example/fg.")]


def _load_key(directory: Path) -> Ed25519PrivateKey:
    path = directory / KEY_FILE
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as e:
        raise typer.BadParameter(f"no usable witness key at {path} (run `loket witness init`)") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise typer.BadParameter(f"{path} is not an Ed25519 key")
    return key


@witness_app.command("init")
def init_cmd(directory: DirOpt, name: NameOpt) -> None:
    """Create the witness key (0600) and state, and print the witness's cosignature vkey."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    WitnessState(directory / STATE_FILE)
    typer.echo(CosignerKey(name, _load_key(directory).public_key()).vkey())


@witness_app.command("vkey")
def vkey_cmd(directory: DirOpt, name: NameOpt) -> None:
    """Print the witness's cosignature vkey (for the logs' witness policies)."""
    typer.echo(CosignerKey(name, _load_key(directory).public_key()).vkey())


def build_witness(directory: Path, name: str, log_vkeys: list[str]) -> Witness:
    """``--log VKEY`` for a log's current key; ``--log VKEY@SIZE`` for a key it retired at tree
    size SIZE, trusted only up to that size (a stolen retired key cannot extend the log)."""
    current: dict[str, NoteVerifier] = {}
    retired: dict[str, list[NoteVerifier | RetiredKey]] = {}
    for given in log_vkeys:
        vkey, at, size = given.partition("@")
        try:
            v = NoteVerifier.from_vkey(vkey)
            if at and not size.isdigit():
                raise ValueError("the retirement size after @ must be a tree size")
        except ValueError as e:
            raise BadInput(f"--log {given[:40]}…: {e}") from e
        if at:
            retired.setdefault(v.name, []).append(RetiredKey(v, int(size)))
        elif v.name in current:  # an earlier key without its size: trusted as before, unbounded
            retired.setdefault(v.name, []).append(current[v.name])
            current[v.name] = v
        else:
            current[v.name] = v
    logs: dict[str, Verifier] = {}
    for origin in current.keys() | retired.keys():
        old = tuple(retired.get(origin, ()))
        cur = current.get(origin)
        logs[origin] = cur if cur is not None and not old else TrustedKeys(cur, old)
    return Witness(name, _load_key(directory), logs, WitnessState(directory / STATE_FILE))


@witness_app.command("serve")
def serve_cmd(
    directory: DirOpt,
    name: NameOpt,
    log: Annotated[list[str], typer.Option("--log", help="A log's verifier key (its origin is the key name); "
                                           "VKEY@SIZE for a key the log retired at SIZE; repeat.")],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8700,
) -> None:
    """Serve POST /add-checkpoint for the given logs."""
    import uvicorn

    try:
        witness = build_witness(directory, name, log)
    except BadInput as e:
        typer.echo(f"error: {e.detail}", err=True)
        raise typer.Exit(2) from e
    origins = ", ".join(sorted({NoteVerifier.from_vkey(v.partition("@")[0]).name for v in log}))
    typer.echo(f"witness {name} ({witness.key.vkey()}) for {origins}", err=True)
    uvicorn.run(asgi_app(witness), host=host, port=port, log_level="warning")


@witness_app.command("latest")
def latest_cmd(
    directory: DirOpt,
    origin: Annotated[str, typer.Option("--origin", help="The log's origin.")],
) -> None:
    """Print the latest checkpoint this witness cosigned for a log (a note for
    `loket audit verify --checkpoint FILE`)."""
    got = WitnessState(directory / STATE_FILE).latest(origin)
    if got is None:
        typer.echo(f"error: this witness has cosigned nothing for {origin}", err=True)
        raise typer.Exit(2)
    typer.echo(got[2], nl=False)
