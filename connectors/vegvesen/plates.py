"""Kjennemerke (number plate) and understellsnummer (VIN) normalization.

The registry is queried with the plate without spaces ("EK39085") and answers with a space
("EK 39085"). Fleet lists hold every variant: "ek 39085", "EK-39085", "EK 39 085". We normalize
to upper case without separators and validate against the ordinary Norwegian formats:
two letters and four or five digits (AB 1234 for older/light trailers, AB 12345 the usual form).
Personalized plates (2-7 letters/digits, since 2017) are accepted only when asked for, because in
a fleet list a short odd string is far more often a typo than a personalized plate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# Letters used on ordinary plates: A-Z without the vowels-with-diacritics; the registry has no ÆØÅ
# on ordinary plates, but personalized plates may use them.
_ORDINARY = re.compile(r"^[A-Z]{2}\d{4,5}$")
_PERSONALIZED = re.compile(r"^(?=.*[A-ZÆØÅ])[A-ZÆØÅ0-9]{2,7}$")
# ISO 3779: 17 characters, no I, O or Q.
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_SEPARATORS = re.compile(r"[\s\-\u00a0\u2010-\u2015.]+")


class PlateError(ValueError):
    """The text is neither a valid kjennemerke nor a VIN; the message is Norwegian (staff read it)."""

    def __init__(self, raw: str, reason: str):
        self.raw = raw
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Identifier:
    """What to look a vehicle up by: the query parameter and its normalized value."""

    by: Literal["kjennemerke", "understellsnummer"]
    value: str

    @property
    def display(self) -> str:
        return display_plate(self.value) if self.by == "kjennemerke" else self.value


def compact(raw: object) -> str:
    text = "" if raw is None else str(raw)
    if isinstance(raw, float) and raw.is_integer():  # a number typed into Excel
        text = str(int(raw))
    return _SEPARATORS.sub("", text).upper()


def normalize_plate(raw: object, *, allow_personalized: bool = False) -> str:
    """'ek 39085' -> 'EK39085'; raises PlateError with a Norwegian reason."""
    value = compact(raw)
    if not value:
        raise PlateError(str(raw or ""), "Kjennemerket mangler")
    if _ORDINARY.match(value):
        return value
    if allow_personalized and _PERSONALIZED.match(value):
        return value
    raise PlateError(str(raw), f"«{str(raw).strip()}» er ikke et gyldig kjennemerke "
                               "(to bokstaver og fire eller fem sifre, f.eks. EK 39085)")


def normalize_identifier(raw: object, *, allow_personalized: bool = False) -> Identifier:
    """A plate, or a 17-character VIN where a fleet list has one instead of a plate."""
    value = compact(raw)
    if len(value) == 17 and _VIN.match(value):
        return Identifier("understellsnummer", value)
    return Identifier("kjennemerke", normalize_plate(raw, allow_personalized=allow_personalized))


def display_plate(normalized: str) -> str:
    """'EK39085' -> 'EK 39085' (the registry's form); personalized plates stay as they are."""
    if _ORDINARY.match(normalized):
        return f"{normalized[:2]} {normalized[2:]}"
    return normalized
