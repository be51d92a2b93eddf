"""The official checks: XSD schemas (lxml) and business rules (saxonche) from a rules folder.

The schemas and rule sets are third-party files the project does not carry. They are read from a
rules folder (``EINVOICE_RULES_DIR``) laid out like ``../shared/data``::

    ubl/oasis-ubl-2.1/xsdrt/maindoc/UBL-<Root>-2.1.xsd            OASIS UBL 2.1 runtime schemas
    dian/caja-herramientas-v1.9/XSD/maindoc/UBL-<Root>-2.1.xsd    DIAN's schemas
    dian/caja-herramientas-v1.9/XSL/DIAN-UBL21-model-compiled.xsl DIAN's compiled validator
    ubl/en16931/validation-artifacts/EN16931-UBL-validation.xslt  CEN EN 16931 rules for UBL
    ubl/peppol-bis-billing-3/xslt/PEPPOL-EN16931-UBL.xslt         OpenPeppol BIS Billing 3 rules

Each schema is parsed once per process and each stylesheet compiled once per process; both are
used under a lock, since neither lxml's schema (its error log) nor a Saxon executable (its message
list) may be shared by two threads at the same moment. Nothing here touches the network.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from app.einvoice.findings import Finding, error, warning

Kind = Literal["dian", "peppol", "en16931", "ubl"]
KINDS: tuple[str, ...] = ("dian", "peppol", "en16931", "ubl")

UBL_XSD_DIR = "ubl/oasis-ubl-2.1/xsdrt/maindoc"
# DIAN's maindoc schemas leave ext:ExtensionContent lax, and sts:DianExtensions is deliberately
# not validated against DIAN_UBL_Structures.xsd: that file wants ProviderID/@schemeID to be an id
# type and QRCode an xs:anyURI, while every DIAN example and the DIAN-validated sample in the
# facts sheet carry the NIT check digit (schemeID="4") and a multi-line QR text there.
DIAN_XSD_DIR = "dian/caja-herramientas-v1.9/XSD/maindoc"
DIAN_XSL = "dian/caja-herramientas-v1.9/XSL/DIAN-UBL21-model-compiled.xsl"
EN16931_XSLT = "ubl/en16931/validation-artifacts/EN16931-UBL-validation.xslt"
PEPPOL_XSLT = "ubl/peppol-bis-billing-3/xslt/PEPPOL-EN16931-UBL.xslt"

log = logging.getLogger(__name__)

SKIPPED_CODE = "RULES-SKIPPED"
FAILED_CODE = "RULES-FAILED"
XSD_CODE = "XSD"
MAX_XSD_FINDINGS = 50

# DIAN's XSL rejects any issue date more than five days before the moment it runs, so on a
# stored or received document it reports the validation date, not the document.
DIAN_MASKED_RULES = frozenset({"FAD09c", "CAD09c", "DAD09c", "AAD09C"})
# DIAN's XSL wants ProfileID to be exactly 'DIAN 2.1'; DIAN's own examples write
# 'DIAN 2.1: Factura Electrónica de Venta', so a value that contains it is wording drift.
DIAN_PROFILE_RULES = frozenset({"FAD03", "CAD03", "DAD03", "AAD03"})

UBL_ROOTS = (
    "Invoice",
    "CreditNote",
    "DebitNote",
    "ApplicationResponse",
    "AttachedDocument",
    # the ordering documents (ordering_rules.py), validated with OASIS's schemas only
    "Order",
    "OrderResponse",
    "OrderChange",
    "OrderCancellation",
    "Catalogue",
    "DespatchAdvice",
)
UBL_NS_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"
CBC = UBL_NS_PREFIX + "CommonBasicComponents-2"
SVRL = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True)
class RuleSet:
    """One official rule set: a stylesheet under the rules folder and how it reports."""

    name: str
    path: str
    output: Literal["svrl", "messages"]


RULE_SETS = {
    "en16931": RuleSet("CEN EN 16931 (UBL)", EN16931_XSLT, "svrl"),
    "peppol": RuleSet("OpenPeppol BIS Billing 3.0", PEPPOL_XSLT, "svrl"),
    "dian": RuleSet("DIAN UBL 2.1 (caja de herramientas 1.9)", DIAN_XSL, "messages"),
}

# Which rule sets apply to each kind of document (Peppol documents must also meet EN 16931).
KIND_RULE_SETS: dict[str, tuple[str, ...]] = {
    "dian": ("dian",),
    "peppol": ("en16931", "peppol"),
    "en16931": ("en16931",),
    "ubl": (),
}


def rules_dir_from_env() -> Path | None:
    """Return the rules folder named by EINVOICE_RULES_DIR, or None when unset."""
    value = os.environ.get("EINVOICE_RULES_DIR", "").strip()
    return Path(value) if value else None


def validate_official(tree: Any, kind: str, rules_dir: str | Path | None) -> list[Finding]:
    """Run the XSD and official business rules for kind; name whatever had to be skipped."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    root = _root(tree)
    skipped: list[str] = []
    findings: list[Finding] = []
    folder = Path(rules_dir) if rules_dir else None
    if folder is None or not folder.is_dir():
        skipped.append(_schema_label(kind, root))
        skipped.extend(RULE_SETS[name].name for name in KIND_RULE_SETS[kind])
        return [_skipped_finding(skipped, folder, kind)]
    schema_findings, schema_skipped = _schema_findings(root, kind, folder)
    findings.extend(schema_findings)
    skipped.extend(schema_skipped)
    for name in KIND_RULE_SETS[kind]:
        rule_set = RULE_SETS[name]
        if not (folder / rule_set.path).is_file():
            skipped.append(rule_set.name)
            continue
        findings.extend(run_rule_set(root, name, folder))
    if skipped:
        findings.append(_skipped_finding(skipped, folder, kind))
    return findings


