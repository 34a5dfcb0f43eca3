"""Who sees a reporter's or caller's personal data in full: the township's call-back.

The name and the phone number of a resident or hotline caller stay on the case
(`Case.reporter_name`, `Case.reporter_phone`); the trail holds a commitment to them
(`whistle.organisation.personal_data`). Only the township's dispatchers and township chief
of lanes of the case's township, who call back, see them in full; everyone else sees them
masked: 王*, 138****1234. Once erased (`Case.personal_data_erased_at`) nobody sees them, and
the pages say that they were erased.
"""

from __future__ import annotations

from typing import Any

from whistle.cases.models import Case
from whistle.cases.permissions import TOWNSHIP_OFFICE, grants_of
from whistle.organisation.personal_data import mask_name, mask_phone

# A key of the first event of cases reported before the trail held commitments: the
# reporter's name itself, which the chain cannot forget.
LEGACY_NAME_KEY = "reporter_name"


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


def shown_event_data(person: Any, case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """An event's data as this person may see it: a name an old first event holds is masked
    like the case's, and gone once the case's personal data was erased."""
    if LEGACY_NAME_KEY not in data:
        return data
    if case.personal_data_erased_at is not None:
        name = ""
    elif sees_caller(person, case):
        return data
    else:
        name = mask_name(data[LEGACY_NAME_KEY])
    return {**data, LEGACY_NAME_KEY: name}
