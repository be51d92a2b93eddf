"""The job queue's worker and one-shot runs of its periodic tasks: ``flask --app wsgi jobs …``."""

from __future__ import annotations

import click
from flask import Flask


def register_jobs(app: Flask) -> None:
    """Attach the ``jobs`` command group to the app."""

    @app.cli.group("jobs")
    def jobs_group() -> None:
        """Background jobs: the worker, and each periodic task once (safe to run twice)."""

    @jobs_group.command("tacit-acceptance")
    def tacit_acceptance() -> None:
        """Record tacit acceptance (034) on invoices whose 3 business days after 032 passed."""
        from app.jobs import tasks

        report = tasks.tacit_acceptances.call_local()
        for document_id, problem in report.skipped.items():
            click.echo(f"document {document_id}: {problem}", err=True)
        click.echo(
            f"tacit acceptance recorded on {len(report.recorded)} invoice(s), "
            f"{len(report.skipped)} skipped"
        )

    @jobs_group.command("reminders")
    def reminders() -> None:
        """Remind buyers of invoices due soon and overdue (once per invoice and kind)."""
        from app.jobs import tasks

        report = tasks.reminders.call_local()
        click.echo(f"reminders: {len(report.due_soon)} due soon, {len(report.overdue)} overdue")

    @jobs_group.command("worker")
    @click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker threads.")
    def worker(workers: int | None) -> None:
        """Run the job queue's consumer: its tasks and periodic tasks (Ctrl+C stops)."""
        from flask import current_app

        from app import jobs

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if app.config["JOBS_IMMEDIATE"]:
            raise click.ClickException("JOBS_IMMEDIATE is set: tasks run where they are enqueued")
        jobs.run_worker(app, workers=workers)

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
        from app.jobs import tasks

        removed = tasks.idempotency_keys.call_local()
        click.echo(f"idempotency keys: {removed} expired removed")
