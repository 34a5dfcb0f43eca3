"""Who sees a reporter's or caller's personal data in full: the township's call-back.

The name and the phone number of a resident or hotline caller stay on the case
(`Case.reporter_name`, `Case.reporter_phone`); the trail holds a commitment to them
(`whistle.organisation.personal_data`). Only the township's dispatchers and township chief
of lanes of the case's township, who call back, see them in full; everyone else sees them
masked: 王*, 138****1234. Once erased (`Case.personal_data_erased_at`) nobody sees them, and
the pages say that they were erased.

A resident who reported or rated with an account is named by that account wherever the case
shows who did what (its trail, its photos' captions, the API's trail): `shown_actor` gives the
name as the caller's is given, in full to the call-back and masked to everyone else, and to
nobody once the case's personal data was erased (the pages then say only 居民, *resident*).
The pages, the API and the signed export all ask it.
"""

from __future__ import annotations

from typing import Any

from whistle.cases.models import Case
from whistle.cases.permissions import TOWNSHIP_OFFICE, grants_of
from whistle.cases.trail import EventKind
from whistle.organisation.models import Role
from whistle.organisation.personal_data import mask_name, mask_phone

# A key of the first event of cases reported before the trail held commitments: the
# reporter's name itself, which the chain cannot forget.
LEGACY_NAME_KEY = "reporter_name"
# A key of a resident's rating event recorded before the trail held a commitment to the
# comment (`comment_commitment`): the comment itself, which may name them. The case's
# `resident_comment` is erased with the reporter's data; the event cannot be.
LEGACY_COMMENT_KEY = "comment"


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


def shown_resident(person: Any, case: Case, name: str) -> str:
    """The name of a resident who acted on the case with their account, as this person (None:
    someone outside the product, as for the signed export) may see it: in full for the
    township's call-back, masked (王*) for everyone else, and empty for everyone once the
    case's personal data was erased."""
    if not name or case.personal_data_erased_at is not None:
        return ""
    if person is not None and sees_caller(person, case):
        return name
    return mask_name(name)


def shown_actor(person: Any, case: Case, actor: Any, role: str) -> str:
    """Who did something on the case (an event's actor, a photo's uploader) as this person
    may see them: staff and volunteers by their name, a resident (`role` is the resident's)
    as `shown_resident` says; empty when there is nobody to name."""
    if actor is None:
        return ""
    if role == Role.RESIDENT:
        return shown_resident(person, case, actor.display_name)
    return str(actor.display_name)


def resident_actors(events: Any) -> set[int]:
    """The ids of the people who acted on a case in the resident's role, from its events: a
    photo they uploaded is captioned as their events are."""
    return {e.actor_id for e in events if e.actor_id is not None and e.actor_role == Role.RESIDENT}


def shown_event_data(
    person: Any, case: Case, data: dict[str, Any], kind: str = ""
) -> dict[str, Any]:
    """An event's data as this person may see it: a name an old first event holds is masked
    like the case's, and gone once the case's personal data was erased; so is the comment an
    old rating event holds (`LEGACY_COMMENT_KEY`)."""
    if (
        kind == EventKind.RESIDENT_RATED
        and data.get(LEGACY_COMMENT_KEY)
        and case.personal_data_erased_at is not None
    ):
        data = {**data, LEGACY_COMMENT_KEY: ""}
    if LEGACY_NAME_KEY not in data:
        return data
    if case.personal_data_erased_at is not None:
        name = ""
    elif sees_caller(person, case):
        return data
    else:
        name = mask_name(data[LEGACY_NAME_KEY])
    return {**data, LEGACY_NAME_KEY: name}
