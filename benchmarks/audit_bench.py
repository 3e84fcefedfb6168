"""Audit log benchmark: appends/s (single, concurrent, batched), verify records/s, and proof
sizes and times at 10⁴, 10⁵ and 10⁶ records. Not a test; prints a table and writes JSON to
benchmarks/results/audit_bench.json. Runs in a few minutes on 2 cores.

    python benchmarks/audit_bench.py [--quick]

Appends go to a temporary SQLite file (WAL, synchronous=FULL: every commit is fsynced).
The large trees for proofs are filled through a bulk path (leaf hashes and subtree hashes
inserted directly, as appends would have written them), since building 10⁶ full records
through the append path would only measure the disk.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# --baseline: the same measurements against another revision's audit/ package (extracted by
# git archive into this directory), imported before the worktree's own.
if os.environ.get("LOKET_BENCH_AUDIT_SRC"):
    sys.path.insert(0, os.environ["LOKET_BENCH_AUDIT_SRC"])

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import merkle
from audit.checkpoint import Checkpoint, NoteVerifier, sign_checkpoint
from audit.export import record_line
from audit.log import AuditLog, StoredRecord
from audit.models import metadata, subtree_key
from audit.record import AuditEventKind, AuditRecord, Disclosure, Refusal
from audit.verify import EXPORT_FORMAT, verify_export_file
from gateway.core.db import create_db_engine

ORIGIN = "bench.loket.example/audit"
#: The revision before issues 15 and 17 (the "before" of the targets table).
BASELINE_REV = "e75b4e0"


def make_record(i: int) -> AuditRecord:
    return AuditRecord(
        kind=AuditEventKind.DOSSIER_READ,
        actor_sub=f"cm-{i % 50:03d}",
        actor_role="casemanager",
        outcome="disclosed",
        purpose="schuldhulp_intake",
        case_id=f"case-{i % 997}",
        decision_id=hashlib.sha256(b"d%d" % i).hexdigest()[:32],
        policy_revision="rev-1",
        data_subject_id=hashlib.sha256(b"s%d" % (i % 5000)).hexdigest(),
        disclosed=(
            Disclosure(
                "uwv",
                "inkomen",
                ("inkomen.brutoMaand", "inkomen.periode"),
                "legal_basis",
                "pw_64_1_b",
            ),
            Disclosure(
                "brp",
                "naw",
                ("naam.voornamen", "verblijfplaats.verblijfadres.officieleStraatnaam"),
                "legal_basis",
                "avg_6_1_e",
            ),
        ),
        refused=(Refusal("cak", "eigen_bijdrage", "consent_required"),),
        extra={"seq": f"n{i}"},
    )


def new_log(tmp: str, name: str, key: Ed25519PrivateKey) -> AuditLog:
    engine = create_db_engine(f"sqlite:///{os.path.join(tmp, name)}")
    metadata.create_all(engine)
    return AuditLog(
        engine,
        key,
        origin=ORIGIN,
        key_name=ORIGIN,
        checkpoint_every_records=256,
        checkpoint_every_s=5,
    )


def bench_appends(tmp: str, key: Ed25519PrivateKey, quick: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    n_single = 300 if quick else 1000
    log = new_log(tmp, "single.db", key)
    recs = [make_record(i) for i in range(n_single)]
    t = time.perf_counter()
    for r in recs:
        log.append(r)
    out["append_single_per_s"] = n_single / (time.perf_counter() - t)

    log = new_log(tmp, "threads.db", key)
    threads, per = 8, (50 if quick else 250)
    recs = [make_record(i) for i in range(threads * per)]

    def worker(k: int) -> None:
        for r in recs[k * per : (k + 1) * per]:
            log.append(r)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    t = time.perf_counter()
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    out["append_8_threads_group_commit_per_s"] = threads * per / (time.perf_counter() - t)

    log = new_log(tmp, "batch.db", key)
    n_batch = 5_000 if quick else 30_000
    recs = [make_record(i) for i in range(n_batch)]
    t = time.perf_counter()
    for k in range(0, n_batch, 256):
        log.append_many(recs[k : k + 256])
    out["append_many_256_per_s"] = n_batch / (time.perf_counter() - t)
    return out


def bench_verify(tmp: str, key: Ed25519PrivateKey, n: int) -> dict[str, float]:
    """Verify a full export of ``n`` realistic records (written through the bulk path)."""
    tree = merkle.MemoryTree()
    lines = []
    for i in range(n):
        leaf = make_record(i).to_leaf()
        h = merkle.leaf_hash(leaf)
        tree.append_leaf_hash(h)
        lines.append(record_line(StoredRecord(i, leaf, h)))
    notes = [
        sign_checkpoint(Checkpoint(ORIGIN, s, tree.root(s)), key, ORIGIN).note
        for s in range(256, n + 1, 256)
    ]
    if n % 256:
        notes.append(sign_checkpoint(Checkpoint(ORIGIN, n, tree.root(n)), key, ORIGIN).note)
    header = {
        "format": EXPORT_FORMAT,
        "leaf_format": "loket-audit-v1",
        "origin": ORIGIN,
        "tree_size": n,
        "checkpoints": len(notes),
        "complete": True,
    }
    path = os.path.join(tmp, "export.jsonl")
    with open(path, "wb") as f:
        f.write(json.dumps(header).encode() + b"\n")
        f.writelines(json.dumps({"checkpoint": note}).encode() + b"\n" for note in notes)
        f.writelines(lines)
    size_mb = os.path.getsize(path) / 1e6
    verifier = NoteVerifier.for_private_key(ORIGIN, key)
    t = time.perf_counter()
    report = verify_export_file(path, verifier)  # as `loket audit verify FILE` does
    dt = time.perf_counter() - t
    assert report.tree_size == n
    return {
        "verify_records": n,
        "verify_checkpoints": len(notes),
        "verify_file_mb": size_mb,
        "verify_records_per_s": n / dt,
        "verify_s": dt,
    }


def bulk_db(tmp: str, tree: merkle.MemoryTree, n: int, name: str = "proofs") -> AuditLog:
    """A SQLite log of ``n`` leaves filled directly (tiny placeholder leaves; hashes as appends
    would store them), to time proofs served from the database."""
    path = os.path.join(tmp, f"{name}-{n}.db")
    engine = create_db_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    with con:
        con.executemany(
            "INSERT INTO audit_records (idx, record_id, leaf, leaf_hash, kind, start_time, actor_sub, actor_role,"
            " break_glass, trace_id) VALUES (?, ?, x'00', ?, 'dossier:read', '', '', '', 0, '')",
            ((i, str(i), tree.levels[0][i]) for i in range(n)),
        )
        con.executemany(
            "INSERT INTO audit_subtrees (node, hash) VALUES (?, ?)",
            (
                (subtree_key(lvl, i), h)
                for lvl in range(1, len(tree.levels))
                for i, h in enumerate(tree.levels[lvl][: n >> lvl])
            ),
        )
        frontier = [tree.node(node) for node in merkle.root_plan(n)]
        con.execute(
            "INSERT INTO audit_log_head (id, tree_size, root_hash, frontier, updated_at) VALUES (1, ?, ?, ?, '')",
            (n, tree.root(n), merkle.pack_frontier(frontier)),
        )
    con.close()
    return AuditLog(create_db_engine(f"sqlite:///{path}"), None, origin=ORIGIN, key_name=ORIGIN)


def bench_proofs(tmp: str, sizes: list[int], samples: int) -> list[dict[str, Any]]:
    rng = random.Random(1)
    biggest = max(sizes)
    tree = merkle.MemoryTree()
    t = time.perf_counter()
    sha = hashlib.sha256
    for i in range(biggest):
        tree.append_leaf_hash(sha(b"\x00" + i.to_bytes(8, "big")).digest())
    build_s = time.perf_counter() - t
    rows = []
    for n in sizes:
        root = tree.root(n)
        idx = [rng.randrange(n) for _ in range(samples)]
        olds = [rng.randrange(1, n) for _ in range(samples)]
        t = time.perf_counter()
        proofs = [tree.inclusion_proof(i, n) for i in idx]
        inc_mem = (time.perf_counter() - t) / samples
        t = time.perf_counter()
        for i, p in zip(idx, proofs, strict=False):
            merkle.verify_inclusion(i, n, tree.levels[0][i], p.hashes, root)
        inc_verify = (time.perf_counter() - t) / samples
        t = time.perf_counter()
        cons = [tree.consistency_proof(m, n) for m in olds]
        con_mem = (time.perf_counter() - t) / samples
        t = time.perf_counter()
        for m, c in zip(olds, cons, strict=False):
            merkle.verify_consistency(m, n, tree.root(m), root, c.hashes)
        con_verify_incl_root = (time.perf_counter() - t) / samples
        log = bulk_db(tmp, tree, n)
        t = time.perf_counter()
        for i in idx[:200]:
            log.inclusion_proof(i, n)
        inc_db = (time.perf_counter() - t) / min(samples, 200)
        t = time.perf_counter()
        for m in olds[:200]:
            log.consistency_proof(m, n)
        con_db = (time.perf_counter() - t) / min(samples, 200)
        assert log.inclusion_proof(idx[0], n).hashes == proofs[0].hashes
        log.engine.dispose()
        rows.append(
            {
                "records": n,
                "inclusion_hashes_mean": statistics.mean(len(p.hashes) for p in proofs),
                "inclusion_hashes_max": max(len(p.hashes) for p in proofs),
                "inclusion_bytes_max": 32 * max(len(p.hashes) for p in proofs),
                "consistency_hashes_mean": statistics.mean(len(c.hashes) for c in cons),
                "consistency_hashes_max": max(len(c.hashes) for c in cons),
                "inclusion_gen_memory_us": inc_mem * 1e6,
                "inclusion_gen_sqlite_us": inc_db * 1e6,
                "inclusion_verify_us": inc_verify * 1e6,
                "consistency_gen_memory_us": con_mem * 1e6,
                "consistency_gen_sqlite_us": con_db * 1e6,
                "consistency_verify_us": con_verify_incl_root * 1e6,
            }
        )
    rows[-1]["tree_build_s"] = build_s
    return rows


# --- issue 11: the per-subject index, witnesses, verify with every check -------------------

MAP_KEY = b"\x5a" * 32


def bench_subject_appends(tmp: str, key: Ed25519PrivateKey, quick: bool) -> dict[str, float]:
    """append_many (256 per commit) with a checkpoint every 256 records, without and with the
    per-subject map (built when checkpoints are signed); same records, 4 rounds in alternating
    order; the median of the per-round ratios (a shared machine's noise is larger than the cost)."""
    n = 5_000 if quick else 10_000
    recs = [make_record(i) for i in range(n)]
    rates: dict[str, list[float]] = {"without": [], "with": []}
    ratios = []
    for rnd in range(4):
        order = [("without", None), ("with", MAP_KEY)]
        got: dict[str, float] = {}
        for label, map_key in order if rnd % 2 == 0 else order[::-1]:
            engine = create_db_engine(f"sqlite:///{os.path.join(tmp, f'subj-{label}-{rnd}.db')}")
            metadata.create_all(engine)
            log = AuditLog(engine, key, origin=ORIGIN, key_name=ORIGIN, checkpoint_every_records=256,
                           checkpoint_every_s=3600, subject_map_key=map_key)
            t = time.perf_counter()
            for k in range(0, n, 256):
                log.append_many(recs[k : k + 256])
            got[label] = n / (time.perf_counter() - t)
            rates[label].append(got[label])
            engine.dispose()
        ratios.append(got["with"] / got["without"])
    return {"records": n, "append_many_without_index_per_s": statistics.median(rates["without"]),
            "append_many_with_index_per_s": statistics.median(rates["with"]),
            "with_over_without": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}


def bench_completeness(n: int, subjects_n: int, samples: int = 1000) -> dict[str, float]:
    """The subject map over ``n`` leaves about ``subjects_n`` citizens (in memory, as the log
    keeps it): build, proof generation, offline verification (list + entry + map proof)."""
    from audit import subjects

    sha = hashlib.sha256
    pseudonyms = [sha(b"p%d" % j).hexdigest() for j in range(subjects_n)]
    leaf_hashes = [sha(b"L%d" % i).digest() for i in range(n)]
    index = subjects.SubjectIndex(MAP_KEY)
    t = time.perf_counter()
    for i in range(n):
        index.add(i, pseudonyms[i % subjects_n], leaf_hashes[i])
    m = index.commit()
    build = time.perf_counter() - t
    rng = random.Random(2)
    chosen = [rng.randrange(subjects_n) for _ in range(samples)]
    keys = [index.key_for(pseudonyms[j]) for j in chosen]
    t = time.perf_counter()
    proofs = [m.proof(k) for k in keys]
    gen = (time.perf_counter() - t) / samples
    lists = [[(i, leaf_hashes[i]) for i in range(j, n, subjects_n)] for j in chosen]
    t = time.perf_counter()
    for j, k, p, lst in zip(chosen, keys, proofs, lists, strict=True):
        count, h = subjects.list_hash(lst)
        subjects.verify_map_proof(m.root, k, subjects.entry_hash(k, pseudonyms[j], count, h), p)
    verify = (time.perf_counter() - t) / samples
    depths = [len(p.siblings) for p in proofs]
    return {"records": n, "subjects": subjects_n, "records_per_subject": n / subjects_n,
            "map_build_s": build, "proof_gen_us": gen * 1e6, "proof_verify_us": verify * 1e6,
            "proof_siblings_mean": statistics.mean(depths), "proof_siblings_max": max(depths),
            "proof_bytes_max": 32 * max(depths)}


def bench_witness(tmp: str, key: Ed25519PrivateKey, rounds: int = 200) -> dict[str, float]:
    """add-checkpoint round trips to a witness on loopback (uvicorn, a fresh connection per
    submission as the log's client makes it, fsync'd SQLite state)."""
    import socket

    import uvicorn

    from audit.witness import Witness, WitnessEndpoint, WitnessState, asgi_app, submit

    log = new_log(tmp, "witnessed.db", key)
    log.append_many([make_record(i) for i in range(300)])
    cp = log.checkpoint(force=True)
    witness = Witness("bench.witness/w1", Ed25519PrivateKey.generate(),
                      {ORIGIN: NoteVerifier.for_private_key(ORIGIN, key)},
                      WitnessState(os.path.join(tmp, "witness.db")))
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(asgi_app(witness), host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.01)
    endpoint = WitnessEndpoint(witness.key, f"http://127.0.0.1:{port}")
    proof = lambda a, b: log.consistency_proof(a, b).hashes  # noqa: E731
    try:
        submit(endpoint, cp.note, cp.tree_size, proof, old_size=0)
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            submit(endpoint, cp.note, cp.tree_size, proof, old_size=cp.tree_size)
            times.append(time.perf_counter() - t)
    finally:
        server.should_exit = True
        th.join(5)
    times.sort()
    return {"rounds": rounds, "round_trip_median_ms": 1e3 * times[len(times) // 2],
            "round_trip_p95_ms": 1e3 * times[int(len(times) * 0.95)]}


def bench_db_verify(tmp: str, key: Ed25519PrivateKey, n: int) -> dict[str, float]:
    """`loket audit verify` on the database (leaf hashes, checkpoint roots, every index column,
    every cached subtree, the subject map at every checkpoint) and on a full export of the same
    log, in one run: the ratio is what to read on a shared machine."""
    from audit.export import write_full_export

    engine = create_db_engine(f"sqlite:///{os.path.join(tmp, 'verify-db.db')}")
    metadata.create_all(engine)
    log = AuditLog(engine, key, origin=ORIGIN, key_name=ORIGIN, checkpoint_every_records=256,
                   checkpoint_every_s=3600, subject_map_key=MAP_KEY, max_batch=2048)
    recs = [make_record(i) for i in range(n)]
    for k in range(0, n, 2048):
        log.append_many(recs[k : k + 2048])
    log.checkpoint(force=True)
    path = os.path.join(tmp, "verify-db.jsonl")
    with open(path, "wb") as f:
        write_full_export(log, f)
    best_db = best_export = best_plain = 0.0
    for _ in range(2):
        r = log.verify()
        best_db = max(best_db, r.records_per_s)
        r2 = verify_export_file(path, log.verifier, subject_map_key=MAP_KEY)  # type: ignore[arg-type]
        best_export = max(best_export, r2.records_per_s)
        r3 = verify_export_file(path, log.verifier)  # type: ignore[arg-type]
        best_plain = max(best_plain, r3.records_per_s)
    engine.dispose()
    return {"records": n, "checkpoints": r.checkpoints_verified,
            "db_verify_all_checks_per_s": best_db,
            "export_verify_with_subject_map_per_s": best_export,
            "export_verify_leaves_only_per_s": best_plain,
            "db_over_export_leaves_only": best_db / best_plain}


# --- the targets (issues 11 and 17), before and after in one run ---------------------------

#: (key, what, target, unit, higher is better)
TARGETS: tuple[tuple[str, str, float, str, bool], ...] = (
    ("db_verify_with_index_per_s", "verify database, every check incl. subject map", 300_000, "rec/s", True),
    ("export_verify_per_s", "verify full export (public key: leaves, tree, checkpoints)", 500_000, "rec/s", True),
    ("append_batched_per_s", "append_many, 256 per commit, checkpoint per 256", 15_000, "rec/s", True),
    ("append_index_ratio", "appends with subject index / without", 0.80, "ratio", True),
    ("inclusion_proof_db_ms", "inclusion proof from the database (warm)", 0.2, "ms", False),
    ("completeness_gen_ms", "completeness proof generation (map proof)", 1.0, "ms", False),
    ("completeness_verify_ms", "completeness proof verification (list, entry, map proof)", 0.2, "ms", False),
)


def _cpu_and_wall(fn: Any) -> tuple[Any, float, float]:
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c, time.perf_counter() - w


def target_verify(tmp: str, key: Ed25519PrivateKey, n: int) -> dict[str, float]:
    """A log of ``n`` records appended as the gateway does (256 per commit, a checkpoint with a
    subject map root every 256), verified from the database (every check) and as an export."""
    from audit.export import write_full_export

    engine = create_db_engine(f"sqlite:///{os.path.join(tmp, 'target-verify.db')}")
    metadata.create_all(engine)
    log = AuditLog(engine, key, origin=ORIGIN, key_name=ORIGIN, checkpoint_every_records=256,
                   checkpoint_every_s=3600, subject_map_key=MAP_KEY)
    recs = [make_record(i) for i in range(n)]
    for k in range(0, n, 256):
        log.append_many(recs[k : k + 256])
    log.checkpoint(force=True)
    path = os.path.join(tmp, "target-verify.jsonl")
    with open(path, "wb") as f:
        write_full_export(log, f)
    out: dict[str, float] = {"verify_records": n, "db_verify_with_index_per_s": 0.0, "export_verify_per_s": 0.0,
                             "export_verify_with_index_per_s": 0.0, "db_verify_with_index_cpu_per_s": 0.0}
    assert log.verifier is not None
    for _ in range(2):  # best of two: the machine is shared
        r, cpu, wall = _cpu_and_wall(log.verify)
        out["db_verify_with_index_per_s"] = max(out["db_verify_with_index_per_s"], n / wall)
        out["db_verify_with_index_cpu_per_s"] = max(out["db_verify_with_index_cpu_per_s"], n / cpu)
        _, _, wall = _cpu_and_wall(lambda: verify_export_file(path, log.verifier))
        out["export_verify_per_s"] = max(out["export_verify_per_s"], n / wall)
        _, _, wall = _cpu_and_wall(lambda: verify_export_file(path, log.verifier, subject_map_key=MAP_KEY))
        out["export_verify_with_index_per_s"] = max(out["export_verify_with_index_per_s"], n / wall)
    out["verify_checkpoints"] = r.checkpoints_verified
    engine.dispose()
    return out


def target_appends(tmp: str, key: Ed25519PrivateKey, n: int, rounds: int = 4) -> dict[str, float]:
    """append_many of 256 (one commit each, fsynced) with a checkpoint every 256 records,
    without and with the subject map; same records, alternating order, medians."""
    recs = [make_record(i) for i in range(n)]
    rates: dict[str, list[float]] = {"without": [], "with": []}
    ratios = []
    for rnd in range(rounds):
        order = [("without", None), ("with", MAP_KEY)]
        got: dict[str, float] = {}
        for label, map_key in order if rnd % 2 == 0 else order[::-1]:
            engine = create_db_engine(f"sqlite:///{os.path.join(tmp, f'target-app-{label}-{rnd}.db')}")
            metadata.create_all(engine)
            log = AuditLog(engine, key, origin=ORIGIN, key_name=ORIGIN, checkpoint_every_records=256,
                           checkpoint_every_s=3600, subject_map_key=map_key)

            def run(log: AuditLog = log) -> None:
                for k in range(0, n, 256):
                    log.append_many(recs[k : k + 256])

            _, _, wall = _cpu_and_wall(run)
            got[label] = n / wall
            rates[label].append(got[label])
            engine.dispose()
        ratios.append(got["with"] / got["without"])
    return {"append_records": n, "append_batched_per_s": statistics.median(rates["without"]),
            "append_batched_with_index_per_s": statistics.median(rates["with"]),
            "append_index_ratio": statistics.median(ratios)}


def target_proofs(tmp: str, n: int, samples: int = 1000) -> dict[str, float]:
    """Inclusion proofs for random leaves of an ``n``-leaf log in SQLite (filled through the
    bulk path), served by AuditLog.inclusion_proof: the mean over ``samples`` from a fresh
    log object (cold: empty subtree cache, file pages not yet read), then over ``samples``
    more (warm, as a running gateway serves them; the target figure)."""
    tree = merkle.MemoryTree()
    sha = hashlib.sha256
    for i in range(n):
        tree.append_leaf_hash(sha(b"\x00" + i.to_bytes(8, "big")).digest())
    log = bulk_db(tmp, tree, n, "target-proofs")
    rng = random.Random(3)
    idx = [rng.randrange(n) for _ in range(2 * samples)]
    _, _, cold = _cpu_and_wall(lambda: [log.inclusion_proof(i, n) for i in idx[:samples]])
    _, _, warm = _cpu_and_wall(lambda: [log.inclusion_proof(i, n) for i in idx[samples:]])
    p = log.inclusion_proof(idx[0], n)
    merkle.verify_inclusion(idx[0], n, tree.levels[0][idx[0]], p.hashes, tree.root(n))
    log.engine.dispose()
    return {"proof_records": n, "inclusion_proof_db_ms": 1e3 * warm / samples,
            "inclusion_proof_db_cold_ms": 1e3 * cold / samples}


def measure_targets(tmp: str, key: Ed25519PrivateKey, quick: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    print("  verify …", file=sys.stderr)
    out.update(target_verify(tmp, key, 20_000 if quick else 100_000))
    print("  appends …", file=sys.stderr)
    out.update(target_appends(tmp, key, 5_000 if quick else 10_000))
    print("  proofs …", file=sys.stderr)
    out.update(target_proofs(tmp, 100_000 if quick else 1_000_000))
    print("  completeness …", file=sys.stderr)
    c = bench_completeness(100_000 if quick else 1_000_000, 10_000 if quick else 100_000)
    out.update({"completeness_records": c["records"], "completeness_gen_ms": c["proof_gen_us"] / 1e3,
                "completeness_verify_ms": c["proof_verify_us"] / 1e3})
    return out


def baseline_targets(rev: str, quick: bool) -> dict[str, float] | None:
    """:func:`measure_targets` against ``rev``'s audit/ package, in a subprocess."""
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="loket-bench-base-") as src:
        try:
            archive = subprocess.run(["git", "-C", str(repo), "archive", rev, "audit"], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"no baseline ({rev}): {e}", file=sys.stderr)
            return None
        out_json = os.path.join(src, "targets.json")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--targets-only", "--json", out_json]
        if quick:
            cmd.append("--quick")
        subprocess.run(cmd, check=True, env={**os.environ, "LOKET_BENCH_AUDIT_SRC": src})
        return dict(json.loads(Path(out_json).read_text()))


def _met(value: float, target: float, higher: bool) -> bool:
    return value >= target if higher else value <= target


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ratio":
        return f"{100 * value:.0f} %"
    if unit == "ms":
        return f"{value:.3f} ms"
    return f"{value:,.0f} {unit}"


def print_targets(after: dict[str, float], before: dict[str, float] | None, rev: str) -> None:
    print(f"\nTargets (issues 11, 17): before = {rev}, after = this worktree; same run, same machine "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"  {'figure':<62} {'target':>14} {'before':>14} {'after':>14}  met")
    for key, what, target, unit, higher in TARGETS:
        sign = ">=" if higher else "<="
        b = None if before is None else before.get(key)
        a = after[key]
        print(f"  {what:<62} {sign + ' ' + _fmt(target, unit):>14} {_fmt(b, unit):>14} {_fmt(a, unit):>14}  "
              f"{'met' if _met(a, target, higher) else 'NOT met'}")
    print(f"  (verify: {after['verify_records']:,.0f} records, {after['verify_checkpoints']:,.0f} checkpoints; "
          f"database verify per CPU-second {after['db_verify_with_index_cpu_per_s']:,.0f} rec/s; export with "
          f"subject map {after['export_verify_with_index_per_s']:,.0f} rec/s; proofs at {after['proof_records']:,.0f} "
          f"records, cold {after['inclusion_proof_db_cold_ms']:.3f} ms; appends with the index "
          f"{after['append_batched_with_index_per_s']:,.0f} rec/s; completeness at {after['completeness_records']:,.0f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller runs (10⁴/10⁵ trees only)")
    ap.add_argument("--issue-11", action="store_true",
                    help="only the per-subject index, witness and full-verify benchmarks")
    ap.add_argument("--targets-only", action="store_true", help="only the target figures")
    ap.add_argument("--json", help="write the target figures here (with --targets-only)")
    ap.add_argument("--baseline", default=BASELINE_REV,
                    help=f"revision measured as 'before' (default {BASELINE_REV}; 'none' to skip)")
    args = ap.parse_args()
    if args.issue_11:
        return main_issue_11(args.quick)
    key = Ed25519PrivateKey.generate()
    if args.targets_only:
        with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
            got = measure_targets(tmp, key, args.quick)
        if args.json:
            Path(args.json).write_text(json.dumps(got))
        else:
            print_targets(got, None, "-")
        return None
    before = None
    if args.baseline != "none":
        print(f"targets, before ({args.baseline}) …", file=sys.stderr)
        before = baseline_targets(args.baseline, args.quick)
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "quick": args.quick,
    }
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
        print("appends …", file=sys.stderr)
        results["appends"] = bench_appends(tmp, key, args.quick)
        print("verify …", file=sys.stderr)
        results["verify"] = bench_verify(tmp, key, 20_000 if args.quick else 100_000)
        print("proofs …", file=sys.stderr)
        sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
        results["proofs"] = bench_proofs(tmp, sizes, 1000)
        print("targets, after …", file=sys.stderr)
        results["targets"] = measure_targets(tmp, key, args.quick)
    results["targets_before"] = before
    results["baseline"] = args.baseline

    a, v = results["appends"], results["verify"]
    print("\nAudit log benchmark (SQLite WAL, synchronous=FULL)")
    print(f"  append, one caller             {a['append_single_per_s']:>10,.0f} records/s")
    print(
        f"  append, 8 threads (group commit){a['append_8_threads_group_commit_per_s']:>9,.0f} records/s"
    )
    print(f"  append_many, 256 per commit    {a['append_many_256_per_s']:>10,.0f} records/s")
    print(
        f"  verify export ({v['verify_records']:,} records, {v['verify_file_mb']:.0f} MB, "
        f"{v['verify_checkpoints']} checkpoints) {v['verify_records_per_s']:>10,.0f} records/s"
    )
    print(
        "\n  records  | incl. hashes (max, bytes) | incl. gen mem / sqlite | incl. verify | cons. hashes (max) | cons. gen mem / sqlite | cons. verify"
    )
    for r in results["proofs"]:
        print(
            f"  {r['records']:>8,} | {r['inclusion_hashes_max']:>4} ({r['inclusion_bytes_max']:>4} B)            |"
            f" {r['inclusion_gen_memory_us']:>6.1f} / {r['inclusion_gen_sqlite_us']:>6.1f} µs    |"
            f" {r['inclusion_verify_us']:>7.1f} µs   | {r['consistency_hashes_max']:>4}               |"
            f" {r['consistency_gen_memory_us']:>6.1f} / {r['consistency_gen_sqlite_us']:>6.1f} µs    |"
            f" {r['consistency_verify_us']:>7.1f} µs"
        )
    print_targets(results["targets"], before, args.baseline)
    out_dir = Path(__file__).resolve().parent / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "audit_bench.json").write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out_dir / 'audit_bench.json'}")


