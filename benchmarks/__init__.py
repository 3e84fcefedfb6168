"""Loket benchmarks: a bounded load driver and one command that measures everything.

Run ``python -m benchmarks.run [--quick]`` (or ``make bench``); see docs/benchmarks.md.
"""

# The gateway package first: it loads regopy before the load driver's aiohttp (see
# gateway/__init__.py), so the in-process policy benchmark measures the engine, not a leak.
import gateway  # noqa: F401
