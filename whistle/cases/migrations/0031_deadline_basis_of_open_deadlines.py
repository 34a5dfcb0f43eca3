"""Open deadlines in working time set before cases and summonses kept what each was computed
from (`deadline_basis`) get it now, where it can be told for certain: a start the trail
gives (filed, summoned, sent back for rework, taken off the backlog) and the time limit of
the category or whistle rule, accepted only when computing it again on the calendar as it
stands gives exactly the stored moment. A deadline computed on an assumed calendar takes
its mark's basis. Any other (a deadline moved off the backlog by the time it was paused, a
time limit changed since) is left without one and is not listed when the calendar changes
(docs/calendar.md)."""

from datetime import UTC

from django.db import migrations

WORKING_UNITS = ("working_hours", "working_days")
OPEN_CASES = ("reported", "filed", "dispatched", "whistled", "handled", "checked", "backlog")
OPEN_SUMMONSES = ("summoned", "acknowledged", "on_site", "declined")
RESTARTS = ("case.rework", "case.backlog_resumed")


def _basis(row, field, limit, starts, district):
    """The basis that reproduces `row.<field>`, or None."""
    from whistle.policies.calendar import CalendarError, compute_deadline

    mark = (row.assumed_calendar or {}).get(field)
    if mark is not None:
        return {k: v for k, v in mark.items() if k != "years"}
    stored = getattr(row, field)
    amount, unit = limit
    if stored is None or unit not in WORKING_UNITS or amount is None:
        return None
    for start in starts:
        if start is None:
            continue
        try:
            computed = compute_deadline(start, amount, unit, district)
        except CalendarError:
            return None
        if computed.at == stored:
            return {
                "start": start.astimezone(UTC).isoformat(),
                "amount": amount,
                "unit": unit,
                "shift_seconds": 0.0,
            }
    return None


def record_bases(apps, schema_editor):
    from whistle.organisation.models import Jurisdiction

    Case = apps.get_model("cases", "Case")
    Event = apps.get_model("cases", "Event")
    Summons = apps.get_model("cases", "Summons")
    WhistleRule = apps.get_model("policies", "WhistleRule")
    cases = Case.objects.filter(status__in=OPEN_CASES, category__isnull=False).select_related(
        "category"
    )
    for case in cases.iterator():
        district = Jurisdiction.objects.filter(pk=case.district_id).first()
        restarts = list(
            Event.objects.filter(case=case, kind__in=RESTARTS)
            .order_by("-seq")
            .values_list("at", flat=True)
        )
        category = case.category
        resolve = (category.resolve_within, category.resolve_unit)
        basis = _basis(case, "resolve_due_at", resolve, [case.filed_at, *restarts], district)
        if basis is not None and case.deadline_basis.get("resolve_due_at") is None:
            Case.objects.filter(pk=case.pk).update(
                deadline_basis={**case.deadline_basis, "resolve_due_at": basis}
            )
        summonses = Summons.objects.filter(case=case, status__in=OPEN_SUMMONSES).select_related(
            "whistle"
        )
        for summons in summonses:
            limits = {"resolve_due_at": resolve}
            if summons.whistle is None:
                limits["acknowledge_due_at"] = (
                    category.acknowledge_within,
                    category.acknowledge_unit,
                )
            else:
                rule = WhistleRule.objects.filter(
                    district_id=case.district_id, kind=summons.whistle.kind
                ).first()
                if rule is not None:
                    limits["acknowledge_due_at"] = (rule.acknowledge_within, rule.acknowledge_unit)
                    limits["arrive_due_at"] = (rule.arrive_within, rule.arrive_unit)
            bases = dict(summons.deadline_basis or {})
            for field, limit in limits.items():
                if field in bases:
                    continue
                starts = [summons.summoned_at, *restarts]
                found = _basis(summons, field, limit, starts, district)
                if found is not None:
                    bases[field] = found
            if bases != (summons.deadline_basis or {}):
                Summons.objects.filter(pk=summons.pk).update(deadline_basis=bases)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0030_deadline_basis"),
        ("policies", "0019_category_arrival_from_whistle_rules"),
    ]

    operations = [migrations.RunPython(record_bases, migrations.RunPython.noop)]
