"""A caller's personal data: kept on the case row, committed to in the trail, masked where
it is not needed.

The name and the phone number of a hotline caller are personal information (PIPL): they
serve the township's call-back and nothing else. They stay on the case
(`Case.reporter_name`, `Case.reporter_phone`), where they can be erased on request or when
the purpose is met, and never enter the hash-chained trail, which cannot forget. The trail
holds a commitment instead: SHA-256 of a random salt kept on the order and the data. While
the data is kept anyone can check that it is what was taken; once the data and the salt are
erased the commitment says nothing, where a bare hash of a phone number would be found by
trying every number.

Only the township's dispatchers and township chief of lanes of the case's township, who
call back, see the data in full; everyone else sees it masked: 王*, 138****1234.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from whistle.cases.models import Case
from whistle.cases.permissions import TOWNSHIP_OFFICE, grants_of


def new_salt() -> str:
    return secrets.token_hex(16)


def commitment(salt: str, name: str, phone: str) -> str:
    """The trail's commitment to a caller's data: "sha256:" and the hex digest of the salt
    and the canonical JSON of the name and the phone; empty when there is no data."""
    if not (name or phone):
        return ""
    document = json.dumps(
        {"name": name, "phone": phone}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256((salt + document).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"


def mask_name(name: str) -> str:
    """王* for 王小明, W* for Wang: the first character only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*"


def mask_phone(phone: str) -> str:
    """138****1234: the first three and the last four digits of a mobile number (also
    written with +86); of a shorter number only the last two."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        # +86 and a mobile number: the country code would eat into the masked middle.
        digits = digits[2:]
    if not digits:
        return ""
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def sees_caller(person: Any, case: Case) -> bool:
    """Whether the person may see the caller's name and phone in full: a dispatcher or the
    township chief of lanes of the case's township (roles read once per request)."""
    township_id = case.township_id
    if township_id is None:
        return False
    held = grants_of(person)
    return any((role, township_id, None, None) in held for role in TOWNSHIP_OFFICE)


def shown_caller(person: Any, case: Case) -> tuple[str, str]:
    """The caller's name and phone as this person may see them."""
    if sees_caller(person, case):
        return case.reporter_name, case.reporter_phone
    return mask_name(case.reporter_name), mask_phone(case.reporter_phone)
