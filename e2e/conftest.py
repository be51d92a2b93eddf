"""Fixtures for the browser journeys: a real server on the demo data, and a real Chromium.

The server runs `python wsgi.py` in a subprocess, in development mode (so e-mails land in
<instance>/mail and /dev/mail lists them), on a free port and a temporary instance folder. Its
database is SQLite in that folder, unless DATABASE_URL is set (CI points it at PostgreSQL).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BIN = Path(sys.executable).parent
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
TIMEOUT_MS = 15_000
STARTUP_SECONDS = 60

expect.set_options(timeout=TIMEOUT_MS)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(instance: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        INSTANCE_PATH=str(instance),
        MAIL_DIR=str(instance / "mail"),
        MAIL_SERVER="",  # e-mails go to files, which /dev/mail shows
        APP_ENV="development",
        FLASK_DEBUG="0",  # no reloader: one process we can stop
        HOST="127.0.0.1",
        PORT=str(port),
        LOGIN_RATE_LIMIT="1000 per minute",
        PYTHONUNBUFFERED="1",
    )
    # DATABASE_URL is left as it is: unset means SQLite inside the instance folder.
    return env


def _run(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=300,
        )
    if result.returncode != 0:
        pytest.exit(f"e2e setup failed: {' '.join(command)}\n{_tail(log)}", returncode=3)


def _tail(log: Path, lines: int = 60) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.exit(
                f"the e2e server exited with {process.returncode}:\n{_tail(log)}", returncode=3
            )
        try:
            with urllib.request.urlopen(url + "/auth/login", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.exit(
        f"the e2e server did not answer within {STARTUP_SECONDS}s:\n{_tail(log)}", returncode=3
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[dict[str, object]]:
    """A real portal server on the demo data; yields its base URL and instance folder."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    port = _free_port()
    env = _server_env(instance, port)
    log = instance / "server.log"
    flask = str(BIN / "flask")
    _run([flask, "--app", "wsgi", "db", "upgrade"], env, log)
    _run([flask, "--app", "wsgi", "demo", "load"], env, log)
    with log.open("a") as out:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield {"url": url, "instance": instance, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def base_url(server) -> str:
    """The server's address, e.g. http://127.0.0.1:54321."""
    return str(server["url"])


def chromium_path() -> str | None:
    """Return the system Chromium to drive, or None to use Playwright's own."""
    for candidate in (os.environ.get("CHROMIUM_PATH", ""), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run (the system one when there is one)."""
    with sync_playwright() as playwright:
        executable = chromium_path()
        launched = playwright.chromium.launch(
            executable_path=executable, args=BROWSER_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether it failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _failed(node) -> bool:
    return any(
        getattr(getattr(node, f"rep_{phase}", None), "failed", False) for phase in ("setup", "call")
    )


def _artifact_name(node) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name)


@pytest.fixture
def new_context(browser, server, request) -> Iterator[Callable[..., BrowserContext]]:
    """Factory of fresh browser contexts (separate cookies: separate people).

    Contexts speak Spanish by default, like the portal. When the test fails, every open page
    is saved as e2e/artifacts/<test>.png (then <test>-2.png, ...), and the server's log of
    the test as e2e/artifacts/<test>.server.log.
    """
    base_url = str(server["url"])
    log = Path(str(server["log"]))
    log_start = log.stat().st_size if log.exists() else 0
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        options.setdefault("base_url", base_url)
        options.setdefault("locale", "es-CO")
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make

    if _failed(request.node):
        ARTIFACTS.mkdir(exist_ok=True)
        pages = [p for c in contexts for p in c.pages]
        for index, open_page in enumerate(pages, start=1):
            suffix = "" if index == 1 else f"-{index}"
            path = ARTIFACTS / f"{_artifact_name(request.node)}{suffix}.png"
            try:
                open_page.screenshot(path=str(path), full_page=True)
                print(f"screenshot of {open_page.url}: {path}")
            except Exception as error:  # noqa: BLE001 - a screenshot must not hide the failure
                print(f"could not save a screenshot to {path}: {error}")
        with log.open("rb") as server_log:
            server_log.seek(log_start)
            (ARTIFACTS / f"{_artifact_name(request.node)}.server.log").write_bytes(
                server_log.read()
            )
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    """A page in a fresh browser context."""
    return new_context().new_page()


ANDINA_NIT = "9001234568"
TORNILLO_NIT = "9012345677"


@pytest.fixture
def signed_invoice(server, tmp_path):
    """Return a factory: (number, customer tax id, unit price) → path of an invoice El Tornillo
    signed (two lines, 5,950.00 in all; or one line of the unit price plus 19 % IVA)."""

    def make(number: str, customer_tax_id: str = ANDINA_NIT, unit_price: str = "") -> Path:
        out = tmp_path / f"{number}.xml"
        env = _server_env(Path(str(server["instance"])), 0)
        # A short-lived script: no job consumer of its own (it would take the server's jobs
        # from the shared queue and could exit in the middle of one).
        env["JOBS_IN_PROCESS"] = "0"
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                str(ROOT / "e2e" / "signed_invoice.py"),
                str(out),
                TORNILLO_NIT,
                customer_tax_id,
                number,
                unit_price,
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        return out

    return make
