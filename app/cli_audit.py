"""The audit trail's own check: ``flask --app wsgi audit verify``."""

from __future__ import annotations

import click
from flask import Flask


def register_audit(app: Flask) -> None:
    """Attach the ``audit`` command group to the app."""

    @app.cli.group("audit")
    def audit_group() -> None:
        """The audit trail (a hash chain per company)."""

    @audit_group.command("verify")
    def verify() -> None:
        """Recompute every chain; exit 1 naming the first broken link of each broken chain."""
        from app.services import audit

        report = audit.verify_chains()
        for chain in report.chains:
            if chain.intact:
                continue
            company = "system" if chain.company_id is None else f"company {chain.company_id}"
            record = f", record id {chain.event_id}" if chain.event_id is not None else ""
            click.echo(f"{company}: {chain.problem} at seq {chain.seq}{record}", err=True)
        broken = sum(1 for chain in report.chains if not chain.intact)
        summary = f"{len(report.chains)} chains, {report.records} records"
        if broken:
            click.echo(f"{summary}, {broken} broken", err=True)
            raise SystemExit(1)
        click.echo(f"{summary}, all intact")