def run_rule_set(tree: Any, name: str, rules_dir: str | Path) -> list[Finding]:
    """Run one official rule set ('en16931', 'peppol' or 'dian') and return its findings."""
    rule_set = RULE_SETS[name]
    root = _root(tree)
    executable = _compiled(Path(rules_dir) / rule_set.path)
    try:
        if rule_set.output == "svrl":
            return _svrl_findings(executable.transform(root))
        return _dian_findings(executable.messages(root), root)
    except Exception as exc:  # a document the official stylesheet cannot even run on
        reason = " ".join(str(exc).split())
        return [
            error(
                FAILED_CODE,
                f"Las reglas oficiales {rule_set.name} no pudieron ejecutarse: {reason}",
                f"The official rules {rule_set.name} could not run on this document: {reason}",
            )
        ]


def schema_findings(tree: Any, kind: str, rules_dir: str | Path) -> list[Finding]:
    """Validate against the UBL 2.1 (or, for 'dian', DIAN's) XSD; a skip becomes a warning."""
    findings, skipped = _schema_findings(_root(tree), kind, Path(rules_dir))
    if skipped:
        findings.append(_skipped_finding(skipped, Path(rules_dir)))
    return findings


def warm_up(kind: str, rules_dir: str | Path) -> None:
    """Compile the stylesheets kind needs now, so the first document does not pay for it."""
    for name in KIND_RULE_SETS[kind]:
        path = Path(rules_dir) / RULE_SETS[name].path
        if path.is_file():
            _compiled(path)


def compiled_count() -> int:
    """Return how many stylesheets this process has compiled (each is compiled once)."""
    return len(_EXECUTABLES)


# --- XSD -------------------------------------------------------------------------------------


class _LocalOnly(etree.Resolver):
    """Refuse any schema import that is not a local file, so parsing never reaches the network."""

    def resolve(self, url, public_id, context):
        """Fail on a network URL; let lxml load local files itself."""
        if url and re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I) and not url.startswith("file:"):
            raise etree.XMLSchemaParseError(f"refusing to fetch {url}")
        return None


