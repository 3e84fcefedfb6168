"""Loket benchmarks: a bounded load driver and one command that measures everything.

Run ``python -m benchmarks.run [--quick]`` (or ``make bench``); see docs/benchmarks.md.
"""
