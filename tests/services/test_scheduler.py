"""The scheduler: one tick runs every job once; a tick whose Redis lock is held does nothing."""

from __future__ import annotations

import datetime as dt
import time

import redis
from sqlalchemy import func, select

from app import scheduler
from app.extensions import db
from app.models import Notification
from app.tenancy import unscoped
from tests.conftest import make_company, make_user
from tests.services.inbox_helpers import make_document
from tests.services_helpers import redis_url


def notification_count() -> int:
    return db.session.scalar(unscoped(select(func.count(Notification.id))))


def overdue_invoice():
    supplier, customer = make_company("Proveedora"), make_company("Compradora")
    make_user(customer, role="payables")
    return make_document(supplier, customer, due_date=dt.date.today() - dt.timedelta(days=2))


def test_is_the_scheduler_off_under_tests(app):
    assert not scheduler.should_start(app)
    assert "scheduler" not in app.extensions


def test_does_a_tick_run_every_job_and_a_second_one_change_nothing(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    document = overdue_invoice()

    results = scheduler.tick(app)

    assert results is not None and set(results) >= {"tacit_acceptance", "reminders"}
    assert results["reminders"].overdue == [document.id]
    assert notification_count() == 1
    assert scheduler.tick(app)["reminders"].overdue == []  # safe to run twice
    assert notification_count() == 1


def test_does_a_tick_with_the_redis_lock_held_elsewhere_do_nothing(app, monkeypatch):
    url = redis_url()
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    client = redis.Redis.from_url(url)
    client.delete(scheduler.LOCK_KEY)
    try:
        document = overdue_invoice()
        first = scheduler.tick(app)  # takes the lock and runs
        assert first is not None and first["reminders"].overdue == [document.id]
        assert client.ttl(scheduler.LOCK_KEY) > 0

        calls = []
        monkeypatch.setattr(scheduler, "run_jobs", lambda app: calls.append(app))
        assert scheduler.tick(app) is None  # a concurrent tick: the lock is held
        assert calls == [] and notification_count() == 1
    finally:
        client.delete(scheduler.LOCK_KEY)


def test_does_the_background_thread_tick_until_stopped(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    ticks = []
    monkeypatch.setattr(scheduler, "run_jobs", lambda app: ticks.append(app) or {})
    loop = scheduler.Scheduler(app, interval=0.05)
    loop.start()
    deadline = time.monotonic() + 3
    while len(ticks) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    loop.stop()
    assert len(ticks) >= 2 and loop._thread is not None and not loop._thread.is_alive()


def test_does_the_worker_command_run_one_tick(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    document = overdue_invoice()
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "tick done" in result.output
    assert notification_count() == 1 and document.id