_SCHEMAS: dict[str, tuple[etree.XMLSchema, threading.Lock]] = {}
_SCHEMAS_LOCK = threading.Lock()


def _schema(path: Path) -> tuple[etree.XMLSchema, threading.Lock]:
    key = str(path.resolve())
    cached = _SCHEMAS.get(key)
    if cached is not None:
        return cached
    with _SCHEMAS_LOCK:
        cached = _SCHEMAS.get(key)
        if cached is None:
            cached = (_load_schema(path), threading.Lock())
            _SCHEMAS[key] = cached
    return cached


def _load_schema(path: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalOnly())
    return etree.XMLSchema(etree.parse(str(path), parser))


def _schema_label(kind: str, root: etree._Element) -> str:
    owner = "DIAN" if kind == "dian" else "OASIS UBL 2.1"
    return f"XSD {owner} ({etree.QName(root).localname})"


def _schema_findings(
    root: etree._Element, kind: str, folder: Path
) -> tuple[list[Finding], list[str]]:
    qname = etree.QName(root)
    label = _schema_label(kind, root)
    if qname.localname not in UBL_ROOTS or not (qname.namespace or "").startswith(UBL_NS_PREFIX):
        return [], [label]
    directory = folder / (DIAN_XSD_DIR if kind == "dian" else UBL_XSD_DIR)
    path = directory / f"UBL-{qname.localname}-2.1.xsd"
    if not path.is_file():
        return [], [label]
    schema, lock = _schema(path)
    with lock:
        ok = schema.validate(root)
        entries = [] if ok else list(schema.error_log)
    findings = [
        error(
            XSD_CODE,
            f"El documento no cumple el esquema XSD (línea {entry.line}): {entry.message}",
            f"The document does not conform to the XSD schema (line {entry.line}): {entry.message}",
            entry.path or "",
        )
        for entry in entries[:MAX_XSD_FINDINGS]
    ]
    if len(entries) > MAX_XSD_FINDINGS:
        more = len(entries) - MAX_XSD_FINDINGS
        findings.append(
            error(
                XSD_CODE,
                f"… y {more} errores de esquema más.",
                f"… and {more} more schema errors.",
            )
        )
    return findings, []


# --- Saxon ------------------------------------------------------------------------------------


_PROCESSOR: Any = None
_EXECUTABLES: dict[str, _Executable] = {}
_COMPILE_LOCK = threading.Lock()


@dataclass
class _Executable:
    """A compiled stylesheet and the lock that serialises its use."""

    executable: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    def transform(self, root: etree._Element) -> str:
        """Transform the document and return the result as a string."""
        text = etree.tostring(root, encoding="unicode")
        with self.lock:
            node = _PROCESSOR.parse_xml(xml_text=text)
            return self.executable.transform_to_string(xdm_node=node) or ""

    def messages(self, root: etree._Element) -> list[str]:
        """Transform the document and return what the stylesheet said with xsl:message."""
        text = etree.tostring(root, encoding="unicode")
        with self.lock:
            node = _PROCESSOR.parse_xml(xml_text=text)
            self.executable.clear_xsl_messages()
            self.executable.transform_to_string(xdm_node=node)
            value = self.executable.get_xsl_messages()
            said = [value.item_at(i).string_value for i in range(value.size)] if value else []
            self.executable.clear_xsl_messages()
        return said


def _compiled(path: Path) -> _Executable:
    key = str(path.resolve())
    cached = _EXECUTABLES.get(key)
    if cached is not None:
        return cached
    with _COMPILE_LOCK:
        cached = _EXECUTABLES.get(key)
        if cached is None:
            global _PROCESSOR
            if _PROCESSOR is None:
                from saxonche import PySaxonProcessor

                _PROCESSOR = PySaxonProcessor(license=False)
            compiler = _PROCESSOR.new_xslt30_processor()
            executable = compiler.compile_stylesheet(stylesheet_file=key)
            executable.set_save_xsl_message(True)
            cached = _Executable(executable)
            _EXECUTABLES[key] = cached
    return cached


