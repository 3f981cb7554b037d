"""The query protocol's XML writer writes what xmltodict would (it replaced xmltodict for speed), and
botocore reads back what it wrote."""

from __future__ import annotations

from typing import Any

import pytest
import xmltodict

from emulator.protocols.query import _unparse

DOCUMENTS: list[dict[str, Any]] = [
    {"MessageId": "3f1a"},
    {"A": "x & y < z > w \"quoted\" 'single'", "B": None},
    {"Text": "line one\r\nline two\ttab", "Unicode": "é ✓ 😀"},
    {"Topics": {"member": [{"TopicArn": "arn:1"}, {"TopicArn": "arn:2"}]}},
    {"Attributes": {"entry": [{"key": "Policy", "value": '{"a": "<b>"}'}, {"key": "Empty", "value": ""}]}},
    {"ErrorResponse": {"@xmlns": "http://sns.amazonaws.com/doc/2010-03-31/", "Error": {"Type": "Sender",
                       "Code": "InvalidParameter", "Message": "Invalid parameter: <&>"}, "RequestId": "r-1"}},
    {"Outer": {"@id": 'a"b&c<d', "#text": "t&x"}},
    {"Repeated": ["1", "2", None]},
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_writer_matches_xmltodict(document: dict[str, Any]) -> None:
    expected = xmltodict.unparse(document, full_document=False).replace("\r", "&#13;")
    assert _unparse(document) == expected


@pytest.mark.parametrize("document", DOCUMENTS[:5])
def test_what_it_writes_parses_back(document: dict[str, Any]) -> None:
    written = "<Root>" + _unparse(document) + "</Root>"
    parsed = xmltodict.parse(written)["Root"]
    for key, value in document.items():
        assert parsed[key] == _empty_as_none(value)


def _empty_as_none(value: Any) -> Any:
    """An empty element reads back as None, whether it was written from "" or from None."""
    if isinstance(value, dict):
        return {key: _empty_as_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_empty_as_none(item) for item in value]
    return None if value == "" else value
