"""Run the sandbox agencies in their own process for benchmarks and scale tests.

Prints one JSON line ``{"agency_urls": {...}, "citizens": [...bsn...], "eva": bsn}`` on stdout
once every agency answers, then serves until stdin closes (the parent went away) or SIGTERM.
Separate from the gateway and the load driver so the three do not share one GIL.
"""

from __future__ import annotations

import json
import signal
import sys
import threading


def main() -> None:
    from adapters.sandbox.runner import start_sandbox
    from gateway.demo import _demo_citizen

    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    handle = start_sandbox(host="127.0.0.1", seed=seed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    _, eva = _demo_citizen(handle.citizens)
    print(json.dumps({"agency_urls": handle.agency_urls, "eva": eva,
                      "citizens": [c.bsn for c in handle.citizens]}), flush=True)

    def watch_stdin() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        stop.wait()
    finally:
        handle.stop()


if __name__ == "__main__":
    main()
