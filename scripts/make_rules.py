"""Lay out the official rule archives, as downloaded from their publishers, as a rules folder.

Usage: python scripts/make_rules.py DEST ARCHIVE.zip [ARCHIVE.zip ...]

Understands the OASIS UBL 2.1 package (UBL-2.1.zip), CEN's EN 16931 validation artefacts
(en16931-ubl-*.zip or a zip of the ConnectingEurope/eInvoicing-EN16931 repository), OpenPeppol's
BIS Billing 3 rules release (or a zip of OpenPEPPOL/peppol-bis-invoice-3) and DIAN's "caja de
herramientas" zip. Zips inside a zip are opened too. Only known files are written, each under a
path this script builds itself, so a hostile archive cannot write elsewhere. The result is the
layout app/einvoice/rules.py reads (EINVOICE_RULES_DIR); the script ends by naming anything still
missing and exits 1 if a required piece is absent.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.einvoice import rules  # noqa: E402 - after making the project importable

MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_NESTING = 2

# (pattern on the member's path inside the archive, folder under DEST). The file keeps its name.
PLACES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(^|/)xsdrt/common/[^/]+\.xsd$"), "ubl/oasis-ubl-2.1/xsdrt/common"),
    (re.compile(r"(^|/)xsdrt/maindoc/[^/]+\.xsd$"), "ubl/oasis-ubl-2.1/xsdrt/maindoc"),
    (re.compile(r"(^|/)EN16931-UBL-validation\.xslt$"), "ubl/en16931/validation-artifacts"),
    (re.compile(r"(^|/)ubl/examples/[^/]+\.xml$"), "ubl/en16931/ubl-examples"),
    (re.compile(r"(^|/)unit-Invoice-UBL/[^/]+\.xml$"), "ubl/en16931/unit-Invoice-UBL"),
    (re.compile(r"(^|/)unit-CreditNote-UBL/[^/]+\.xml$"), "ubl/en16931/unit-CreditNote-UBL"),
    (re.compile(r"(^|/)PEPPOL-EN16931-UBL\.xslt$"), "ubl/peppol-bis-billing-3/xslt"),
    (re.compile(r"(^|/)rules/sch/[^/]+\.sch$"), "ubl/peppol-bis-billing-3/schematron"),
    (re.compile(r"(^|/)rules/examples/[^/]+\.xml$"), "ubl/peppol-bis-billing-3/examples"),
    (re.compile(r"(^|/)unit-UBL-PEPPOL/[^/]+\.xml$"), "ubl/peppol-bis-billing-3/unit-UBL-PEPPOL"),
    (re.compile(r"(^|/)XSD/common/[^/]+\.xsd$"), "dian/caja-herramientas-v1.9/XSD/common"),
    (re.compile(r"(^|/)XSD/maindoc/[^/]+\.xsd$"), "dian/caja-herramientas-v1.9/XSD/maindoc"),
    (re.compile(r"(^|/)DIAN-UBL21-model-compiled\.xsl$"), "dian/caja-herramientas-v1.9/XSL"),
    # DIAN's code lists: the company's fiscal data are checked against them (DIAN_CODE_LISTS_DIR).
    (
        re.compile(r"(^|/)listas-de-valores/[^/]+\.gc$"),
        "dian/caja-herramientas-v1.9/listas-de-valores",
    ),
)

REQUIRED = {
    "OASIS UBL 2.1 schemas": f"{rules.UBL_XSD_DIR}/UBL-Invoice-2.1.xsd",
    "DIAN schemas": f"{rules.DIAN_XSD_DIR}/UBL-Invoice-2.1.xsd",
    "DIAN compiled XSL": rules.DIAN_XSL,
    "EN 16931 UBL XSLT": rules.EN16931_XSLT,
    "Peppol BIS 3 XSLT": rules.PEPPOL_XSLT,
}


def members(archive: zipfile.ZipFile, depth: int = 0) -> Iterator[tuple[str, bytes]]:
    """Yield (path, content) of every file in the archive, opening nested zips."""
    for info in archive.infolist():
        if info.is_dir() or info.file_size > MAX_MEMBER_BYTES:
            continue
        name = info.filename.replace("\\", "/")
        if name.lower().endswith(".zip") and depth < MAX_NESTING:
            with zipfile.ZipFile(io.BytesIO(archive.read(info))) as inner:
                yield from members(inner, depth + 1)
        else:
            yield name, archive.read(info)


def place(name: str) -> str | None:
    """Return where a member goes under DEST (a relative path we build), or None to skip it."""
    for pattern, folder in PLACES:
        if pattern.search(name):
            return f"{folder}/{PurePosixPath(name).name}"
    return None


def lay_out(dest: Path, archives: list[Path]) -> dict[str, int]:
    """Copy the known files of each archive into dest; return how many came from each one."""
    counts = {}
    for path in archives:
        written = 0
        with zipfile.ZipFile(path) as archive:
            for name, content in members(archive):
                target = place(name)
                if target is None or "/." in f"/{target}":
                    continue
                out = dest / target
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(content)
                written += 1
        counts[path.name] = written
    return counts


def missing(dest: Path) -> list[str]:
    """Return the names of the required pieces dest still lacks."""
    return [label for label, relative in REQUIRED.items() if not (dest / relative).is_file()]


def main(argv: list[str] | None = None) -> int:
    """Lay out the archives given on the command line and report what is missing."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__)
        return 2
    dest, archives = Path(args[0]), [Path(a) for a in args[1:]]
    for name, count in lay_out(dest, archives).items():
        print(f"{name}: {count} files")
    lacking = missing(dest)
    for label in lacking:
        print(f"missing: {label}")
    if not lacking:
        print(f"rules folder ready: EINVOICE_RULES_DIR={dest.resolve()}")
    return 1 if lacking else 0


if __name__ == "__main__":
    raise SystemExit(main())
