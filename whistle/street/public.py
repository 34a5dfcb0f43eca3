"""What anyone may see of a case, with its reference number: its status, a timeline in plain
words without names, notes or phone numbers (`whistle.cases.public_timeline`, which the API
gives too), and the photos of the result (`whistle.cases.public_photos`). (The city's lanes,
for residents to choose a place, are `whistle.web.places`.)"""

from __future__ import annotations

import re

REFERENCE = re.compile(r"^[2-9A-HJ-NP-Z]{10}$")


def normal_reference(text: str) -> str:
    """A reference as typed (spaces, dashes, lower case) in its stored form."""
    return re.sub(r"[\s-]+", "", text or "").upper()
