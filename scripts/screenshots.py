"""Write screenshots of the citizen, casemanager and FG pages to docs/screenshots/.

Runs the browser accessibility walks (tests/browser/test_accessibility.py and test_workspace.py), which visit every
page against a live gateway + sandbox with synthetic data, with LOKET_SCREENSHOTS set so each
page is also saved as a full-page PNG. Needs /usr/bin/chromium and the ``test`` extra.

    python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    env = dict(os.environ, LOKET_SCREENSHOTS=str(Path(args.out).resolve()))
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "browser",
           "tests/browser/test_accessibility.py", "tests/browser/test_workspace.py"]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
