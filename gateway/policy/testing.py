"""Run the Rego unit tests (`test_*` rules in `*_test.rego`) with the embedded engine.

`loket policy test` must pass on the same files as `opa test policies/` (issue 4). A test passes
when its rule evaluates to exactly ``true``; false, undefined (regopy reports a false bare rule
as undefined) and errors all fail.

regopy 1.5.2 cannot evaluate ``with input as <object>`` (the build aborts the process), so the
test files name their inputs in a ``cases`` rule and read decisions through ``result(name)``.
This runner evaluates ``cases`` with regopy, decides every case through the production
``EmbeddedPolicyEngine`` (the exact path the gateway uses), and hands the decisions to the tests
as ``data.loket_test_results.results``. Under ``opa test`` the OPA-only glue file
``opa_results_test.rego`` (skipped here: files named ``opa_*_test.rego``) computes the same
values with ``with``.

Coverage: regopy has no tracer, so the embedded runner reports *rule coverage* — which rules of
the policy are referenced by the test files or reached from the decision rule — and, when an
``opa`` binary is available, the exact line coverage from ``opa test --coverage``.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regopy

from gateway.core.errors import PolicyEngineError
from gateway.policy.bundle import PolicyBundle, build_bundle, test_modules
from gateway.policy.embedded import EmbeddedPolicyEngine

Decide = Callable[[Mapping[str, Any]], dict[str, Any]]

_TEST_RULE_RE = re.compile(r"^(test_[A-Za-z0-9_]+)\s*(?:if\b|:=|\{)", re.MULTILINE)
_PACKAGE_RE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)
_RULE_HEAD_RE = re.compile(
    r"^([a-z_][A-Za-z0-9_]*)(?:\[|\(|\s+(?:contains|if|:=|=)\b|\s*:=)", re.MULTILINE
)


@dataclass(frozen=True)
class TestResult:
    name: str  # package.rule
    passed: bool
    duration_ms: float
    error: str | None = None


@dataclass(frozen=True)
class TestReport:
    results: tuple[TestResult, ...]
    rules: tuple[str, ...] = ()  # rules defined by the policy modules
    rules_covered: tuple[str, ...] = ()
    opa_line_coverage: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def rule_coverage(self) -> float:
        return 100.0 * len(self.rules_covered) / len(self.rules) if self.rules else 0.0


def discover_tests(modules: Mapping[str, str]) -> list[tuple[str, str]]:
    """(package, rule) for every ``test_`` rule, in file order."""
    found: list[tuple[str, str]] = []
    for _path, source in sorted(modules.items()):
        pkg = _PACKAGE_RE.search(source)
        if pkg is None:
            continue
        seen: set[str] = set()
        for match in _TEST_RULE_RE.finditer(source):
            if match.group(1) not in seen:
                seen.add(match.group(1))
                found.append((pkg.group(1), match.group(1)))
    return found


def policy_rules(bundle: PolicyBundle) -> list[str]:
    names: set[str] = set()
    for source in bundle.modules.values():
        names.update(m.group(1) for m in _RULE_HEAD_RE.finditer(source))
    names.discard("package")
    names.discard("import")
    names.discard("default")
    return sorted(names)


def _referenced(rule: str, sources: list[str]) -> bool:
    pattern = re.compile(rf"\b{re.escape(rule)}\b")
    return any(pattern.search(s) for s in sources)


def _rule_coverage(bundle: PolicyBundle, tests: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Rules reached: referenced from a test or from another rule's body (static closure)."""
    rules = policy_rules(bundle)
    policy_src = "\n".join(bundle.modules.values())
    test_src = list(tests.values())
    covered = []
    for rule in rules:
        body_refs = len(re.findall(rf"\b{re.escape(rule)}\b", policy_src))
        heads = len(re.findall(rf"^{re.escape(rule)}\b", policy_src, re.MULTILINE))
        if rule == "decision" or _referenced(rule, test_src) or body_refs > heads:
            covered.append(rule)
    return rules, covered


