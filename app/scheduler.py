"""The periodic jobs: an in-process background thread by default, or ``flask jobs worker``.

Every ``SCHEDULER_INTERVAL`` seconds (5 minutes) a tick runs, each in its own app context and
transaction, bound as a job (``tenancy.acting_as``): tacit acceptances (034), due-soon and
overdue reminders, and webhook deliveries when that service exists. Every job is idempotent, so a
tick run twice does no harm; with ``REDIS_URL`` set, a Redis lock (SET NX EX) still lets only one
process run a given tick, so several web processes and a separate worker can coexist.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask

from app import tenancy
from app.extensions import db

log = logging.getLogger(__name__)

LOCK_KEY = "portal:scheduler:tick"
DEFAULT_INTERVAL = 300


def _tacit_acceptances() -> Any:
    from app.services.lifecycle import transitions

    return transitions.record_tacit_acceptances()


def _reminders() -> Any:
    from app.services import notifications

    return notifications.notify_due_and_overdue()


def _webhooks() -> Any:
    try:
        webhooks = importlib.import_module("app.services.webhooks")
    except ImportError:
        return None
    deliver_due = getattr(webhooks, "deliver_due", None)
    return deliver_due() if callable(deliver_due) else None


JOBS: dict[str, Callable[[], Any]] = {
    "tacit_acceptance": _tacit_acceptances,
    "reminders": _reminders,
    "webhooks": _webhooks,
}


def run_jobs(app: Flask) -> dict[str, Any]:
    """Run every job once, each in its own app context and transaction; return their results."""
    results: dict[str, Any] = {}
    for name, job in JOBS.items():
        with app.app_context(), tenancy.acting_as(None):
            try:
                results[name] = job()
                db.session.commit()
            except Exception:  # one failing job must not stop the others, nor the loop
                db.session.rollback()
                log.exception("scheduled job %s failed", name)
                results[name] = None
    return results


def _redis(app: Flask) -> Any:
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=5)


def tick(app: Flask, *, redis_client: Any = None) -> dict[str, Any] | None:
    """Run one tick, unless another process holds this tick's Redis lock (then None)."""
    client = redis_client if redis_client is not None else _redis(app)
    if client is not None:
        interval = int(app.config.get("SCHEDULER_INTERVAL", DEFAULT_INTERVAL))
        # Held for most of the interval and never released early: a process whose timer fires
        # a little later in the same period finds it taken and skips.
        ttl = max(1, int(interval * 0.9))
        if not client.set(LOCK_KEY, f"{os.getpid()}:{uuid.uuid4().hex}", nx=True, ex=ttl):
            log.info("scheduler tick skipped: another process holds it")
            return None
    return run_jobs(app)


class Scheduler:
    """A daemon thread that ticks every interval until stopped."""

    def __init__(self, app: Flask, interval: float | None = None) -> None:
        self.app = app
        self.interval = float(interval or app.config.get("SCHEDULER_INTERVAL", DEFAULT_INTERVAL))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self.run, name="portal-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run(self, *, first_delay: float | None = None) -> None:
        """Tick every interval until stopped (in the foreground for ``jobs worker``)."""
        delay = min(30.0, self.interval) if first_delay is None else first_delay
        while not self._stop.wait(delay):
            try:
                tick(self.app)
            except Exception:  # Redis unreachable, say: try again next time
                log.exception("scheduler tick failed")
            delay = self.interval


def should_start(app: Flask) -> bool:
    """In-process scheduler: on in development and production, off in tests and CLI commands."""
    setting = os.environ.get("SCHEDULER_ENABLED")
    if setting is not None:
        enabled = setting == "1"
    else:
        enabled = bool(app.config.get("SCHEDULER_ENABLED"))
    if not enabled or app.testing:
        return False
    import sys

    import click
    from werkzeug.serving import is_running_from_reloader

    if click.get_current_context(silent=True) is None:
        return True  # gunicorn, python wsgi.py
    # A flask command: only `flask run` serves (and in debug, only the reloader's child does).
    if "run" not in sys.argv[1:]:
        return False
    return not app.debug or is_running_from_reloader()


def init_app(app: Flask) -> None:
    """Start the in-process scheduler when this process should run one."""
    if should_start(app) and "scheduler" not in app.extensions:
        scheduler = Scheduler(app)
        app.extensions["scheduler"] = scheduler
        scheduler.start()
