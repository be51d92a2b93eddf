"""The `flask einvoice …` commands: thin wrappers around the document engine for scripting.

    flask --app wsgi einvoice inspect PATH... [--json] [--technical-key KEY] [--software-pin PIN]
    flask --app wsgi einvoice sign PATH --p12 FILE --password-env VAR [-o OUT]
    flask --app wsgi einvoice render-pdf PATH [--lang es|en] [-o OUT]
    flask --app wsgi einvoice respond INVOICE --event 030…034 --number N --software-id ID
        --software-pin-env VAR --provider-nit NIT [--p12 FILE --password-env VAR] [-o OUT]

`inspect` exits 0 when every file is valid, 1 when any is invalid, 2 when any could not be read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def register_einvoice(app: Flask) -> None:
    """Attach the `einvoice` command group to the app."""
    app.cli.add_command(einvoice_group)


@click.group("einvoice")
def einvoice_group() -> None:
    """Electronic invoices: inspect, sign, render as PDF, respond with an event."""


def iter_files(paths: tuple[str, ...]) -> Iterator[Path]:
    """Yield each PATH that is a file, and every *.xml file under each folder (sorted)."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".xml"
            )
        else:
            yield path


@einvoice_group.command("inspect")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
@click.option("--technical-key", help="The numbering range's technical key (recomputes CUFEs).")
@click.option("--software-pin", help="The software PIN (recomputes CUDEs of notes).")
@click.option(
    "--rules-dir",
    type=click.Path(file_okay=False),
    help="Folder of official schemas and rules (default: $EINVOICE_RULES_DIR).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "es"]),
    default="en",
    show_default=True,
    help="Language of the findings' messages.",
)
def inspect(
    paths: tuple[str, ...],
    as_json: bool,
    technical_key: str | None,
    software_pin: str | None,
    rules_dir: str | None,
    lang: str,
) -> None:
    """Read, verify and validate e-invoice files or folders (recursively, *.xml)."""
    from app.einvoice import report, rules
    from app.einvoice.engine import ingest

    status = EXIT_VALID
    skipped_rules = False
    files = list(iter_files(paths))
    if not files:
        click.echo("no e-invoice files found", err=True)
        click.get_current_context().exit(EXIT_UNREADABLE)
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            finding = report.unreadable_file_finding(exc.strerror or str(exc))
            status = EXIT_UNREADABLE
            if as_json:
                click.echo(
                    json.dumps(
                        report.unreadable_json(str(path), finding, language=lang),
                        ensure_ascii=False,
                    )
                )
            else:
                click.echo(f"{path}: UNREADABLE  {finding.message(lang)}")
            continue
        result = ingest(
            data, rules_dir=rules_dir, technical_key=technical_key, software_pin=software_pin
        )
        if not result.readable:
            status = EXIT_UNREADABLE
        elif not result.valid and status == EXIT_VALID:
            status = EXIT_INVALID
        if as_json:
            click.echo(
                json.dumps(report.as_json(result, str(path), language=lang), ensure_ascii=False)
            )
        else:
            click.echo(report.summary(result, str(path), language=lang))
        skipped_rules = skipped_rules or any(f.code == rules.SKIPPED_CODE for f in result.findings)
    if skipped_rules:
        click.echo(
            "note: official rules were skipped; pass --rules-dir or set EINVOICE_RULES_DIR to a "
            "folder laid out like ../shared/data",
            err=True,
        )
    click.get_current_context().exit(status)


@einvoice_group.command("sign")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--p12",
    "p12",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The signer's PKCS#12 (.p12/.pfx) file.",
)
@click.option(
    "--password-env",
    required=True,
    metavar="VAR",
    help="Name of the environment variable holding the PKCS#12 password.",
)
@click.option(
    "--role",
    type=click.Choice(["supplier", "third party"]),
    default="supplier",
    show_default=True,
    help="ClaimedRole: the issuer or its technology provider.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to write the signed XML (default: standard output).",
)
def sign(path: str, p12: str, password_env: str, role: str, output: str | None) -> None:
    """Sign a DIAN document with XAdES-EPES (DIAN policy) using a PKCS#12 certificate."""
    from app.einvoice.signature import SignatureError, load_pkcs12, sign_document
    from app.einvoice.xmlsafe import parse_xml

    password = os.environ.get(password_env)
    if password is None:
        raise click.ClickException(f"environment variable {password_env} is not set")
    tree, findings = parse_xml(Path(path).read_bytes())
    if tree is None:
        raise click.ClickException("; ".join(f.message_en for f in findings))
    try:
        key, certificate, chain = load_pkcs12(Path(p12).read_bytes(), password)
        signed = sign_document(tree, key=key, certificate=certificate, chain=chain, role=role)
    except SignatureError as exc:
        raise click.ClickException(str(exc)) from None
    _write(signed, output)


