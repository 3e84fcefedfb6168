# One command per chore; CI (.ci/run) uses the same commands.
.PHONY: install test lint typecheck bench bench-quick demo ci

install:
	python3 -m pip install -e '.[test]'

test:
	python3 -m pytest

lint:
	ruff check .

typecheck:
	mypy audit gateway/dossier/decisions.py gateway/dossier/disclosure.py gateway/identity/bsn.py gateway/identity/auth.py gateway/identity/bsn_guard.py gateway/core/tracing.py gateway/core/headers.py gateway/dossier/flow.py gateway/core/auditing.py gateway/core/errors.py gateway/core/observability.py gateway/core/metrics.py gateway/core/logs.py gateway/core/otel.py

bench:
	python3 -m benchmarks.run

bench-quick:
	python3 -m benchmarks.run --quick

demo:
	loket demo

ci:
	bash .ci/run
