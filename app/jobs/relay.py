"""From a committed row to its task: the one way a service asks for background work.

A service never calls the queue: it writes a row whose state says what is to be done (the
outbox pattern) — a ``WebhookDelivery`` due now, a ``PdfUpload`` being extracted. After each
flush this module notes the new rows of the models in ``TASKS`` on the session's after-commit
queue (``app.db.after_commit``, the one that sends e-mails and socket events), so their tasks
are enqueued once the transaction has committed and never when it rolls back. A row whose
savepoint was rolled back leaves a task that finds nothing to do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import PortalSession, after_commit
from app.jobs import tasks
from app.jobs.queue import enqueue
from app.models import (
    GatewayEventRecord,
    PdfUpload,
    SandboxWebhook,
    StatementImport,
    WebhookDelivery,
)

#: The outbox models and the task each new row is handed to, with (company id, row id); a row
#: no company owns (the sandbox gateway's own) is handed None for the company.
TASKS: dict[type[Any], Any] = {
    WebhookDelivery: tasks.deliver_webhook,
    PdfUpload: tasks.extract_pdf,
    GatewayEventRecord: tasks.process_gateway_event,
    SandboxWebhook: tasks.deliver_sandbox_webhook,
    StatementImport: tasks.match_statement_import,  # a no-op unless its matching is pending
}


@event.listens_for(PortalSession, "after_flush")
def _relay_new_rows(session: Session, _context: Any) -> None:
    for row in session.new:
        task = TASKS.get(type(row))
        if task is not None:
            company_id = getattr(row, "company_id", None)
            after_commit(session, _enqueue_later(task, company_id, row.id))


def _enqueue_later(task: Any, company_id: int | None, row_id: int) -> Any:
    return lambda: enqueue(task, company_id, row_id)
