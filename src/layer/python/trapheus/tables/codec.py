"""DynamoDB items as JSON lines, and a content checksum that does not depend on how they were stored.

A backup file holds one item per line in DynamoDB's typed JSON, the shape DynamoDB's own
S3 export writes: ``{"Item": {"pk": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": "<base64>"}}}``.
Every attribute type round-trips (S, N, B, BOOL, NULL, L, M, SS, NS, BS); numbers stay
the strings DynamoDB returned, so no precision is lost. Reading is JSON and nothing else:
a file is data, never code.

The content checksum covers a canonical form of each item: map keys sorted, sets sorted,
numbers written one way per value (``1.50``, ``1.5`` and ``15E-1`` are the same number).
Item digests are added modulo 2**256, so the checksum of a table does not depend on the
order items were scanned in, and the checksums of segments add up to the table's.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from trapheus.errors import BackupCorruptError

SCALAR_TYPES = ("S", "N", "B", "BOOL", "NULL")
SET_TYPES = ("SS", "NS", "BS")
DOCUMENT_TYPES = ("L", "M")
ATTRIBUTE_TYPES = frozenset(SCALAR_TYPES + SET_TYPES + DOCUMENT_TYPES)

_MODULUS = 1 << 256
# DynamoDB numbers have up to 38 significant digits; a wider context never rounds them.
_NUMBERS = decimal.Context(prec=60, Emin=-999, Emax=999)


class ItemFormatError(BackupCorruptError):
    """A line is not a DynamoDB item in typed JSON."""


# -- items <-> JSON lines ------------------------------------------------------------------------


def _encode_value(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(inner)).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(member)).decode("ascii") for member in inner]}
    if kind == "L":
        return {"L": [_encode_value(member) for member in inner]}
    if kind == "M":
        return {"M": {name: _encode_value(member) for name, member in inner.items()}}
    return {kind: inner}


def encode_item(item: dict[str, Any]) -> str:
    """One JSON line (no newline) for an item as the low-level DynamoDB client returns it."""
    return json.dumps({"Item": {name: _encode_value(value) for name, value in item.items()}}, separators=(",", ":"))


def _base64(text: Any, where: str) -> bytes:
    if not isinstance(text, str):
        raise ItemFormatError(f"{where}: binary value must be base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ItemFormatError(f"{where}: binary value is not base64") from error


def _number(text: Any, where: str) -> str:
    if not isinstance(text, str):
        raise ItemFormatError(f"{where}: number must be a string")
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation as error:
        raise ItemFormatError(f"{where}: {text!r} is not a number") from error
    if not value.is_finite():
        raise ItemFormatError(f"{where}: {text!r} is not a finite number")
    return text


def _decode_value(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise ItemFormatError(f"{where}: an attribute value is an object with exactly one type key")
    (kind, inner), = value.items()
    if kind not in ATTRIBUTE_TYPES:
        raise ItemFormatError(f"{where}: unknown attribute type {kind!r}")
    if kind == "S":
        if not isinstance(inner, str):
            raise ItemFormatError(f"{where}: S must be a string")
        return {"S": inner}
    if kind == "N":
        return {"N": _number(inner, where)}
    if kind == "B":
        return {"B": _base64(inner, where)}
    if kind == "BOOL":
        if not isinstance(inner, bool):
            raise ItemFormatError(f"{where}: BOOL must be true or false")
        return {"BOOL": inner}
    if kind == "NULL":
        if inner is not True:
            raise ItemFormatError(f"{where}: NULL must be true")
        return {"NULL": True}
    if kind == "L":
        if not isinstance(inner, list):
            raise ItemFormatError(f"{where}: L must be a list")
        return {"L": [_decode_value(member, f"{where}[{i}]") for i, member in enumerate(inner)]}
    if kind == "M":
        if not isinstance(inner, dict):
            raise ItemFormatError(f"{where}: M must be an object")
        return {"M": {name: _decode_value(member, f"{where}.{name}") for name, member in inner.items()}}
    if not isinstance(inner, list) or not inner:
        raise ItemFormatError(f"{where}: {kind} must be a non-empty list")
    if kind == "SS":
        if not all(isinstance(member, str) for member in inner):
            raise ItemFormatError(f"{where}: SS members must be strings")
        return {"SS": list(inner)}
    if kind == "NS":
        return {"NS": [_number(member, where) for member in inner]}
    return {"BS": [_base64(member, where) for member in inner]}


def decode_item(line: str | bytes, where: str = "item") -> dict[str, Any]:
    """The item a JSON line holds, as the low-level DynamoDB client takes it; anything else is refused."""
    try:
        document = json.loads(line)
    except ValueError as error:
        raise ItemFormatError(f"{where}: not JSON") from error
    if not isinstance(document, dict) or set(document) != {"Item"} or not isinstance(document["Item"], dict):
        raise ItemFormatError(f"{where}: a line must be {{\"Item\": {{...}}}}")
    return {name: _decode_value(value, f"{where}.{name}") for name, value in document["Item"].items()}


def decode_lines(lines: Iterable[bytes], where: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield decode_item(line, f"{where} line {number}")


# -- canonical form and checksum ------------------------------------------------------------------


def canonical_number(text: str) -> str:
    """One spelling per numeric value: ``1.50`` -> ``15E-1``, ``-0`` -> ``0``."""
    value = _NUMBERS.create_decimal(text)
    if value.is_zero():
        return "0"
    sign, digits, exponent = _NUMBERS.normalize(value).as_tuple()
    return f"{'-' if sign else ''}{''.join(map(str, digits))}E{exponent}"


def _canonical_value(value: dict[str, Any]) -> Any:
    (kind, inner), = value.items()
    if kind == "N":
        return ["N", canonical_number(inner)]
    if kind == "B":
        return ["B", base64.b64encode(bytes(inner)).decode("ascii")]
    if kind == "SS":
        return ["SS", sorted(set(inner))]
    if kind == "NS":
        numbers = {canonical_number(member): decimal.Decimal(member) for member in inner}
        return ["NS", sorted(numbers, key=lambda text: (numbers[text], text))]
    if kind == "BS":
        return ["BS", [base64.b64encode(member).decode("ascii") for member in sorted({bytes(m) for m in inner})]]
    if kind == "L":
        return ["L", [_canonical_value(member) for member in inner]]
    if kind == "M":
        return ["M", [[name, _canonical_value(inner[name])] for name in sorted(inner)]]
    return [kind, inner]


def canonical_item(item: dict[str, Any]) -> bytes:
    """Bytes that are equal exactly when two items hold the same data."""
    document = [[name, _canonical_value(item[name])] for name in sorted(item)]
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def item_digest(item: dict[str, Any]) -> int:
    return int.from_bytes(hashlib.sha256(canonical_item(item)).digest(), "big")


@dataclass
class ContentChecksum:
    """Item count and the sum of item digests modulo 2**256: order-independent and additive."""

    items: int = 0
    total: int = 0

    def add(self, item: dict[str, Any]) -> None:
        self.items += 1
        self.total = (self.total + item_digest(item)) % _MODULUS

    def merge(self, other: ContentChecksum) -> ContentChecksum:
        return ContentChecksum(self.items + other.items, (self.total + other.total) % _MODULUS)

    @property
    def digest(self) -> str:
        return f"{self.total:064x}"

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "sum": self.digest}

    @classmethod
    def from_dict(cls, data: Any) -> ContentChecksum:
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(int(data.get("items") or 0), int(str(data.get("sum") or "0"), 16) % _MODULUS)
        except ValueError as error:
            raise BackupCorruptError(f"unreadable content checksum {data!r}") from error

    @classmethod
    def combine(cls, parts: Iterable[Any]) -> ContentChecksum:
        total = cls()
        for part in parts:
            total = total.merge(part if isinstance(part, ContentChecksum) else cls.from_dict(part))
        return total
