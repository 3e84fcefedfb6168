"""Loket's gateway: HTTP API, pages, CLI, auth, cases, decisions."""

# rego-cpp's library must be the first C++ library this process loads. When another C++
# extension loaded libstdc++ first (aiohttp's frozenlist does, and the agency adapters import
# aiohttp), every regopy evaluation leaked about 45 KB of native memory: a gateway's RSS grew
# from 145 to 430 MB over 6,000 dossier requests. Importing regopy here, before anything else
# of the gateway, keeps it flat (tests/policy/test_native_memory.py; docs/benchmarks.md).
import regopy  # noqa: F401  - must stay the first import of the package
