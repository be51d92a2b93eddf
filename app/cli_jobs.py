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
        from app.services.errors import DomainError
        from app.services.lifecycle import transitions

        now = utcnow()
        recorded = skipped = 0
        # One commit per invoice: a long run never holds the database, and a failure (a
        # supplier without a certificate) spares the others.
        for document_id in transitions.due_for_tacit_acceptance(now):
            try:
                transitions.record_tacit_acceptance(document_id, now=now)
                db.session.commit()
            except DomainError as problem:
                db.session.rollback()
                skipped += 1
                click.echo(f"document {document_id}: {problem.message}", err=True)
                continue
            recorded += 1
        click.echo(f"tacit acceptance recorded on {recorded} invoice(s), {skipped} skipped")

    @jobs_group.command("worker")
    @click.option("--once", is_flag=True, help="Run one tick and stop.")
    @click.option("--interval", type=int, default=None, help="Seconds between ticks.")
    def worker(once: bool, interval: int | None) -> None:
        """Run the scheduled jobs in the foreground (a Redis lock keeps one tick per period)."""
        from flask import current_app

        from app import scheduler

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if once:
            results = scheduler.tick(app)
            click.echo("tick skipped: another process holds it" if results is None else "tick done")
            return
        loop = scheduler.Scheduler(app, interval=interval)
        click.echo(f"jobs worker: a tick every {loop.interval:.0f} s (Ctrl+C stops)")
        try:
            loop.run(first_delay=0)
        except KeyboardInterrupt:
            loop.stop()

    @jobs_group.command("webhooks")
    def webhooks_job() -> None:
        """Send the webhook deliveries that are due (first tries and retries)."""
        from app.services import webhooks

        report = webhooks.deliver_due()
        click.echo(
            f"webhooks: {len(report.delivered)} delivered, {len(report.failed)} failed "
            "(retried later unless given up)"
        )

    @jobs_group.command("idempotency-keys")
    def idempotency_keys_job() -> None:
        """Forget the API's Idempotency-Keys older than 24 hours."""
        from app.services import idempotency

        removed = idempotency.purge_expired_keys()
        db.session.commit()
        click.echo(f"idempotency keys: {removed} expired removed")
