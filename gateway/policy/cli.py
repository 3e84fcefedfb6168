"""`loket policy ...`: the policy author's verbs, mirroring opa's (issue 4, "Tooling").

Exit codes are those of the one table in gateway/core/errors.py: 0 ok, 1 a check failed (test
failure, replay mismatch, a stored bundle that does not verify), 2 bad input (unparseable JSON,
missing file), 3 configuration (no data dir or database), 4 the engine failed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gateway.core.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    ConfigurationError,
    IntegrityError,
    LoketError,
    PolicyEngineError,
    exit_code_for,
)

policy_app = typer.Typer(no_args_is_help=True, help="Write, test, bundle and replay policies.")

# Rules that carry the reasoning of a decision, reported by `eval --explain`.
EXPLAIN_RULES = (
    "valid_input",
    "purpose_known",
    "request_reasons",
    "break_glass_active",
    "item_status",
)


def _err(message: str) -> Console:
    console = Console(stderr=True, soft_wrap=True)
    console.print(message, markup=False)
    return console


def _read_json_stdin() -> Any:
    raw = sys.stdin.read()
    try:
        return json.loads(raw)
    except ValueError as e:
        _err(f"input is not valid JSON: {e}")
        raise typer.Exit(EXIT_BAD_INPUT) from e


@policy_app.command("test")
def test_cmd(
    coverage: Annotated[
        bool, typer.Option("--coverage", help="Also report line coverage via `opa test`.")
    ] = False,
) -> None:
    """Run the Rego unit tests (test_* rules in *_test.rego) with the embedded engine."""
    from gateway.policy.opa import find_opa_binary
    from gateway.policy.testing import run_tests

    opa_bin = find_opa_binary() if coverage else None
    policies_dir = Path(str(__import__("policies").__path__[0]))
    report = run_tests(opa_bin=opa_bin, policies_dir=policies_dir)
    table = Table(title="Rego tests (embedded regopy)")
    table.add_column("test")
    table.add_column("result")
    table.add_column("ms", justify="right")
    for r in report.results:
        table.add_row(
            r.name, "PASS" if r.passed else f"FAIL {r.error or ''}"[:120], f"{r.duration_ms:.1f}"
        )
    console = Console()
    console.print(table)
    failed = sum(not r.passed for r in report.results)
    console.print(
        f"{len(report.results) - failed}/{len(report.results)} passed; rule coverage "
        f"{report.rule_coverage:.0f}% ({len(report.rules_covered)}/{len(report.rules)} rules)"
    )
    if coverage:
        if report.opa_line_coverage is None:
            console.print("line coverage: n/a (no opa binary)")
        else:
            console.print(f"line coverage (opa test --coverage): {report.opa_line_coverage:.1f}%")
    if not report.passed:
        raise typer.Exit(EXIT_CHECK_FAILED)


@policy_app.command("eval")
def eval_cmd(
    explain: Annotated[
        bool, typer.Option("--explain", help="Name the rules that decided.")
    ] = False,
) -> None:
    """Decision JSON for the policy input JSON on stdin.

    In process: the wasm engine when it is configured (the default), else regopy; `--explain`
    asks regopy for the rules behind the decision too (the compiled module has one entrypoint).
    """
    from gateway.core.settings import Settings
    from gateway.policy import current_bundle
    from gateway.policy.bundle import ENTRYPOINT, store_dir_for
    from gateway.policy.embedded import EmbeddedPolicyEngine
    from gateway.policy.wasm import WasmPolicyEngine
    from gateway.policy.wasm_module import resolve_module

    policy_input = _read_json_stdin()
    if not isinstance(policy_input, dict):
        _err("input must be a JSON object (docs/contracts.md, 'Policy input')")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        settings = Settings()
        bundle = current_bundle(settings)
        if explain or settings.policy_engine != "wasm":
            entrypoints = (
                (ENTRYPOINT,) + tuple(f"loket/{r}" for r in EXPLAIN_RULES) if explain else (ENTRYPOINT,)
            )
            engine: Any = EmbeddedPolicyEngine(bundle, entrypoints=entrypoints)
        else:
            engine = WasmPolicyEngine(resolve_module(bundle, store_dir_for(settings.data_dir)), bundle, instances=1)
        decision = engine.evaluate(policy_input)
        out: dict[str, Any] = decision
        if explain:
            out = {
                "decision": decision,
                "revision": bundle.revision,
                "explain": _explain(engine, policy_input),
            }
    except LoketError as e:
        _err(f"policy engine failed: {e.detail or e}")
        raise typer.Exit(exit_code_for(e)) from e
    typer.echo(json.dumps(out, indent=2, ensure_ascii=False, sort_keys=True))


def _explain(engine: Any, policy_input: dict[str, Any]) -> dict[str, Any]:
    """The values of the rules that carry the reasoning; a rule that is undefined is omitted."""
    hit: dict[str, Any] = {}
    for rule in EXPLAIN_RULES:
        try:
            hit[rule] = engine.query(f"loket/{rule}", policy_input)
        except PolicyEngineError:
            continue  # undefined: not hit
    statuses = hit.get("item_status") or {}
    hit["rules_hit"] = sorted(
        r for r, v in hit.items() if r != "item_status" and v not in (False, [], {}, None)
    ) + sorted({f"status_of -> {s}" for s in statuses.values()})
    return hit


@policy_app.command("bundle")
def bundle_cmd(
    out: Annotated[Path, typer.Option("--out", help="Where to write the bundle tar.gz.")],
    signing_key: Annotated[
        Path | None,
        typer.Option(
            "--signing-key", help="PEM private key (EC P-256 -> ES256, Ed25519 -> EdDSA)."
        ),
    ] = None,
    key_id: Annotated[str, typer.Option("--key-id")] = "loket-policy",
) -> None:
    """Write the OPA bundle (manifest with content revision and roots, Rego, data.json)."""
    from gateway.policy.bundle import build_bundle

    try:
        pem = signing_key.read_bytes() if signing_key is not None else None
    except OSError as e:
        _err(f"cannot read signing key: {e}")
        raise typer.Exit(EXIT_BAD_INPUT) from e
    try:
        bundle = build_bundle(signing_key_pem=pem, key_id=key_id)
    except ValueError as e:
        _err(f"cannot sign the bundle: {e}")
        raise typer.Exit(EXIT_BAD_INPUT) from e
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bundle.raw)
    typer.echo(json.dumps({"path": str(out), "revision": bundle.revision, "signed": bundle.signed}))


@policy_app.command("wasm")
def wasm_cmd(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Directory for policy.wasm and policy.wasm.json (default: policies/build)."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 unless the shipped module is byte-identical to a fresh build."),
    ] = False,
) -> None:
    """Compile the bundle to WebAssembly with the pinned OPA (`opa build -t wasm -e loket/decision`)."""
    from gateway.policy.bundle import build_bundle
    from gateway.policy.wasm_module import build_module, read_module_dir, shipped_dir, write_module_dir

    target = out if out is not None else Path(str(shipped_dir()))
    try:
        bundle = build_bundle()
        module = build_module(bundle)
    except LoketError as e:
        _err(f"cannot build the wasm module: {e.detail or e}")
        raise typer.Exit(exit_code_for(e)) from e
    report = {"dir": str(target), "revision": module.revision, "wasm_sha256": module.sha256}
    if check:
        try:
            shipped = read_module_dir(target)
        except IntegrityError as e:
            shipped, report["error"] = None, e.detail
        identical = shipped is not None and shipped.wasm == module.wasm and shipped.meta() == module.meta()
        typer.echo(json.dumps({**report, "identical": identical}))
        if not identical:
            raise typer.Exit(EXIT_CHECK_FAILED)
        return
    write_module_dir(target, module)
    typer.echo(json.dumps(report))


_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
DOSSIER_ENTRYPOINT = "data.loket.decision"
#: The rules whose decisions are logged (gateway/dossier, workspace/request_policy, representation/policy).
REPLAYABLE = (DOSSIER_ENTRYPOINT, "data.loket.agency_request.decision", "data.loket.representation.decision")


def _replay_one(settings: Any, decision_id: str | None, revision: str, policy_input: Any,
                logged: Any, entrypoint: str = DOSSIER_ENTRYPOINT) -> dict[str, Any]:
    """Re-evaluate one logged decision against its own revision, with the rule that made it
    (``entrypoint``, as the ADL record names it: the dossier's, an agency request's, a
    representation's); raise typer.Exit on a bundle or engine failure. ``identical`` is None
    for a logged engine error (nothing to compare)."""
    from gateway.policy.bundle import load_stored_bundle, store_dir_for

    try:
        bundle = load_stored_bundle(store_dir_for(settings.data_dir), revision)
    except (FileNotFoundError, ValueError) as e:
        _err(f"the bundle for revision {revision} is not in the store: {e}")
        raise typer.Exit(EXIT_BAD_INPUT) from e
    except IntegrityError as e:
        _err(f"the stored bundle does not verify: {e.detail}")
        raise typer.Exit(exit_code_for(e)) from e
    if entrypoint not in REPLAYABLE:
        _err(f"cannot replay a decision of {entrypoint}")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        if entrypoint == DOSSIER_ENTRYPOINT:
            engine_name, engine = _replay_engine(bundle, store_dir_for(settings.data_dir))
            replayed = engine.evaluate(policy_input)
        else:  # the other rules are decided by regopy over the same bundle, as in the gateway
            from gateway.policy.embedded import EmbeddedPolicyEngine

            rule = entrypoint.removeprefix("data.").replace(".", "/")
            engine_name = "embedded"
            replayed = EmbeddedPolicyEngine(bundle, entrypoints=(rule,)).query(rule, policy_input)
    except IntegrityError as e:
        _err(f"the stored policy.wasm does not verify: {e.detail}")
        raise typer.Exit(exit_code_for(e)) from e
    except PolicyEngineError as e:
        _err(f"policy engine failed: {e.detail}")
        raise typer.Exit(exit_code_for(e)) from e
    head = {"decision_id": decision_id, "revision": revision, "engine": engine_name, "entrypoint": entrypoint}
    if isinstance(logged, dict) and set(logged) == {"error"}:
        # The engine failed when this decision was made (ADL outcome "error"): show what the
        # rules say now; there is no logged answer to compare with.
        return {**head, "identical": None, "logged_error": logged["error"], "replayed": replayed}
    identical = replayed == logged  # compared as parsed JSON, never as text
    return {**head, "identical": identical, **({} if identical else {"logged": logged, "replayed": replayed})}


@policy_app.command("replay")
def replay_cmd(
    decision_id: Annotated[
        str | None,
        typer.Argument(help="A logged decision id, or a trace id (32 hex) to replay every "
                            "decision of that trace."),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="A logged decision as JSON: decision_id, policy_revision, input, result "
                 "(and entrypoint, default data.loket.decision).",
        ),
    ] = None,
) -> None:
    """Re-evaluate logged decisions against the revision that made them; exit 1 if one differs."""
    from gateway.core.settings import Settings

    settings = Settings()
    if not settings.data_dir.is_dir():
        # The bundles that decided (and, by default, the decision log) live there.
        e = ConfigurationError(f"no data dir at {settings.data_dir}: set LOKET_DATA_DIR to the gateway's")
        _err(f"error: {e.detail}")
        raise typer.Exit(exit_code_for(e))
    trace_id: str | None = None
    if from_file is not None:
        try:
            record = json.loads(from_file.read_text("utf-8"))
            revision, policy_input, logged = (
                record["policy_revision"],
                record["input"],
                record["result"],
            )
            decision_id = record.get("decision_id", decision_id)
            entrypoint = str(record.get("entrypoint") or DOSSIER_ENTRYPOINT)
        except (OSError, ValueError, KeyError, TypeError) as e:
            _err(f"cannot read the logged decision from {from_file}: {e}")
            raise typer.Exit(EXIT_BAD_INPUT) from e
        results = [_replay_one(settings, decision_id, revision, policy_input, logged, entrypoint)]
    elif decision_id is not None and _TRACE_ID.match(decision_id):
        from gateway.dossier.decision_log import entrypoint_of, load_decisions_in_trace

        trace_id = decision_id
        try:
            found = load_decisions_in_trace(settings, trace_id)
        except LoketError as e:
            _err(f"error: {e.detail or e}")
            raise typer.Exit(exit_code_for(e)) from e
        if not found:
            _err(f"no logged decision in trace {trace_id}")
            raise typer.Exit(EXIT_BAD_INPUT)
        results = [_replay_one(settings, d.decision_id, d.policy_revision, d.input, d.result, entrypoint_of(d))
                   for d in found]
    elif decision_id is not None:
        from gateway.dossier.decision_log import entrypoint_of, load_logged_decision

        try:
            logged_decision = load_logged_decision(settings, decision_id)
        except LoketError as e:
            _err(f"no logged decision {decision_id}: {e.detail or e}")
            raise typer.Exit(exit_code_for(e)) from e
        results = [_replay_one(settings, decision_id, logged_decision.policy_revision,
                               logged_decision.input, logged_decision.result, entrypoint_of(logged_decision))]
    else:
        _err("give a decision id, a trace id or --from-file")
        raise typer.Exit(EXIT_BAD_INPUT)
    identical = all(r["identical"] is not False for r in results)
    body: dict[str, Any] = (results[0] if trace_id is None
                            else {"trace_id": trace_id, "identical": identical, "decisions": results})
    typer.echo(json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True))
    if not identical:
        raise typer.Exit(EXIT_CHECK_FAILED)


@policy_app.command("adl-export")
def adl_export_cmd(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write.")],
) -> None:
    """Export the Authorization Decision Log: one ADL record per logged decision, oldest first."""
    from gateway.core.db import open_existing_database, session_factory
    from gateway.core.models import LoggedDecisionRow
    from gateway.core.settings import Settings
    from gateway.dossier.decision_log import adl_of, iter_decisions

    settings = Settings()
    try:
        engine = open_existing_database(settings.resolved_database_url(),
                                        tables=[LoggedDecisionRow.__tablename__])
    except LoketError as e:
        _err(f"error: {e.detail or e}")
        raise typer.Exit(exit_code_for(e)) from e
    count = 0
    try:
        with session_factory(engine)() as session, out.open("wb") as f:
            for logged in iter_decisions(session):
                f.write(json.dumps(adl_of(logged), sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode("utf-8") + b"\n")
                count += 1
    finally:
        engine.dispose()
    typer.echo(json.dumps({"path": str(out), "records": count}))


def _replay_engine(bundle: Any, store_dir: Path) -> tuple[str, Any]:
    """OPA's compiled module of that revision if one is filed or shipped, else regopy.

    Never a module of another revision (WasmModule.check_for); building one would need the pinned
    OPA, which replay does not require.
    """
    from gateway.policy.embedded import EmbeddedPolicyEngine
    from gateway.policy.wasm import WasmPolicyEngine
    from gateway.policy.wasm_module import shipped_module, stored_module

    for module in (stored_module(store_dir, bundle.revision), shipped_module()):
        if module is not None and module.revision == bundle.revision:
            return "wasm", WasmPolicyEngine(module, bundle, instances=1)
    return "embedded", EmbeddedPolicyEngine(bundle)


@policy_app.command("purposes")
def purposes_cmd(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="A Markdown table for the README.")
    ] = False,
) -> None:
    """The purposes, with per agency/category the legal basis or consent and the fields."""
    from gateway.policy import load_policy_data

    data = load_policy_data()
    rows = purpose_rows(data)
    if markdown:
        typer.echo("| purpose | label | agency/category | basis | fields |")
        typer.echo("|---|---|---|---|---|")
        for r in rows:
            typer.echo("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        return
    table = Table(title="Loket purposes")
    for col in ("purpose", "label", "agency/category", "basis", "fields"):
        table.add_column(col)
    for r in rows:
        table.add_row(*r)
    Console(width=200).print(table)


def purpose_rows(data: Any) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    for pid in sorted(data.raw_purposes):
        p = data.raw_purposes[pid]
        bg = p.get("break_glass", {}).get("scope", {})
        first = True
        for agency in sorted(p["scope"]):
            for cat in sorted(p["scope"][agency]):
                item = p["scope"][agency][cat]
                basis_id = item.get("basis")
                if basis_id:
                    lb = data.legal_bases[basis_id]
                    basis = lb["citation"] + ("" if lb["verified"] else " (controleren)")
                else:
                    basis = "toestemming"
                if cat in bg.get(agency, {}):
                    basis += "; noodtoegang: " + ", ".join(bg[agency][cat]["fields"])
                rows.append(
                    (
                        pid if first else "",
                        p["label_nl"] if first else "",
                        f"{agency}/{cat}",
                        basis,
                        ", ".join(item["fields"]),
                    )
                )
                first = False
    return rows
