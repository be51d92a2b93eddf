"""Maintenance of stored documents: ``flask --app wsgi documents backfill-lines``."""

from __future__ import annotations

import click
from flask import Flask


def register_documents(app: Flask) -> None:
    """Attach the ``documents`` command group to the app."""

    @app.cli.group("documents")
    def documents_group() -> None:
        """Stored documents (maintenance)."""

    @documents_group.command("backfill-lines")
    @click.option(
        "--batch-size",
        default=200,
        show_default=True,
        type=click.IntRange(min=1),
        help="Documents read and committed together.",
    )
    def backfill_lines(batch_size: int) -> None:
        """Store the lines of documents kept before lines were stored (idempotent): read from
        each original XML, or a PDF invoice's reviewed lines. Commits after every batch."""
        from app.extensions import db
        from app.services.documents import backfill

        def commit(report: backfill.BackfillReport) -> None:
            db.session.commit()
            click.echo(f"… {report.examined} documents examined", err=True)

        report = backfill.backfill_lines(batch_size=batch_size, after_batch=commit)
        db.session.commit()
        click.echo(
            f"{report.documents} documents filled with {report.lines} lines"
            f" ({report.unreadable} originals unreadable, skipped)"
        )
