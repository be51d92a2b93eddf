"""The tasks: each a thin wrapper that runs one service function as a job (``run_job``).

On-demand tasks take the company they act for and a row id; the row holds the truth (a
delivery pending with ``next_attempt_at``, an upload ``extracting`` since ``started_at``), so
running a task twice does no harm and a task lost with its worker is found again by a sweep.
Huey retries a task that raised 3 times, 10 s, 20 s and 40 s later.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from huey import crontab

from app.jobs.queue import enqueue, huey, run_job

log = logging.getLogger(__name__)
RETRY = {"retries": 3, "retry_delay": 10, "retry_backoff": 2}


# ----------------------------------------------------------------------------------- on demand


@huey.task(**RETRY)
def deliver_webhook(company_id: int, delivery_id: int) -> None:
    """Send one webhook delivery (nothing if it is not due or another worker holds it)."""
    from app.services import webhooks

    run_job(company_id, webhooks.deliver_one, delivery_id)


@huey.task(**RETRY)
def extract_pdf(company_id: int, upload_id: int) -> None:
    """Read an uploaded PDF's fields into its row (nothing if done or held elsewhere)."""
    from app.services import pdf_documents

    run_job(company_id, pdf_documents.extract_upload, upload_id)


@huey.task(**RETRY)
def process_gateway_event(company_id: int, record_id: int) -> None:
    """Apply one stored gateway webhook event to its payment (nothing if already done)."""
    from app.services.payments import webhooks

    run_job(company_id, webhooks.process_event, record_id)


@huey.task(**RETRY)
def match_statement_import(company_id: int, import_id: int) -> None:
    """Match a long statement's lines (a short one is matched in its import's request)."""
    from app.services.reconciliation import importing

    run_job(company_id, importing.match_import, import_id)


@huey.task(**RETRY)
def deliver_sandbox_webhook(_company_id: None, webhook_id: int) -> None:
    """Send one of the sandbox gateway's webhooks to the portal (nothing if it is not due)."""
    from app.services import sandbox_gateway

    run_job(None, sandbox_gateway.deliver, webhook_id, send_to_portal)


def send_to_portal(target: str, body: bytes, headers: Mapping[str, str]) -> int:
    """Hand a sandbox webhook to the portal's receiver, in-process: the sandbox's ``send``.

    ``target`` is the portal connection's public id. The receiver works in a savepoint of the
    delivering job's transaction: when it raises, what it wrote is undone (and the sandbox
    records a failed attempt); when it answers, both commit together.
    """
    from app.db import begin_nested, forget_callbacks_after, pending_callbacks
    from app.extensions import db
    from app.services.payments.webhooks import receive_webhook

    session = db.session()
    mark = pending_callbacks(session)
    savepoint = begin_nested(session)
    try:
        answer = receive_webhook("sandbox", target, body, headers)
    except BaseException:
        savepoint.rollback()
        forget_callbacks_after(session, mark)
        raise
    savepoint.commit()
    return _status_of(answer)


def _status_of(answer: Any) -> int:
    """The HTTP status a receiver's answer stands for (an int, an object with ``status`` or
    ``status_code``; anything else, returned without raising, is a 200)."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        return answer
    if isinstance(answer, tuple) and answer and isinstance(answer[-1], int):
        return answer[-1]
    for name in ("status_code", "status"):
        value = getattr(answer, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 200


# ------------------------------------------------------------------------------------ periodic


@huey.periodic_task(crontab(minute="*"))
def sweep() -> dict[str, int]:
    """Enqueue the work whose row is unfinished: webhook retries now due and claims whose
    worker died (their lease ran out), extractions lost or left by a dead worker."""
    from app.services import pdf_documents, sandbox_gateway, webhooks
    from app.services.payments import webhooks as gateway_webhooks

    events = run_job(None, gateway_webhooks.due_events)
    for company_id, record_id in events:
        enqueue(process_gateway_event, company_id, record_id)
    due = run_job(None, webhooks.due_deliveries)
    for company_id, delivery_id in due:
        enqueue(deliver_webhook, company_id, delivery_id)
    stale = run_job(None, pdf_documents.stale_uploads)
    for company_id, upload_id in stale:
        enqueue(extract_pdf, company_id, upload_id)
    from app.services.reconciliation import importing

    imports = run_job(None, importing.pending_imports)
    for company_id, import_id in imports:
        enqueue(match_statement_import, company_id, import_id)
    sandbox = run_job(None, sandbox_gateway.due_webhooks)
    for webhook_id in sandbox:
        enqueue(deliver_sandbox_webhook, None, webhook_id)
    return {
        "webhooks": len(due),
        "pdf_uploads": len(stale),
        "gateway_events": len(events),
        "sandbox_webhooks": len(sandbox),
        "statement_imports": len(imports),
    }


@huey.periodic_task(crontab(minute="*/10"))
def abandoned_checkouts() -> int:
    """Checkouts never finished for a day give back what they held of their invoices."""
    from app.services.payments import paying

    return int(run_job(None, paying.expire_abandoned))


@huey.periodic_task(crontab(minute="*"))
def sandbox_settlements() -> int:
    """Approve or decline the sandbox gateway's pending charges whose time came."""
    from app.services import sandbox_gateway

    return int(run_job(None, sandbox_gateway.settle_due))


@huey.periodic_task(crontab(minute="27"))
def sandbox_payouts() -> int:
    """Make the sandbox gateway's payouts of yesterday (UTC); hourly, a second run adds none."""
    from app.models import utcnow
    from app.services import sandbox_gateway

    yesterday = utcnow().date() - dt.timedelta(days=1)
    return len(run_job(None, sandbox_gateway.pay_out, yesterday))


@huey.periodic_task(crontab(minute="37"))
def gateway_payouts() -> int:
    """Copy the gateways' payouts (for bank reconciliation); hourly, a second run adds none."""
    from app.services.reconciliation import payouts

    return int(run_job(None, payouts.sync_all))


@huey.periodic_task(crontab(minute="*/5"))
def tacit_acceptances() -> Any:
    """Record tacit acceptance (034) on invoices whose 3 business days after 032 passed."""
    from app.services.lifecycle import transitions

    return run_job(None, transitions.record_tacit_acceptances)


@huey.periodic_task(crontab(minute="*/5"))
def reminders() -> Any:
    """Remind buyers of invoices due soon and overdue (once per invoice and kind)."""
    from app.services import notifications

    return run_job(None, notifications.notify_due_and_overdue)


@huey.periodic_task(crontab(minute="7"))
def idempotency_keys() -> int:
    """Forget the API's Idempotency-Keys older than 24 hours."""
    from app.services import idempotency

    return int(run_job(None, idempotency.purge_expired_keys))


@huey.periodic_task(crontab(minute="17"))
def abandoned_pdf_uploads() -> int:
    """Forget the PDF uploads left in review longer than a day."""
    from app.services import pdf_documents

    return int(run_job(None, pdf_documents.forget_abandoned_uploads))
