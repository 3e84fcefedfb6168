# One command per chore; CI (.ci/run) uses the same commands.
.PHONY: install test lint typecheck bench bench-quick bench-docs demo ci

install:
	python3 -m pip install -e '.[test]'

test:
	python3 -m pytest

lint:
	ruff check .

typecheck:
	mypy gateway adapters audit

bench:
	python3 -m benchmarks.run

bench-quick:
	python3 -m benchmarks.run --quick

bench-docs:
	python3 -m benchmarks.run --write-docs

demo:
	loket demo

ci:
	bash .ci/run
