"""Can a hostile XML file make the portal read a file, call the network, or fall over?"""

from __future__ import annotations

import pytest
from lxml import etree

from app.einvoice import xmlsafe
from app.einvoice.xmlsafe import parse_xml

SECRET = "TOP-SECRET-7f3a9c"


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    (tmp_path / "evil.dtd").write_text(f'<!ENTITY leak "{SECRET}">')
    return path


def codes(findings):
    return [f.code for f in findings]


def assert_secret_absent(tree, findings):
    text = " ".join(f"{f.message_es} {f.message_en} {f.path}" for f in findings)
    if tree is not None:
        text += etree.tostring(tree, encoding="unicode")
    assert SECRET not in text


def hostile_documents(secret_file) -> dict[str, bytes]:
    uri = secret_file.as_uri()
    dtd_uri = (secret_file.parent / "evil.dtd").as_uri()
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return {
        "xxe": f'<!DOCTYPE r [<!ENTITY x SYSTEM "{uri}">]><r>&x;</r>'.encode(),
        "xxe-utf16": f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r '
                     f'[<!ENTITY x SYSTEM "{uri}">]><r>&x;</r>'.encode("utf-16"),
        "parameter-entity": f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{dtd_uri}"> %p;]>'
                            f"<r>&leak;</r>".encode(),
        "external-dtd": f'<!DOCTYPE r SYSTEM "{dtd_uri}"><r>&leak;</r>'.encode(),
        "network-dtd": b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>',
        "billion-laughs": f'<!DOCTYPE r [<!ENTITY l0 "lol">{lol}]><r>&l9;</r>'.encode(),
        "internal-entity": b'<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>',
    }


@pytest.mark.parametrize("name", ["xxe", "xxe-utf16", "parameter-entity", "external-dtd",
                                  "network-dtd", "billion-laughs", "internal-entity"])
def test_is_every_dtd_and_entity_trick_refused_without_reading_the_file(name, secret_file):
    tree, findings = parse_xml(hostile_documents(secret_file)[name])
    assert tree is None
    assert codes(findings) == ["XML-DTD"]
    assert findings[0].severity == "error"
    assert_secret_absent(tree, findings)


@pytest.mark.parametrize("name", ["xxe", "parameter-entity", "external-dtd", "billion-laughs"])
def test_does_the_parser_itself_refuse_when_the_byte_scan_is_bypassed(name, secret_file,
                                                                      monkeypatch):
    """Defence in depth: even if the byte scan missed a DTD, lxml reads nothing and we refuse."""
    monkeypatch.setattr(xmlsafe, "_has_dtd_markers", lambda data: False)
    tree, findings = parse_xml(hostile_documents(secret_file)[name])
    assert tree is None
    assert codes(findings) in (["XML-DTD"], ["XML-MALFORMED"])
    assert_secret_absent(tree, findings)


def test_is_an_oversize_file_refused_before_parsing():
    tree, findings = parse_xml(b"<r>" + b"x" * 200 + b"</r>", max_bytes=100)
    assert tree is None and codes(findings) == ["XML-SIZE"]


def test_is_the_default_size_cap_ten_megabytes():
    data = b"<r>" + b" " * (10 * 1024 * 1024) + b"</r>"
    assert codes(parse_xml(data)[1]) == ["XML-SIZE"]


@pytest.mark.parametrize("depth", [101, 300, 5000])
def test_is_a_too_deep_document_refused(depth):
    tree, findings = parse_xml(b"<a>" * depth + b"</a>" * depth)
    assert tree is None and codes(findings) == ["XML-DEPTH"]


def test_is_a_document_at_the_depth_limit_accepted():
    tree, findings = parse_xml(b"<a>" * 100 + b"</a>" * 100)
    assert tree is not None and findings == []


def test_are_too_many_elements_refused():
    tree, findings = parse_xml(b"<r>" + b"<i/>" * 50 + b"</r>", max_elements=20)
    assert tree is None and codes(findings) == ["XML-ELEMENTS"]


@pytest.mark.parametrize("data", [b"", b"   ", b"hello", b"<r>", b"<a></b>", b"%PDF-1.7\n...",
                                  b"\x00\x01\x02", "<r>ñ</r>".encode("latin-1")])
def test_is_non_xml_a_finding_not_a_crash(data):
    tree, findings = parse_xml(data)
    assert tree is None
    assert codes(findings) == ["XML-MALFORMED"]
    assert findings[0].message_es and findings[0].message_en


def test_is_a_plain_document_parsed_with_comments_kept():
    tree, findings = parse_xml(b'<?xml version="1.0"?><r a="1"><!-- c --><b>&lt;x&gt;</b></r>')
    assert findings == []
    assert tree.getroot().findtext("b") == "<x>"
