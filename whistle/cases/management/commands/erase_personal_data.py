"""``whistle erase-personal-data``: erase residents' and volunteers' personal data.

``--case REF`` erases the name and phone the reporter (resident or hotline caller) of a case
gave; ``--phone NUMBER`` those of every case reported with that number, the account of a
volunteer (alley steward) or resident who gave it, an application to be a steward given with
it and the number where it waits for its code as someone's new phone; ``--expired`` those of
every case past its district's retention period (`DistrictPolicy.personal_data_retention_days`),
which the worker also does daily. Each erased case gets a trail event saying why; the trail still
verifies (`whistle verify-trail`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.cases.actions.personal_data import (
    ErasureReason,
    cases_with_phone,
    erase_elsewhere,
    erase_expired,
    erase_private_person,
    erase_reporter_data,
    people_with_phone,
)
from whistle.cases.callers import LEGACY_NAME_KEY
from whistle.cases.errors import ActionRefused
from whistle.cases.models import Case, Event
from whistle.cases.trail import EventKind


class Command(BaseCommand):
    help = (
        "Erase the personal data (name, phone) a resident, hotline caller or volunteer gave: "
        "of a case (--case), of everyone who gave a phone number (--phone), or of every case "
        "past its district's retention period (--expired). The trail keeps only a commitment "
        "to the data and still verifies."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--case",
            action="append",
            dest="cases",
            default=[],
            metavar="REF",
            help="erase the reporter's data of this case (repeatable)",
        )
        parser.add_argument(
            "--phone",
            action="append",
            dest="phones",
            default=[],
            metavar="NUMBER",
            help=(
                "erase the data of every case reported with this phone number, the account "
                "of a volunteer or resident who gave it and the number where it waits for its "
                "code (repeatable)"
            ),
        )
        parser.add_argument(
            "--expired",
            action="store_true",
            help="erase the data of every case past its district's retention period",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        references: list[str] = options["cases"]
        phones: list[str] = options["phones"]
        if not (references or phones or options["expired"]):
            raise CommandError(_("Say whose data to erase: --case, --phone or --expired."))
        case_ids: list[int] = []
        if references:
            found = dict(
                Case.objects.filter(reference__in=references).values_list("reference", "pk")
            )
            unknown = [r for r in references if r not in found]
            if unknown:
                raise CommandError(
                    _("No case with the reference %(refs)s.") % {"refs": ", ".join(unknown)}
                )
            case_ids.extend(found[r] for r in references)
        people = []
        others = 0
        now = timezone.now()
        for phone in phones:
            elsewhere = erase_elsewhere(now=now, phone=phone)
            others += elsewhere
            matched_cases = cases_with_phone(phone)
            matched_people = people_with_phone(phone)
            if not (matched_cases or matched_people or elsewhere):
                self.stdout.write(_("Nobody gave the phone number %(phone)s.") % {"phone": phone})
            case_ids.extend(matched_cases)
            people.extend(matched_people)
        erased = 0
        for case_id in dict.fromkeys(case_ids):
            if erase_reporter_data(case_id, reason=ErasureReason.REQUEST):
                erased += 1
        if options["expired"]:
            erased += erase_expired()
            others += erase_elsewhere(now=now, expired=True)
        accounts = 0
        for person in people:
            try:
                erase_private_person(person)
            except ActionRefused as refused:
                self.stderr.write(str(refused))
                continue
            accounts += 1
        self.stdout.write(
            _("Erased the personal data of %(cases)s cases and %(accounts)s accounts.")
            % {"cases": erased, "accounts": accounts}
        )
        if others:
            self.stdout.write(
                _(
                    "Erased %(n)s other records of personal data (applications to be a steward, "
                    "new numbers waiting for their code)."
                )
                % {"n": others}
            )
        self._name_old_trails()

    def _name_old_trails(self) -> None:
        """Say which erased cases were reported before the trail held commitments: their
        first event still holds the reporter's name, which the chain cannot forget."""
        old = (
            Event.objects.filter(
                seq=1,
                kind=EventKind.CASE_REPORTED,
                data__has_key=LEGACY_NAME_KEY,
                case__personal_data_erased_at__isnull=False,
            )
            .exclude(data__reporter_name="")
            .values_list("case__reference", flat=True)
        )
        references = list(old[:50])
        if references:
            self.stdout.write(
                _(
                    "The first trail event of %(refs)s, recorded before the trail held "
                    "commitments, still holds the reporter's name: the pages and the API no longer "
                    "show it."
                )
                % {"refs": ", ".join(references)}
            )