def run_tests(
    *,
    bundle: PolicyBundle | None = None,
    tests: Mapping[str, str] | None = None,
    opa_bin: str | None = None,
    policies_dir: Path | None = None,
    decide: Decide | None = None,
) -> TestReport:
    """``decide`` decides the named test inputs (default: the embedded engine over ``bundle``);
    the parity suite passes the wasm and OPA server engines to run the same tests on them."""
    bundle = bundle or build_bundle()
    tests = tests if tests is not None else test_modules()
    tests = {p: src for p, src in tests.items() if not p.rsplit("/", 1)[-1].startswith("opa_")}
    results_data, setup_error = _case_results(bundle, tests, decide)
    interp = _interpreter(bundle, tests, {"loket_test_results": {"results": results_data}})

    discovered = discover_tests(tests)
    entrypoints = [f"{pkg.replace('.', '/')}/{name}" for pkg, name in discovered]
    results: list[TestResult] = []
    compiled = None
    compile_error: str | None = None
    if entrypoints:
        try:
            compiled = interp.build(None, entrypoints)
        except regopy.RegoError as e:
            compile_error = str(e)
    for (pkg, name), entrypoint in zip(discovered, entrypoints, strict=True):
        started = time.perf_counter()
        error: str | None = setup_error or compile_error
        passed = False
        if compiled is not None:
            try:
                out = interp.query_bundle_entrypoint(compiled, entrypoint)
                if not out.ok():
                    error = str(out)
                elif len(out) == 1 and out[0].expressions == [True]:
                    passed = True
                else:
                    error = "false or undefined"
            except regopy.RegoError as e:
                error = str(e)
        results.append(
            TestResult(
                name=f"{pkg}.{name}",
                passed=passed,
                duration_ms=(time.perf_counter() - started) * 1000,
                error=None if passed else error,
            )
        )
    rules, covered = _rule_coverage(bundle, tests)
    line_coverage = _opa_line_coverage(opa_bin, policies_dir) if opa_bin else None
    return TestReport(
        results=tuple(results),
        rules=tuple(rules),
        rules_covered=tuple(covered),
        opa_line_coverage=line_coverage,
    )


def _interpreter(
    bundle: PolicyBundle, tests: Mapping[str, str], extra_data: Mapping[str, Any]
) -> regopy.Interpreter:
    interp = regopy.Interpreter()
    interp.strict_built_in_errors = True
    for path, source in sorted(bundle.modules.items()):
        interp.add_module(path, source)
    for path, source in sorted(tests.items()):
        interp.add_module(path, source)
    interp.add_data_json(json.dumps({**bundle.data, **extra_data}))
    return interp


def _case_results(
    bundle: PolicyBundle, tests: Mapping[str, str], decide: Decide | None = None
) -> tuple[dict[str, Any], str | None]:
    """Decide every named test input with the production embedded engine."""
    packages = sorted(
        {
            m.group(1)
            for src in tests.values()
            if re.search(r"^cases\s*:=", src, re.MULTILINE)
            for m in [_PACKAGE_RE.search(src)]
            if m is not None
        }
    )
    if not packages:
        return {}, None
    interp = _interpreter(bundle, tests, {})
    entrypoints = [f"{pkg.replace('.', '/')}/cases" for pkg in packages]
    decide = decide or EmbeddedPolicyEngine(bundle).evaluate
    results: dict[str, Any] = {}
    try:
        compiled = interp.build(None, entrypoints)
        for entrypoint in entrypoints:
            out = interp.query_bundle_entrypoint(compiled, entrypoint)
            if not out.ok() or len(out) != 1 or not out[0].expressions:
                return {}, f"{entrypoint} is undefined or failed: {out}"
            cases = out[0].expressions[0]
            for name, case_input in cases.items():
                results[name] = decide(case_input)
    except (regopy.RegoError, PolicyEngineError) as e:
        return {}, f"cannot evaluate the test cases: {e}"
    return results, None


def _opa_line_coverage(opa_bin: str, policies_dir: Path | None) -> float | None:
    """Line coverage of the policy (not the tests) from `opa test --coverage`, if available."""
    if policies_dir is None:
        return None
    proc = subprocess.run(
        [opa_bin, "test", "--coverage", "--format=json", str(policies_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return None
    files = report.get("files", {})
    covered = not_covered = 0
    for path, entry in files.items():
        if path.endswith("_test.rego"):
            continue
        for span in entry.get("covered", []):
            covered += span["end"]["row"] - span["start"]["row"] + 1
        for span in entry.get("not_covered", []):
            not_covered += span["end"]["row"] - span["start"]["row"] + 1
    total = covered + not_covered
    return 100.0 * covered / total if total else None