def main_issue_11(quick: bool) -> None:
    key = Ed25519PrivateKey.generate()
    res: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "load_avg_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
        print("completeness at 10^6 …", file=sys.stderr)
        res["completeness"] = bench_completeness(100_000 if quick else 1_000_000, 10_000 if quick else 100_000)
        print("appends with / without the subject index …", file=sys.stderr)
        res["subject_appends"] = bench_subject_appends(tmp, key, quick)
        print("witness round trip …", file=sys.stderr)
        res["witness"] = bench_witness(tmp, key)
        print("verify with every check …", file=sys.stderr)
        res["db_verify"] = bench_db_verify(tmp, key, 20_000 if quick else 100_000)
    res["load_avg_after"] = os.getloadavg()
    c, a, w, v = res["completeness"], res["subject_appends"], res["witness"], res["db_verify"]
    print(f"\ncompleteness proof ({c['records']:,} records, {c['subjects']:,} subjects): "
          f"gen {c['proof_gen_us']:.1f} µs, verify {c['proof_verify_us']:.1f} µs "
          f"(~{c['records_per_subject']:.0f} records each), {c['proof_siblings_mean']:.1f} siblings "
          f"(max {c['proof_siblings_max']}, {c['proof_bytes_max']} B); map build {c['map_build_s']:.1f} s")
    print(f"append_many 256/commit: without index {a['append_many_without_index_per_s']:,.0f}/s, with "
          f"{a['append_many_with_index_per_s']:,.0f}/s (median ratio {100 * a['with_over_without']:.0f} %, "
          f"rounds {100 * a['ratio_min']:.0f}-{100 * a['ratio_max']:.0f} %)")
    print(f"witness round trip: median {w['round_trip_median_ms']:.2f} ms, p95 {w['round_trip_p95_ms']:.2f} ms")
    print(f"verify {v['records']:,} records: database, every check {v['db_verify_all_checks_per_s']:,.0f}/s; "
          f"export with subject map {v['export_verify_with_subject_map_per_s']:,.0f}/s; export leaves only "
          f"{v['export_verify_leaves_only_per_s']:,.0f}/s")
    print(f"load average before/after: {res['load_avg_before']} / {res['load_avg_after']}")
    out_dir = Path(__file__).resolve().parent / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "audit_bench_issue_11.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
