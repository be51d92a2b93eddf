"""The `flask statements …` commands: read bank statement files without the database.

    flask --app wsgi statements inspect PATH... [--json]

`inspect` reads files, or every regular file under folders (recursively, sorted). With --json it
prints one JSON object per file per line. It exits 0 when every file was read, 2 when any could
not be (or a PATH does not exist).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask

EXIT_READ, EXIT_UNREADABLE = 0, 2


def register_statements(app: Flask) -> None:
    """Attach the `statements` command group to the app."""
    app.cli.add_command(statements_group)


@click.group("statements")
def statements_group() -> None:
    """Bank statements: camt.053, MT940, OFX, CSV and XLSX."""


def iter_files(paths: tuple[str, ...]) -> Iterator[Path | str]:
    """Each PATH that is a file, every regular file under each folder (sorted); a PATH that
    does not exist comes back as a str."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            yield path
        else:
            yield name


def summary(result) -> str:  # noqa: ANN001 (a ParseResult; imported lazily)
    """A few human lines about one file."""
    if result.error:
        fmt = f" ({result.format})" if result.format else ""
        return f"{result.file}: UNREADABLE{fmt}  {result.error}"
    count = len(result.statements)
    lines = [f"{result.file}: {result.format}, {count} statement{'s' * (count != 1)}"]
    for n, s in enumerate(result.statements, 1):
        period = (f"  {s.start_date or '?'}..{s.end_date or '?'}"
                  if s.start_date or s.end_date else "")
        lines.append(
            f"  {n}. account {s.account or '-'} {s.currency or ''}{period}  "
            f"{len(s.entries)} entr{'y' if len(s.entries) == 1 else 'ies'}  "
            f"opening {_money(s.opening_balance)}  closing {_money(s.closing_balance)}"
        )
        gap = s.balance_gap()
        if gap is None:
            lines.append("     balance check: not possible (a balance is missing)")
        elif gap:
            lines.append(f"     balance check: opening + entries ≠ closing (off by {gap})")
        else:
            lines.append("     balance check: opening + entries = closing")
    return "\n".join(lines)


def _money(value: object) -> str:
    return "-" if value is None else str(value)


@statements_group.command("inspect")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
def inspect(paths: tuple[str, ...], as_json: bool) -> None:
    """Read bank statement files or folders and show what they hold."""
    from app.statements import inspect_file

    status = EXIT_READ
    for path in iter_files(paths):
        if isinstance(path, str):
            click.echo(f"{path}: no such file or folder", err=True)
            status = EXIT_UNREADABLE
            continue
        result = inspect_file(path)
        if result.error:
            status = EXIT_UNREADABLE
        if as_json:
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            click.echo(summary(result))
    click.get_current_context().exit(status)