def _svrl_findings(svrl: str) -> list[Finding]:
    if not svrl:
        return []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    report = etree.fromstring(svrl.encode(), parser)
    findings = []
    for failed in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        code = failed.get("id") or "SCHEMATRON"
        text = " ".join((failed.findtext(f"{{{SVRL}}}text") or "").split())
        # EN 16931 repeats the id at the start of its text ("[BR-CO-15]-…"); the code holds it.
        text = text.removeprefix(f"[{code}]-").removeprefix(f"[{code}]").strip() or text
        make = warning if failed.get("flag") in ("warning", "information") else error
        findings.append(make(code, text, text, failed.get("location", "")))
    return findings


_DIAN_MESSAGE = re.compile(r"^\s*(?P<flag>\w+)\s*:\s*(?P<rest>.*)$", re.S)
_DIAN_CODE = re.compile(r"^\[(?P<code>[^\]]+)\]\s*-?\s*")
_CODE_IN_TEXT = re.compile(r"\[(?P<code>[A-Z]{2,}[0-9][0-9A-Za-z]*)\]")
UNCODED = "DIAN-XSL"


def _dian_findings(messages: Iterable[str], root: etree._Element) -> list[Finding]:
    findings = []
    profile = " ".join((root.findtext(f"{{{CBC}}}ProfileID") or "").split())
    for message in messages:
        match = _DIAN_MESSAGE.match(message)
        flag, rest = (match["flag"], match["rest"]) if match else ("Fatal", message)
        coded = _DIAN_CODE.match(rest)
        text = " ".join((rest[coded.end() :] if coded else rest.lstrip("- ")).split())
        in_text = None if coded else _CODE_IN_TEXT.search(text)
        code = coded["code"] if coded else in_text["code"] if in_text else UNCODED
        if code in DIAN_MASKED_RULES:
            continue
        make = warning if flag.lower().startswith("warn") else error
        if code in DIAN_PROFILE_RULES and "DIAN 2.1" in profile:
            findings.append(
                warning(
                    code,
                    f"{text} (variación de redacción del ProfileID: se informa como advertencia)",
                    f"{text} (ProfileID wording differs from 'DIAN 2.1': reported as a warning)",
                    "/*/cbc:ProfileID",
                )
            )
        elif code == UNCODED:
            # The XSL names each rule per document type ('[FAD02]' for invoices, '[CAD02]' for
            # credit notes…); an empty name means the rule has no variant for this type, i.e. a
            # rule written for another document fired here. Report it without blocking.
            findings.append(
                warning(
                    code,
                    f"{text} (regla de DIAN sin identificador para este tipo de documento)",
                    f"{text} (DIAN rule without an id for this document type)",
                )
            )
        else:
            findings.append(make(code, text, text))
    return findings


_logged_skips: set[tuple[str, str]] = set()
_logged_lock = threading.Lock()


def _skipped_finding(skipped: list[str], folder: Path | None, kind: str = "") -> Finding:
    """Say, for the document's reader, which official rules were not run on this server.

    The message is for end users: no folder, no setting name. Why they were skipped (the
    EINVOICE_RULES_DIR folder unset, missing or incomplete) is the operator's business: it is
    logged once per process and reported by ``official_rules_status``.
    """
    names = ", ".join(skipped)
    _log_skipped_once(names, folder)
    if kind == "dian":
        return warning(
            SKIPPED_CODE,
            f"Las reglas oficiales de la DIAN no se verificaron en este servidor ({names}).",
            f"The official DIAN rules were not checked on this server ({names}).",
        )
    return warning(
        SKIPPED_CODE,
        f"Las reglas oficiales no se verificaron en este servidor ({names}).",
        f"The official rules were not checked on this server ({names}).",
    )


