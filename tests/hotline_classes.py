"""A district's own hotline deadline classes, as the tests of the order form, the intake
and the directory enter them."""

from __future__ import annotations

from whistle.organisation.models import Jurisdiction
from whistle.policies.models import DurationUnit, HotlineDeadlineClass


def deadline_class(
    district: Jurisdiction,
    code: str,
    name: str,
    respond: tuple[int, DurationUnit],
    resolve: tuple[int, DurationUnit],
    *,
    is_default: bool = False,
) -> HotlineDeadlineClass:
    """A class of the district: reply within `respond`, resolve within `resolve`, each an
    (amount, unit)."""
    return HotlineDeadlineClass.objects.create(
        district=district,
        code=code,
        name=name,
        respond_within=respond[0],
        respond_unit=respond[1],
        resolve_within=resolve[0],
        resolve_unit=resolve[1],
        is_default=is_default,
    )


def superurgent_class(district: Jurisdiction) -> HotlineDeadlineClass:
    """特急: reply within 30 minutes, resolve within an hour; a class the built-in ones lack."""
    return deadline_class(
        district,
        "superurgent",
        "特急",
        (30, DurationUnit.NATURAL_MINUTES),
        (1, DurationUnit.NATURAL_HOURS),
    )
