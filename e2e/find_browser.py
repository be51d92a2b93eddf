"""Find the browser the e2e journeys drive, or fetch Playwright's own when none is installed.

Run by `make test-e2e` before pytest. A system Chromium (CHROMIUM_PATH, else /usr/bin/chromium)
is always preferred: a browser is downloaded only when the machine has none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SYSTEM_CHROMIUM = "/usr/bin/chromium"


def system_chromium() -> str | None:
    """Return the path of an installed Chromium, or None."""
    for candidate in (os.environ.get("CHROMIUM_PATH", ""), SYSTEM_CHROMIUM):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def main() -> int:
    """Report the system browser, or install Playwright's Chromium and return its exit code."""
    found = system_chromium()
    if found:
        print(f"e2e: using the system Chromium at {found}")
        return 0
    print(
        "e2e: no system Chromium found; installing Playwright's own (python -m playwright "
        "install chromium)",
        flush=True,
    )
    command = [sys.executable, "-m", "playwright", "install", "chromium"]
    return subprocess.run(command, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