def _read_document(path: str):
    """Ingest a file for a command that needs its Document; exit 2 when it cannot be read."""
    from app.einvoice.engine import ingest

    result = ingest(Path(path).read_bytes())
    if result.ordering is not None:
        click.echo(f"{path}: is a {result.ordering.document_type}, not an invoice", err=True)
        click.get_current_context().exit(EXIT_UNREADABLE)
    if not result.readable:
        reasons = "; ".join(f.message_en for f in result.findings if f.severity == "error")
        click.echo(f"{path}: could not be read: {reasons}", err=True)
        click.get_current_context().exit(EXIT_UNREADABLE)
    if not result.valid:
        codes = ", ".join(sorted({f.code for f in result.findings if f.severity == "error"}))
        click.echo(f"{path}: warning, the document is not valid ({codes})", err=True)
    return result.document


def _write(data: bytes, output: str | None) -> None:
    if output:
        Path(output).write_bytes(data)
    else:
        click.get_binary_stream("stdout").write(data)


@einvoice_group.command("render-pdf")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Default: standard output.")
def render_pdf_command(path: str, lang: str, output: str | None) -> None:
    """Render a document's graphic representation (PDF with DIAN's QR code)."""
    from app.einvoice.render import render_pdf

    _write(render_pdf(_read_document(path), locale=lang), output)


@einvoice_group.command("respond")
@click.argument("invoice", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--event", "code", required=True, type=click.Choice(["030", "031", "032", "033", "034"])
)
@click.option("--number", required=True, help="The event's own number (cbc:ID).")
@click.option("--software-id", required=True, help="The software id DIAN registered.")
@click.option(
    "--software-pin-env",
    required=True,
    metavar="VAR",
    help="Name of the environment variable holding the software PIN.",
)
@click.option("--provider-nit", required=True, help="The technology provider's NIT.")
@click.option(
    "--claim-reason",
    type=click.Choice(["01", "02", "03", "04"]),
    help="031 only: the 'Concepto de Reclamo'.",
)
@click.option("--person-id", help="030/032: id of the person who records the event.")
@click.option("--first-name")
@click.option("--family-name")
@click.option("--job-title", default="")
@click.option("--receipt-id", help="034: the number of the 032 event (receipt) it cites.")
@click.option("--receipt-cude", help="034: the CUDE of that 032 event.")
@click.option(
    "--environment",
    type=click.Choice(["1", "2"]),
    default="2",
    show_default=True,
    help="1 production, 2 test.",
)
@click.option("--p12", type=click.Path(exists=True, dir_okay=False), help="Sign with this PKCS#12.")
@click.option("--password-env", metavar="VAR", help="Variable holding the PKCS#12 password.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Default: standard output.")
def respond(
    invoice: str,
    code: str,
    number: str,
    software_id: str,
    software_pin_env: str,
    provider_nit: str,
    claim_reason: str | None,
    person_id: str | None,
    first_name: str | None,
    family_name: str | None,
    job_title: str,
    receipt_id: str | None,
    receipt_cude: str | None,
    environment: str,
    p12: str | None,
    password_env: str | None,
    output: str | None,
) -> None:
    """Write a RADIAN event (ApplicationResponse 030–034) about INVOICE, signed with --p12."""
    from datetime import datetime

    from app.einvoice.events import Person, make_event, write_event
    from app.einvoice.model import DocumentReference
    from app.einvoice.signature import COLOMBIA, SignatureError, load_pkcs12, sign_document
    from app.einvoice.writer import Software, WriterError

    pin = os.environ.get(software_pin_env)
    if not pin:
        raise click.ClickException(f"environment variable {software_pin_env} is not set")
    doc = _read_document(invoice)
    now = datetime.now(COLOMBIA).replace(microsecond=0)
    person = (
        Person(person_id, first_name or "", family_name or "", job_title) if person_id else None
    )
    receipt = (
        DocumentReference(id=receipt_id or "", uuid=receipt_cude or "") if receipt_id else None
    )
    try:
        event = make_event(
            code,
            number=number,
            invoice=doc,
            issue_date=now.date(),
            issue_time=now.strftime("%H:%M:%S-05:00"),
            claim_reason=claim_reason,
            person=person,
            receipt=receipt,
        )
        data = write_event(
            event, software=Software(software_id, pin, provider_nit), environment=environment
        )
        if p12:
            password = os.environ.get(password_env or "")
            if password is None:
                raise click.ClickException("--p12 needs --password-env naming a set variable")
            key, certificate, chain = load_pkcs12(Path(p12).read_bytes(), password)
            data = sign_document(data, key=key, certificate=certificate, chain=chain)
    except (WriterError, SignatureError) as exc:
        raise click.ClickException(str(exc)) from None
    _write(data, output)
