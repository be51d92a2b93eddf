"""Scheduled jobs as commands, for cron or a scheduler: ``flask --app wsgi jobs …``."""

from __future__ import annotations

import click
from flask import Flask

from app.extensions import db


def register_jobs(app: Flask) -> None:
    """Attach the ``jobs`` command group to the app."""

    @app.cli.group("jobs")
    def jobs_group() -> None:
        """Scheduled jobs (each safe to run twice, or twice at once)."""

    @jobs_group.command("tacit-acceptance")
    def tacit_acceptance() -> None:
        """Record tacit acceptance (034) on invoices whose 3 business days after 032 passed."""
        from app.models import utcnow
        from app.services import lifecycle
        from app.services.errors import DomainError

        now = utcnow()
        recorded = skipped = 0
        # One commit per invoice: a long run never holds the database, and a failure (a
        # supplier without a certificate) spares the others.
        for document_id in lifecycle.due_for_tacit_acceptance(now):
            try:
                lifecycle.record_tacit_acceptance(document_id, now=now)
                db.session.commit()
            except DomainError as problem:
                db.session.rollback()
                skipped += 1
                click.echo(f"document {document_id}: {problem.message}", err=True)
                continue
            recorded += 1
        click.echo(f"tacit acceptance recorded on {recorded} invoice(s), {skipped} skipped")
