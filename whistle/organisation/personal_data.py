"""Personal data of the people the product serves: masked where it is not needed,
committed to where a record must never forget.

A resident's or a hotline caller's name and phone number, and an alley steward's (a
volunteer's), are personal information under China's Personal Information Protection Law:
they serve one purpose (the township's call-back, the steward's roster) and nothing else.
They stay on their own row, where they can be erased on request or when the purpose is met,
and never enter the hash-chained trail, which cannot forget. The trail holds a commitment
instead: SHA-256 of a random salt kept beside the data and the data itself. While the data
is kept anyone can check that it is what was taken; once the data and the salt are erased
the commitment says nothing, where a bare hash of a phone number would be found by trying
every number.

Whoever does not need the data sees it masked: 王*, 138****1234.

A phone number is kept in one form however it was typed (`normal_phone`): the digits a
mainland phone dials, so that a number is found, matched and erased however each record
spelled it (`phone_digits`).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata

from django.dispatch import Signal

# A mainland mobile number: 11 digits, 13… to 19….
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# A fixed line with its area code: 010 and 02x with a local number of 8 digits, the other
# area codes (0 and three digits) with 7 or 8; a local number starts with 2 to 9.
_FIXED_LINE = re.compile(r"0(?:10|2[0-9])[2-9][0-9]{7}|0[3-9][0-9]{2}[2-9][0-9]{6,7}")
# What people write between the digits: spaces, hyphens and dashes, brackets.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015()]")
# China's country code, as dialled from abroad.
_COUNTRY_PREFIXES = ("+86", "0086")

# The apps that keep personal data of their own (the township's applications to be a steward,
# the new numbers waiting for their code) erase it through this signal: a receiver gets
# `phone` (erase what that number gave) or `expired=True` (what outlived its retention
# period) and `now`, and returns how many records it erased. `whistle erase-personal-data`
# and the worker's personal-data sweep send it (`whistle.cases.actions.personal_data`).
erasure_requested = Signal()


def new_salt() -> str:
    return secrets.token_hex(16)


def commitment(salt: str, name: str, phone: str) -> str:
    """The trail's commitment to a person's data: "sha256:" and the hex digest of the salt
    and the canonical JSON of the name and the phone; empty when there is no data."""
    if not (name or phone):
        return ""
    document = json.dumps(
        {"name": name, "phone": phone}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256((salt + document).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"


def text_commitment(salt: str, text: str) -> str:
    """The trail's commitment to free text a person wrote that may hold their data (a
    resident's comment on a rating): "sha256:" and the hex digest of the salt and the
    canonical JSON of the text; empty when there is none."""
    if not text:
        return ""
    document = json.dumps({"text": text}, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256((salt + document).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"


def mask_name(name: str) -> str:
    """王* for 王小明, W* for Wang: the first character only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*"


def normal_phone(text: str, *, mobile_only: bool = False) -> str | None:
    """A mainland phone number as it is kept, however it was typed: without spaces,
    hyphens, brackets or a +86 or 0086 in front (full-width characters read as their
    ASCII), either a mobile number (13812345678) or, unless `mobile_only`, a fixed line
    with its area code (010-6512 3456 and +86 10 6512 3456 are 01065123456). None for
    anything else: too short, too long, no area code, no such prefix."""
    plain = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))
    prefix = next((p for p in _COUNTRY_PREFIXES if plain.startswith(p)), "")
    plain = plain[len(prefix) :]
    if _MOBILE.fullmatch(plain):
        return plain
    if mobile_only:
        return None
    if prefix and not plain.startswith("0"):
        # From abroad an area code is dialled without its 0.
        plain = "0" + plain
    return plain if _FIXED_LINE.fullmatch(plain) else None


def phone_digits(phone: str) -> str:
    """A phone number in the form it is matched by, however it was written: its normal
    form (`normal_phone`), else its digits (without +86 before a mobile number), so that
    one number is found however each record spelled it."""
    normal = normal_phone(phone)
    if normal is not None:
        return normal
    digits = "".join(c for c in phone or "" if c.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        # +86 and a mobile number.
        return digits[2:]
    return digits


def mask_phone(phone: str) -> str:
    """138****1234: the first three and the last four digits of a mobile number (also
    written with +86); of a shorter number only the last two."""
    digits = phone_digits(phone)
    if not digits:
        return ""
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)
