"""The official checks of Peppol BIS Ordering 3 documents: the UBL 2.1 XSD of the root and the
OpenPeppol Schematron of the transaction, compiled from its sources.

OpenPeppol publishes the ordering rules as Schematron sources only. Each transaction's file
(``sch/PEPPOLBIS-T01.sch``…) includes ``../../target/generated/<T>-basic.sch``, which their build
generates and does not publish; the part the rules need is one global
``<let name="cl<Identifier>" value="tokenize('<codes>', '\\s')"/>`` per code list of
``structure/codelist/``. We put those in place of the include, then compile with the ISO
Schematron XSLT 2 skeleton in three saxonche steps (include → abstract expand → SVRL).

Compiling takes a fraction of a second per transaction, but a worker should not pay for it on
each start: the compiled stylesheet is written to a cache folder (``EINVOICE_CACHE_DIR``, else a
folder in the system's temporary directory), named by a hash of every source it was built from,
so a changed source is compiled again and an unchanged one never is. The rules folder itself is
read-only. In a process, each stylesheet is compiled by Saxon once and used under its lock
(``rules._compiled``).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from app.einvoice import rules
from app.einvoice.findings import Finding, error

log = logging.getLogger(__name__)

ORDERING_DIR = "ubl/peppol-bis-ordering-3"
ORDERING_SCH_DIR = ORDERING_DIR + "/sch"
ORDERING_CODELIST_DIR = ORDERING_DIR + "/structure/codelist"
SKELETON_DIR = "tools/iso-schematron-xslt2"
SKELETON_STEPS = ("iso_dsdl_include.xsl", "iso_abstract_expand.xsl", "iso_svrl_for_xslt2.xsl")
SKELETON_SUPPORT = ("iso_schematron_skeleton_for_saxon.xsl",)

SCH = "http://purl.oclc.org/dsdl/schematron"
CODELIST = "urn:fdc:difi.no:2017:vefa:structure:CodeList-1"
GENERATED_INCLUDE = "target/generated/"

#: The UBL roots of the ordering documents the engine reads.
ORDERING_ROOTS = (
    "Order",
    "OrderResponse",
    "OrderChange",
    "OrderCancellation",
    "Catalogue",
    "DespatchAdvice",
)

PEPPOL_POACC = "urn:fdc:peppol.eu:poacc:trns:"


@dataclass(frozen=True)
class Transaction:
    """One Peppol post-award transaction: its id, UBL root and specification identifier."""

    code: str
    title: str
    root: str
    customization: str


TRANSACTIONS = {
    t.code: t
    for t in (
        Transaction("T01", "Peppol Order", "Order", PEPPOL_POACC + "order:3"),
        Transaction(
            "T76", "Peppol Order Response", "OrderResponse", PEPPOL_POACC + "order_response:3"
        ),
        Transaction(
            "T116",
            "Peppol Order Response Advanced",
            "OrderResponse",
            PEPPOL_POACC + "order_response_advanced:3",
        ),
        Transaction(
            "T110", "Peppol Order Agreement", "OrderResponse", PEPPOL_POACC + "order_agreement:3"
        ),
        Transaction("T114", "Peppol Order Change", "OrderChange", PEPPOL_POACC + "order_change:3"),
        Transaction(
            "T115",
            "Peppol Order Cancellation",
            "OrderCancellation",
            PEPPOL_POACC + "order_cancellation:3",
        ),
        Transaction("T19", "Peppol Catalogue", "Catalogue", PEPPOL_POACC + "catalogue:3"),
        Transaction(
            "T16", "Peppol Despatch Advice", "DespatchAdvice", PEPPOL_POACC + "despatch_advice:3"
        ),
    )
}
#: Elements of the document's root a transaction uses that UBL 2.1 does not have: Peppol's order
#: response advanced (T116) names the order change it answers, a UBL 2.3 element.
LATER_UBL_ELEMENTS: dict[str, tuple[str, ...]] = {"T116": ("cac:OrderChangeDocumentReference",)}
_NS = {"cac": rules.UBL_NS_PREFIX + "CommonAggregateComponents-2"}

#: The transaction a root gets when its CustomizationID names none.
DEFAULT_TRANSACTION = {
    "Order": "T01",
    "OrderResponse": "T76",
    "OrderChange": "T114",
    "OrderCancellation": "T115",
    "Catalogue": "T19",
    "DespatchAdvice": "T16",
}


def transaction_for(root_name: str, customization: str = "") -> Transaction | None:
    """Return the Peppol transaction whose rules apply to a root with this CustomizationID."""
    customization = customization.strip()
    # Longest identifier first: 'order_response_advanced:3' must not be taken for 'order:3'.
    for t in sorted(TRANSACTIONS.values(), key=lambda t: -len(t.customization)):
        if t.root == root_name and customization.startswith(t.customization):
            return t
    code = DEFAULT_TRANSACTION.get(root_name)
    return TRANSACTIONS[code] if code else None


def cache_dir_from_env() -> Path:
    """Return where compiled rules are cached: EINVOICE_CACHE_DIR, else a temporary folder."""
    value = os.environ.get("EINVOICE_CACHE_DIR", "").strip()
    if value:
        return Path(value)
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"einvoice-rules-cache-{uid}"


def check_ordering_tree(
    tree: Any,
    rules_dir: str | Path | None,
    *,
    transaction: str | None = None,
    schematron: bool = True,
    cache_dir: str | Path | None = None,
) -> list[Finding]:
    """Run the UBL 2.1 XSD of the root and (when asked) the Peppol Schematron of its transaction."""
    root = rules._root(tree)
    name = etree.QName(root).localname
    folder = Path(rules_dir) if rules_dir else None
    chosen = TRANSACTIONS.get(transaction or "") or transaction_for(
        name, root.findtext(f"{{{rules.CBC}}}CustomizationID") or ""
    )
    label = f"XSD OASIS UBL 2.1 ({name})"
    rule_label = f"OpenPeppol BIS Ordering 3 {chosen.code}" if chosen else ""
    if folder is None or not folder.is_dir():
        return [
            rules._skipped_finding(
                [label] + ([rule_label] if schematron and chosen else []), folder
            )
        ]
    findings, skipped = rules._schema_findings(_for_xsd(root, chosen), "ubl", folder)
    if schematron and chosen is not None:
        try:
            path = compiled_rules(chosen.code, folder, cache_dir=cache_dir)
        except FileNotFoundError:
            path = None
        if path is None:
            skipped.append(rule_label)
        else:
            findings.extend(_run(root, path, rule_label))
    if skipped:
        findings.append(rules._skipped_finding(skipped, folder))
    return findings


def _for_xsd(root: etree._Element, chosen: Transaction | None) -> etree._Element:
    """The document as the UBL 2.1 XSD reads it: without the elements its Peppol transaction
    takes from a later UBL (which that XSD does not know; the transaction's rules check them)."""
    later = LATER_UBL_ELEMENTS.get(chosen.code, ()) if chosen is not None else ()
    if not any(root.find(path, _NS) is not None for path in later):
        return root
    copied = copy.deepcopy(root)
    for path in later:
        for element in copied.findall(path, _NS):
            copied.remove(element)
    return copied


def _run(root: etree._Element, path: Path, label: str) -> list[Finding]:
    executable = rules._compiled(path)
    try:
        return rules._svrl_findings(executable.transform(root))
    except Exception as exc:  # a document the stylesheet cannot even run on
        reason = " ".join(str(exc).split())
        return [
            error(
                rules.FAILED_CODE,
                f"Las reglas oficiales {label} no pudieron ejecutarse: {reason}",
                f"The official rules {label} could not run on this document: {reason}",
            )
        ]


# --- compiling the Schematron sources --------------------------------------------------------

_COMPILED: dict[tuple[str, str], Path] = {}
_COMPILE_LOCK = threading.Lock()


def compiled_rules(
    code: str, rules_dir: str | Path, *, cache_dir: str | Path | None = None
) -> Path | None:
    """Return the compiled XSLT of transaction code (compiling it once); None when sources lack."""
    folder = Path(rules_dir)
    source = folder / ORDERING_SCH_DIR / f"PEPPOLBIS-{code}.sch"
    skeleton = folder / SKELETON_DIR
    if not source.is_file() or not all((skeleton / s).is_file() for s in SKELETON_STEPS):
        return None
    cache = Path(cache_dir) if cache_dir else cache_dir_from_env()
    key = (str(source.resolve()), str(cache))
    cached = _COMPILED.get(key)
    if cached is not None and cached.is_file():
        return cached
    with _COMPILE_LOCK:
        cached = _COMPILED.get(key)
        if cached is None or not cached.is_file():
            cached = _compile(code, folder, cache)
            _COMPILED[key] = cached
    return cached


def _sources(folder: Path, code: str) -> list[Path]:
    """Every file the compiled stylesheet depends on, in a stable order."""
    parts = sorted(p for p in (folder / ORDERING_SCH_DIR / "parts").rglob("*") if p.is_file())
    codelists = sorted((folder / ORDERING_CODELIST_DIR).glob("*.xml"))
    skeleton = [folder / SKELETON_DIR / s for s in SKELETON_STEPS + SKELETON_SUPPORT]
    main = folder / ORDERING_SCH_DIR / f"PEPPOLBIS-{code}.sch"
    return [main, *parts, *codelists, *(p for p in skeleton if p.is_file())]


def source_hash(folder: Path, code: str) -> str:
    """Return a hash of every source a transaction's compiled rules are built from."""
    digest = hashlib.sha256()
    for path in _sources(folder, code):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def _compile(code: str, folder: Path, cache: Path) -> Path:
    target = cache / f"PEPPOLBIS-{code}-{source_hash(folder, code)}.xsl"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    log.info("Compiling the Peppol ordering rules %s into %s", code, target)
    schema = _prepared_schema(folder, code)
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    text = etree.tostring(schema, encoding="unicode")
    for step in SKELETON_STEPS:
        stylesheet = compiler.compile_stylesheet(
            stylesheet_file=str((folder / SKELETON_DIR / step).resolve())
        )
        node = processor.parse_xml(xml_text=text)
        text = stylesheet.transform_to_string(xdm_node=node) or ""
        if not text.strip():
            raise RuntimeError(f"the Schematron step {step} produced nothing for {code}")
    # Written beside its final name, then renamed: another process never reads half a file.
    handle, temporary = tempfile.mkstemp(dir=cache, prefix=target.stem, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, target)
    return target


def _code_lists(folder: Path) -> list[tuple[str, list[str]]]:
    lists = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for path in sorted((folder / ORDERING_CODELIST_DIR).glob("*.xml")):
        root = etree.parse(str(path), parser).getroot()
        ns = {"c": CODELIST}
        identifier = (root.findtext("c:Identifier", None, ns) or "").strip()
        codes = [c.strip() for c in root.xpath("c:Code/c:Id/text()", namespaces=ns) if c.strip()]
        if identifier:
            lists.append((identifier, codes))
    return lists


def _prepared_schema(folder: Path, code: str) -> etree._Element:
    """The transaction's Schematron with the code lists in place of the generated include.

    Every other relative href is made absolute, so the include step finds the parts wherever
    the schema text is compiled from.
    """
    source = folder / ORDERING_SCH_DIR / f"PEPPOLBIS-{code}.sch"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(source), parser).getroot()
    for element in list(root.iter()):
        href = element.get("href")
        if href is None:
            continue
        if GENERATED_INCLUDE in href:
            parent = element.getparent()
            index = parent.index(element)
            parent.remove(element)
            for offset, (identifier, codes) in enumerate(_code_lists(folder)):
                let = etree.Element(f"{{{SCH}}}let")
                let.set("name", f"cl{identifier}")
                let.set("value", "tokenize('{}', '\\s')".format(" ".join(codes)))
                parent.insert(index + offset, let)
        else:
            element.set("href", (source.parent / href).resolve().as_uri())
    return root
