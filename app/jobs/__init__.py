"""Background work on a Huey job queue: ``queue`` (the instance, ``run_job``), ``tasks`` (the
tasks and periodic tasks), ``relay`` (a committed outbox row → its task).

Services never import this package: they write rows, and the relay enqueues their tasks after
commit. ``init_app`` points the queue at the app's storage and, where the app runs its own
consumer (``JOBS_IN_PROCESS``: ``make run``), starts it in threads; ``run_worker`` is
``flask --app wsgi jobs worker``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Configure the queue for app; start the in-process consumer where this process should."""
    from app.jobs import queue, relay  # noqa: F401 (relay registers its session hook)

    queue.configure(app)
    if _should_consume_in_process(app) and "jobs.consumer" not in app.extensions:
        app.extensions["jobs.consumer"] = start_consumer(app)


def _should_consume_in_process(app: Flask) -> bool:
    """In development (and with JOBS_IN_PROCESS=1): not in tests, nor in CLI commands."""
    if not app.config["JOBS_IN_PROCESS"] or app.config["JOBS_IMMEDIATE"] or app.testing:
        return False
    import click
    from werkzeug.serving import is_running_from_reloader

    if click.get_current_context(silent=True) is None:
        return True  # python wsgi.py, gunicorn
    # A flask command: only `flask run` serves (and in debug, only the reloader's child does).
    if "run" not in sys.argv[1:]:
        return False
    return not app.debug or is_running_from_reloader()


def start_consumer(app: Flask, workers: int | None = None) -> Any:
    """Start a consumer in threads of this process (the web server keeps its signals)."""
    from huey.consumer import Consumer

    from app.jobs import queue, tasks

    class InProcessConsumer(Consumer):  # type: ignore[misc]
        def _set_signal_handlers(self) -> None:
            pass  # the server's: Ctrl+C stops it, and these daemon threads with it

    queue.set_worker_app(app)
    consumer = InProcessConsumer(
        queue.huey,
        workers=workers or app.config["JOBS_WORKERS"],
        worker_type="thread",
        periodic=True,
        check_worker_health=False,
    )
    consumer.start()
    queue.enqueue(tasks.sweep)  # what a previous run left unfinished
    log.info("job consumer running in process %s", os.getpid())
    return consumer


def run_worker(app: Flask, workers: int | None = None) -> None:
    """Run the Huey consumer in the foreground until SIGINT/SIGTERM (``jobs worker``)."""
    from app.jobs import queue, tasks

    queue.set_worker_app(app)
    consumer = queue.huey.create_consumer(
        workers=workers or app.config["JOBS_WORKERS"], worker_type="thread", periodic=True
    )
    with app.app_context():
        queue.enqueue(tasks.sweep)  # what a killed worker left unfinished
    consumer.run()
