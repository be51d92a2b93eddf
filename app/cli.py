"""Command-line commands: database migrations, demo data, translations, e-invoices, stored
documents, bank statements."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app

from app.cli_audit import register_audit
from app.cli_documents import register_documents
from app.cli_einvoice import register_einvoice
from app.cli_jobs import register_jobs
from app.cli_statements import register_statements
from app.config import BASE_DIR


def alembic_config(url: str) -> AlembicConfig:
    """Return an Alembic configuration for the migrations folder and a database URL."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(BASE_DIR / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the database at url up to the revision."""
    command.upgrade(alembic_config(url), revision)


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    register_audit(app)
    register_documents(app)
    register_einvoice(app)
    register_jobs(app)
    register_statements(app)

    @app.cli.group("db")
    def db_group() -> None:
        """Database migrations (Alembic)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade(revision: str) -> None:
        """Apply migrations up to REVISION (default: head)."""
        upgrade_database(current_app.config["DATABASE_URL"], revision)
        click.echo("database is at " + revision)

    @db_group.command("downgrade")
    @click.argument("revision")
    def downgrade(revision: str) -> None:
        """Undo migrations down to REVISION."""
        command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)

    @db_group.command("revision")
    @click.option("-m", "--message", required=True)
    def revision(message: str) -> None:
        """Write a new migration from the difference between models and database."""
        command.revision(
            alembic_config(current_app.config["DATABASE_URL"]), message=message, autogenerate=True
        )

    @db_group.command("current")
    def current() -> None:
        """Show the database's revision."""
        command.current(alembic_config(current_app.config["DATABASE_URL"]))

    @app.cli.group("sandbox")
    def sandbox_group() -> None:
        """The embedded sandbox gateway (test money)."""

    @sandbox_group.command("payout")
    @click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Pay out what settled up to the end of this day (UTC); default today.")
    def payout(day) -> None:
        """Make the sandbox's payouts now (the hourly job makes yesterday's): one line each,
        "PAYOUT_ID CURRENCY AMOUNT ACCOUNT NAME". One payout per account and day: an account
        whose payout of the day is made already waits for the next day (--day)."""
        from app.extensions import db
        from app.models import utcnow
        from app.services import sandbox_gateway

        made = sandbox_gateway.pay_out(day.date() if day else utcnow().date())
        db.session.commit()
        names = sandbox_gateway.account_names(made)
        for p in made:
            click.echo(f"{p.payout_id} {p.currency} {p.amount} {names.get(p.id, '')}".rstrip())
        if not made:
            click.echo("nothing to pay out")

    @app.cli.group("demo")
    def demo_group() -> None:
        """Demo data from fixtures/."""

    @demo_group.command("load")
    @click.option("--if-empty", is_flag=True, help="Load only when no company exists yet.")
    def load(if_empty: bool) -> None:
        """(Re)create the demo companies, users and partnerships."""
        from app.services import demo, issuing

        created = demo.load_demo(BASE_DIR / "fixtures" / "demo.json", only_if_empty=if_empty)
        click.echo("demo data loaded" if created else "database not empty: demo data left alone")
        if created and not issuing.software_configured():
            click.echo("no DIAN software configured (DIAN_SOFTWARE_ID/PIN): demo invoices skipped")

    @demo_group.command("bulk")
    @click.option("--documents", "n", default=1_000_000, show_default=True,
                  type=click.IntRange(min=0), help="How many documents to insert.")
    @click.option("--partners", default=200, show_default=True, type=click.IntRange(min=1),
                  help="How many partner companies of Distribuidora Andina to spread them over.")
    def bulk(n: int, partners: int) -> None:
        """Fill the database with N documents between Distribuidora Andina and many partners."""
        import time

        from sqlalchemy import select

        from app.extensions import db
        from app.models import Company
        from app.services import demo
        from app.tenancy import unscoped

        country, tax_id = demo.ANDINA
        found = db.session.scalars(
            unscoped(select(Company.id).where(Company.country == country,
                                              Company.tax_id == tax_id))
        ).first()
        if found is None:
            demo.load_demo(BASE_DIR / "fixtures" / "demo.json")
            click.echo("demo data loaded (Distribuidora Andina was missing)")
        start = time.perf_counter()
        step = max(demo.BULK_BATCH, n // 20)

        def progress(done: int, total: int) -> None:
            if done == total or done % step < demo.BULK_BATCH:
                elapsed = time.perf_counter() - start
                click.echo(f"{done:,}/{total:,} documents ({elapsed:.1f} s, "
                           f"{done / elapsed if elapsed else 0:,.0f}/s)")

        inserted = demo.load_bulk(n, partners, progress=progress)
        click.echo(f"{inserted:,} documents across {partners} partners "
                   f"in {time.perf_counter() - start:.1f} s")

    @app.cli.group("translations")
    def translations_group() -> None:
        """Translation catalogs (Babel)."""

    @translations_group.command("extract")
    def extract() -> None:
        """Extract messages into app/translations/messages.pot and update the catalogs."""
        pot = BASE_DIR / "app" / "translations" / "messages.pot"
        _pybabel("extract", "-F", str(BASE_DIR / "babel.cfg"), "-k", "_l", "--no-location",
                 "--sort-output", "-o", str(pot), str(BASE_DIR / "app"))
        _pybabel("update", "-i", str(pot), "-d", str(BASE_DIR / "app" / "translations"),
                 "--no-fuzzy-matching")

    @translations_group.command("compile")
    def compile_() -> None:
        """Compile the catalogs into .mo files."""
        compile_translations()


def compile_translations() -> None:
    """Compile app/translations/*/LC_MESSAGES/messages.po into .mo files."""
    _pybabel("compile", "-d", str(BASE_DIR / "app" / "translations"))


def _pybabel(*args: str) -> None:
    pybabel = Path(sys.executable).with_name("pybabel")
    result = subprocess.run([str(pybabel), *args], check=False)  # noqa: S603
    if result.returncode != 0:
        raise click.ClickException("pybabel " + args[0] + " failed")
