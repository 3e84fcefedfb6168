"""A small, bounded asyncio load driver over aiohttp (loopback only).

Every run is bounded twice: by ``max_requests`` and by ``max_seconds``. Workers pull request
specs from one shared source, so ``concurrency`` is exactly the number of requests in flight.
On a 2-core machine this driver competes with the server it measures: compare ratios taken in
one run, not absolute figures across machines. It uses aiohttp, not httpx, because it is the
cheaper client per request (0.24 vs 0.71 ms CPU on this machine): every millisecond the
driver spends is one the gateway under test does not get.

    from benchmarks.loadgen import run_load, Req
    result = await run_load(base, [("GET", "/v1/health", {}, None)], concurrency=8,
                            max_requests=1000, max_seconds=10)
    print(result.throughput_rps, result.p(99))
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import aiohttp

T = TypeVar("T")

# (method, path, headers, json body or None)
Req = tuple[str, str, Mapping[str, str], Any]
RequestSource = Sequence[Req] | Callable[[int], Req] | Iterable[Req] | AsyncIterator[Req]

MAX_CONCURRENCY = 1024
MAX_BODIES_KEPT = 100_000


@dataclass
class Sample:
    index: int
    method: str
    path: str
    status: int  # 0 = transport error
    latency_s: float
    started_s: float  # offset from the start of the run
    body: Any = None
    error: str | None = None


@dataclass
class LoadResult:
    concurrency: int
    elapsed_s: float
    samples: list[Sample] = field(default_factory=list)
    stopped_by: str = "requests"  # "requests" | "time" | "source"

    @property
    def count(self) -> int:
        return len(self.samples)

    @property
    def status_counts(self) -> dict[int, int]:
        return dict(Counter(s.status for s in self.samples))

    @property
    def ok(self) -> int:
        return sum(1 for s in self.samples if 200 <= s.status < 300)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s.status == 0)

    @property
    def throughput_rps(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def latencies_ms(self) -> list[float]:
        return [s.latency_s * 1000.0 for s in self.samples]

    @property
    def bodies(self) -> list[Any]:
        return [s.body for s in self.samples if s.body is not None]

    def p(self, q: float, *, only_ok: bool = False) -> float:
        """Latency percentile in milliseconds (nearest rank), NaN when empty."""
        lat = sorted(s.latency_s * 1000.0 for s in self.samples if not only_ok or 200 <= s.status < 300)
        return percentile(lat, q)

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "concurrency": self.concurrency,
            "requests": self.count,
            "ok": self.ok,
            "transport_errors": self.errors,
            "status_counts": {str(k): v for k, v in sorted(self.status_counts.items())},
            "elapsed_s": round(self.elapsed_s, 4),
            "throughput_rps": round(self.throughput_rps, 1),
            "p50_ms": round(self.p(50), 3),
            "p90_ms": round(self.p(90), 3),
            "p99_ms": round(self.p(99), 3),
            "max_ms": round(max(lat), 3) if lat else math.nan,
            "mean_ms": round(statistics.fmean(lat), 3) if lat else math.nan,
            "stopped_by": self.stopped_by,
        }


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError("percentile must be within 0..100")
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class _Source:
    """Hands out (index, request) pairs to workers until exhausted or the budget is spent."""

    def __init__(self, requests: RequestSource, max_requests: int) -> None:
        self._max = max_requests
        self._issued = 0
        self._warm = 0
        self._lock = asyncio.Lock()
        self._exhausted = False
        self._fn: Callable[[int], Req] | None = None
        self._it: Iterator[Req] | None = None
        self._ait: AsyncIterator[Req] | None = None
        self._seq: Sequence[Req] | None = None
        if isinstance(requests, Sequence) and not isinstance(requests, (str, bytes)):
            if not requests:
                raise ValueError("empty request list")
            # A list is cycled: max_requests decides how many go out.
            self._seq = requests
        elif callable(requests):
            self._fn = requests
        elif hasattr(requests, "__anext__"):
            self._ait = cast(AsyncIterator[Req], requests)
        else:
            self._it = iter(requests)

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    async def next(self, *, count: bool = True) -> tuple[int, Req] | None:
        async with self._lock:
            if (count and self._issued >= self._max) or self._exhausted:
                return None
            i = self._issued if count else -1 - self._warm
            if not count:
                self._warm += 1
            try:
                if self._seq is not None:
                    req = self._seq[(self._warm if not count else i) % len(self._seq)]
                elif self._fn is not None:
                    req = self._fn(i)
                elif self._ait is not None:
                    req = await self._ait.__anext__()
                else:
                    assert self._it is not None
                    req = next(self._it)
            except (StopIteration, StopAsyncIteration):
                self._exhausted = True
                return None
            if count:
                self._issued += 1
            return i, req


async def run_load(
    base_url: str,
    requests: RequestSource,
    *,
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    timeout_s: float = 30.0,
    keep_bodies: bool = True,
    warmup: int = 0,
) -> LoadResult:
    """Drive ``requests`` against ``base_url`` with ``concurrency`` requests in flight.

    ``requests`` is a list (cycled), a callable ``index -> Req``, or a (async) iterator that
    may end early. The run stops at ``max_requests`` completed-or-issued requests or after
    ``max_seconds``, whichever comes first; requests in flight at the deadline are awaited
    (bounded by ``timeout_s``). JSON bodies are parsed and kept (``keep_bodies``) so callers
    can count disclosures or audit record ids.
    ``warmup`` requests are sent first, sequentially and unrecorded, outside the budget; a
    callable source sees them as negative indices (-1, -2, ...).
    """
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be within 1..{MAX_CONCURRENCY}")
    if max_requests < 1:
        raise ValueError("max_requests must be positive")
    if not 0 < max_seconds <= 3600:
        raise ValueError("max_seconds must be within (0, 3600]")

    source = _Source(requests, max_requests)
    samples: list[Sample] = []
    base = base_url.rstrip("/")
    # trust_env=False: loopback only, never through a proxy from the environment.
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        trust_env=False,
    ) as client:

        async def send(method: str, path: str, headers: Mapping[str, str], body: Any) -> tuple[int, bytes]:
            data = None if body is None else json.dumps(body).encode()
            hdrs = dict(headers)
            if data is not None:
                hdrs.setdefault("Content-Type", "application/json")
            async with client.request(method, base + path, headers=hdrs, data=data,
                                      allow_redirects=False) as resp:
                return resp.status, await resp.read()

        for _ in range(warmup):
            nxt = await source.next(count=False)
            if nxt is None:
                break
            _, (m, pth, hdrs, body) = nxt
            await send(m, pth, hdrs, body)
        t0 = time.perf_counter()
        deadline = t0 + max_seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                nxt = await source.next()
                if nxt is None:
                    return
                i, req = nxt
                method, path, headers, body = req
                start = time.perf_counter()
                try:
                    status, content = await send(method, path, headers, body)
                except (aiohttp.ClientError, TimeoutError) as e:
                    samples.append(Sample(i, method, path, 0, time.perf_counter() - start,
                                          start - t0, error=type(e).__name__))
                    continue
                latency = time.perf_counter() - start
                parsed: Any = None
                if keep_bodies and len(samples) < MAX_BODIES_KEPT and content:
                    try:
                        parsed = json.loads(content)
                    except ValueError:
                        parsed = None
                samples.append(Sample(i, method, path, status, latency, start - t0, body=parsed))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    if source.exhausted:
        stopped = "source"
    elif len(samples) >= max_requests:
        stopped = "requests"
    else:
        stopped = "time"
    samples.sort(key=lambda s: s.index)
    return LoadResult(concurrency=concurrency, elapsed_s=elapsed, samples=samples, stopped_by=stopped)


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, on a fresh event loop in its own thread:
    safe even where this thread already runs a loop (Playwright's sync API keeps one running
    for as long as a browser fixture lives)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(make())
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e

    thread = threading.Thread(target=target, name="loadgen")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def run_load_sync(base_url: str, requests: RequestSource, **kwargs: Any) -> LoadResult:
    """``run_load`` for synchronous callers (tests, scripts); starts its own event loop."""
    return run_async(lambda: run_load(base_url, requests, **kwargs))


__all__ = ["LoadResult", "Req", "Sample", "percentile", "run_async", "run_load", "run_load_sync"]
