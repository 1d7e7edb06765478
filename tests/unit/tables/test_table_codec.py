"""Items as JSON lines and the content checksum: every type round-trips, nothing but data is read."""

from __future__ import annotations

import base64
import json
import pickle

import pytest

from trapheus.errors import BackupCorruptError
from trapheus.tables.codec import ContentChecksum, canonical_item, canonical_number, decode_item, encode_item

EVERY_TYPE = {
    "pk": {"S": "order#0001 ünïcödé"},
    "empty": {"S": ""},
    "amount": {"N": "12345678901234567890123456789012345678"},
    "tiny": {"N": "-0.000000000000000000000000000000000001"},
    "big": {"N": "9.9999999999999999999999999999999999999E+125"},
    "blob": {"B": bytes(range(256))},
    "flag": {"BOOL": False},
    "nothing": {"NULL": True},
    "list": {"L": [{"S": "a"}, {"N": "1"}, {"L": []}, {"M": {"x": {"BOOL": True}}}]},
    "map": {"M": {"nested": {"M": {"deep": {"B": b"\x00"}}}, "empty": {"M": {}}}},
    "names": {"SS": ["b", "a", "c"]},
    "numbers": {"NS": ["1.50", "-2", "3E2"]},
    "blobs": {"BS": [b"\x01", b"\x00\xff"]},
}


def test_every_attribute_type_round_trips_exactly():
    line = encode_item(EVERY_TYPE)
    assert decode_item(line) == EVERY_TYPE
    # numbers travel as the strings DynamoDB gave: all 38 digits survive
    assert json.loads(line)["Item"]["amount"] == {"N": "12345678901234567890123456789012345678"}
    assert json.loads(line)["Item"]["blob"] == {"B": base64.b64encode(bytes(range(256))).decode()}


def test_the_checksum_ignores_set_order_number_spelling_and_key_order():
    same_data = {
        "numbers": {"NS": ["300", "1.5", "-2.0"]},
        "blobs": {"BS": [b"\x00\xff", b"\x01"]},
        "names": {"SS": ["c", "a", "b"]},
        **{k: v for k, v in reversed(list(EVERY_TYPE.items())) if k not in ("numbers", "blobs", "names")},
    }
    assert canonical_item(same_data) == canonical_item(EVERY_TYPE)
    changed = {**EVERY_TYPE, "amount": {"N": "12345678901234567890123456789012345679"}}
    assert canonical_item(changed) != canonical_item(EVERY_TYPE)
    assert canonical_item({**EVERY_TYPE, "list": {"L": list(reversed(EVERY_TYPE["list"]["L"]))}}) != canonical_item(EVERY_TYPE)


@pytest.mark.parametrize("spelling", ["1.50", "1.5", "15E-1", "0.15e1", "+1.500000"])
def test_a_number_has_one_canonical_spelling(spelling):
    assert canonical_number(spelling) == "15E-1"


def test_zero_and_precision():
    assert canonical_number("-0") == canonical_number("0.000") == "0"
    assert canonical_number("12345678901234567890123456789012345678") != canonical_number("12345678901234567890123456789012345679")


def test_the_table_checksum_does_not_depend_on_item_order_and_adds_up_by_segment():
    items = [{"pk": {"S": str(i)}, "v": {"N": str(i * 1.5)}} for i in range(50)]
    forward, backward, first, second = ContentChecksum(), ContentChecksum(), ContentChecksum(), ContentChecksum()
    for item in items:
        forward.add(item)
    for item in reversed(items):
        backward.add(item)
    for item in items[:20]:
        first.add(item)
    for item in items[20:]:
        second.add(item)
    assert forward == backward == first.merge(second)
    assert ContentChecksum.combine([first.to_dict(), second.to_dict()]) == forward
    missing_one = ContentChecksum()
    for item in items[1:]:
        missing_one.add(item)
    duplicated = ContentChecksum.combine([forward, ContentChecksum(1, missing_one.total)])
    assert missing_one.digest != forward.digest and duplicated.digest != forward.digest


@pytest.mark.parametrize(
    "line",
    [
        pickle.dumps({"pk": "x"}),
        b"not json",
        b'{"pk": {"S": "a"}}',
        b'{"Item": {"pk": {"X": "a"}}}',
        b'{"Item": {"pk": {"S": 1}}}',
        b'{"Item": {"n": {"N": "one"}}}',
        b'{"Item": {"n": {"N": "NaN"}}}',
        b'{"Item": {"b": {"B": "***"}}}',
        b'{"Item": {"s": {"SS": []}}}',
        b'{"Item": {"z": {"NULL": false}}}',
        b'{"Item": {"pk": {"S": "a", "N": "1"}}}',
        b'{"Item": {}, "Code": "import os"}',
    ],
    ids=["pickle", "text", "no Item", "unknown type", "S not a string", "N not a number", "NaN", "bad base64",
         "empty set", "NULL false", "two types", "extra key"],
)
def test_anything_but_a_typed_item_is_refused(line):
    with pytest.raises(BackupCorruptError):
        decode_item(line)
