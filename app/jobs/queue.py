"""The Huey instance, its storage chosen from the app's settings, and how a task runs.

Huey on Redis when ``REDIS_URL`` is set (several web processes and workers share it), else on
``instance/jobs.db`` (SQLite). ``JOBS_IMMEDIATE`` (tests) runs each task where it is enqueued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import RedisStorage, SqliteStorage

from app import tenancy
from app.extensions import db

log = logging.getLogger(__name__)

#: Every task and periodic task is declared on this one instance (app/jobs/tasks.py).
#: In memory until ``configure`` gives it the app's storage. Task results are never read.
huey = Huey("portal", results=False, immediate=True)
_configured: tuple[Any, ...] | None = None
#: The app a worker (``jobs worker`` or the in-process consumer) runs its tasks in.
_worker_app: Flask | None = None


def configure(app: Flask) -> None:
    """Point the queue at the app's storage (Redis, SQLite, or eager in memory)."""
    global _configured
    immediate = bool(app.config["JOBS_IMMEDIATE"])
    url = app.config.get("REDIS_URL") or ""
    path = Path(app.instance_path) / "jobs.db"
    key = (immediate, url, str(path))
    if key == _configured:
        return
    if url:
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": url}
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": str(path)}
    if huey.immediate != immediate:
        huey.immediate = immediate  # recreates the storage
    else:
        huey.storage = huey.create_storage()
    _configured = key


def enqueue(task: Any, *args: Any) -> None:
    """Hand a task to the queue (a failure to reach it is logged: the sweeps catch up)."""
    if has_app_context():
        configure(current_app)  # a no-op unless another app of this process moved it
    try:
        task(*args)
    except Exception:  # noqa: BLE001 (Redis down, say: the row stays pending, a sweep retries)
        log.warning("could not enqueue %s%r", getattr(task, "name", task), args, exc_info=True)


def set_worker_app(app: Flask) -> None:
    """Make app the one this process's consumer runs its tasks in."""
    global _worker_app
    _worker_app = app


def run_job(company_id: int | None, job: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one service function as a job: in the app, bound to the company, in a session and
    transaction of its own (committed on success, rolled back on error)."""
    app = _worker_app or current_app._get_current_object()  # type: ignore[attr-defined]
    with db.own_session(), app.app_context(), tenancy.acting_as(company_id):
        try:
            result = job(*args, **kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    return result
