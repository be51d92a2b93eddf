"""`flask statements inspect`: JSON lines, the human summary, exit codes."""

from __future__ import annotations

import json

from tests.conftest import shared_data
from tests.statements.test_mt940 import ONE

KEYS = {"file", "format", "statements", "error"}
STATEMENT_KEYS = {"account", "currency", "opening_balance", "closing_balance", "entries"}
ENTRY_KEYS = {"booking_date", "value_date", "amount", "currency", "reference", "end_to_end_id",
              "counterparty", "description"}


def test_json_lines_for_the_shared_folder(app):
    folder = shared_data() / "statements"
    result = app.test_cli_runner().invoke(args=["statements", "inspect", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert [r["file"] for r in rows] == [str(p) for p in files]
    assert {r["format"] for r in rows} == {"camt053", "mt940", "ofx", "csv"}
    assert all(set(r) == KEYS and r["error"] is None for r in rows)
    statements = [s for r in rows for s in r["statements"]]
    assert all(set(s) == STATEMENT_KEYS for s in statements)
    entries = [e for s in statements for e in s["entries"]]
    assert all(set(e) == ENTRY_KEYS and set(e["counterparty"]) == {"name", "account"}
               for e in entries)
    assert all(isinstance(e["amount"], str) for e in entries)
    ing = next(r for r in rows if r["file"].endswith("jejik-ing.sta"))
    assert ing["statements"][0]["entries"][0]["amount"] == "-25.03"
    assert ing["statements"][0]["entries"][0]["booking_date"] == "2010-07-22"
    assert ing["statements"][0]["entries"][0]["value_date"] == "2010-07-22"
    assert ing["statements"][0]["opening_balance"] == "0.00"


def test_a_junk_file_makes_exit_2_with_its_error(app, tmp_path):
    (tmp_path / "a.sta").write_bytes(ONE.encode("iso-8859-1"))
    (tmp_path / "b.bin").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.pdf").write_bytes(b"%PDF-1.7\n")
    result = app.test_cli_runner().invoke(args=["statements", "inspect", str(tmp_path), "--json"])
    assert result.exit_code == 2
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["file"].removeprefix(str(tmp_path)) for r in rows] == ["/a.sta", "/b.bin",
                                                                     "/sub/c.pdf"]
    good, junk, pdf = rows
    assert good["error"] is None and good["format"] == "mt940"
    assert junk["format"] is None and junk["statements"] == []
    assert "not a bank statement" in junk["error"]
    assert pdf["format"] is None and "PDF" in pdf["error"]


def test_a_missing_path_is_said_and_exits_2(app, tmp_path):
    (tmp_path / "a.sta").write_bytes(ONE.encode())
    result = app.test_cli_runner().invoke(
        args=["statements", "inspect", str(tmp_path / "missing"), str(tmp_path / "a.sta")])
    assert result.exit_code == 2
    assert "missing: no such file or folder" in result.output
    assert "a.sta: mt940, 1 statement" in result.output


def test_the_human_summary_shows_balances_and_the_balance_check(app, tmp_path):
    path = tmp_path / "a.sta"
    path.write_bytes(ONE.replace("2201,00", "2200,00").encode())
    result = app.test_cli_runner().invoke(args=["statements", "inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "account NL91ABNA0417164300 EUR" in result.output
    assert "2 entries" in result.output
    assert "balance check: opening + entries ≠ closing (off by -1.00)" in result.output
    consistent = tmp_path / "b.sta"
    consistent.write_bytes(ONE.encode())
    result = app.test_cli_runner().invoke(args=["statements", "inspect", str(consistent)])
    assert "opening 1234.56  closing 2201.00" in result.output
    assert "balance check: opening + entries = closing" in result.output