def _log_skipped_once(names: str, folder: Path | None) -> None:
    where = str(folder) if folder else "(unset)"
    with _logged_lock:
        if (where, names) in _logged_skips:
            return
        _logged_skips.add((where, names))
    log.warning(
        "Official e-invoice rules skipped (%s): EINVOICE_RULES_DIR=%s %s. Point EINVOICE_RULES_DIR "
        "at a folder laid out like ../shared/data (see app/einvoice/rules.py).",
        names,
        where,
        "is not set" if folder is None else "is missing or incomplete",
    )


@dataclass(frozen=True)
class RulesStatus:
    """What an operator needs to know about the official rules on this server."""

    setting: str
    folder: str
    exists: bool
    present: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Return True when every schema folder and rule set is there."""
        return self.exists and not self.missing


def official_rules_status(rules_dir: str | Path | None) -> RulesStatus:
    """Report which official schemas and rule sets the rules folder holds (for operators)."""
    folder = Path(rules_dir) if rules_dir else None
    parts = {
        "XSD OASIS UBL 2.1": UBL_XSD_DIR,
        "XSD DIAN": DIAN_XSD_DIR,
        **{rule_set.name: rule_set.path for rule_set in RULE_SETS.values()},
    }
    exists = folder is not None and folder.is_dir()
    present = tuple(n for n, p in parts.items() if exists and (folder / p).exists())
    missing = tuple(n for n in parts if n not in present)
    return RulesStatus("EINVOICE_RULES_DIR", str(folder or ""), exists, present, missing)


def _root(tree: Any) -> etree._Element:
    return tree.getroot() if hasattr(tree, "getroot") else tree


# --- The official unit-test sets (used to check a rules folder against its own tests) ---------

VEFA = "http://difi.no/xsd/vefa/validator/1.0"


@dataclass(frozen=True)
class Expectation:
    """One rule outcome a published unit test asks for: error, warning or success."""

    rule: str
    outcome: Literal["error", "warning", "success"]
    count: int | None = None


@dataclass(frozen=True)
class UnitTest:
    """One test of a published test set: a document and the outcomes it must produce."""

    file: str
    index: int
    description: str
    document: etree._Element
    expectations: tuple[Expectation, ...]


def read_test_set(path: str | Path) -> list[UnitTest]:
    """Read an official (VEFA validator format) unit-test file into its tests."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.parse(str(path), parser)
    tests = []
    for index, test in enumerate(tree.getroot().iter(f"{{{VEFA}}}test"), start=1):
        assertion = test.find(f"{{{VEFA}}}assert")
        documents = [
            child
            for child in test
            if isinstance(child.tag, str) and etree.QName(child).namespace != VEFA
        ]
        if assertion is None or not documents:
            continue
        expectations = []
        for child in assertion:
            outcome = etree.QName(child).localname if isinstance(child.tag, str) else ""
            if outcome in ("error", "warning", "success") and (child.text or "").strip():
                number = child.get("number")
                expectations.append(
                    Expectation(child.text.strip(), outcome, int(number) if number else None)
                )
        description = " ".join((assertion.findtext(f"{{{VEFA}}}description") or "").split())
        document = etree.fromstring(etree.tostring(documents[0]), parser)
        tests.append(UnitTest(Path(path).name, index, description, document, tuple(expectations)))
    return tests


def judge(expectation: Expectation, findings: list[Finding]) -> bool:
    """Return whether the findings give the outcome the unit test expects for its rule."""
    hits = [f for f in findings if f.code == expectation.rule]
    if expectation.outcome == "success":
        return not hits
    wanted = [f for f in hits if f.severity == expectation.outcome]
    if expectation.count is not None:
        return len(wanted) == expectation.count and len(hits) == len(wanted)
    return bool(wanted) and len(hits) == len(wanted)
