"""`whistle what-if`: a period's ranking now and under a proposed scheme or arrival limit,
side by side, and with `--changes` the summonses the proposal scores differently. Nothing
is written (`whistle.assessment.what_if`)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.assessment.engine import SchemeBook, scheme_components
from whistle.assessment.models import Scheme
from whistle.assessment.periods import Period
from whistle.assessment.what_if import SETTINGS, Proposal, WhatIf, proposed_scheme, what_if
from whistle.organisation.models import Jurisdiction


class Command(BaseCommand):
    help = (
        "Replay a period's assessment under a proposed scheme (--set township_share=40%, "
        "--component inspection=60%) or arrival limit (--arrive-within 20) and print each "
        "department's score and rank now and under the proposal. Writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", required=True, help="the district's 6-digit code")
        parser.add_argument("--period", required=True, help="2026, 2026-Q3 or 2026-07")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="SETTING=VALUE",
            help="a setting of the scheme, e.g. township_share=40%%, late_points_per_minute=3, "
            'late_mode=bands, late_bands="[[10, 10], [30, 30]]"',
        )
        parser.add_argument(
            "--component",
            action="append",
            default=[],
            metavar="CODE=SHARE",
            help="the other components' shares (all of them), e.g. inspection=60%%",
        )
        parser.add_argument(
            "--arrive-within", type=int, help="minutes from the summons to the arrival deadline"
        )
        parser.add_argument("--format", choices=["table", "csv"], default="table")
        parser.add_argument("--output", help="write to this file instead of the screen")
        parser.add_argument(
            "--changes", action="store_true", help="also list the summonses judged differently"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        district = Jurisdiction.objects.filter(
            code=options["district"], level=Jurisdiction.Level.DISTRICT
        ).first()
        if district is None:
            raise CommandError(
                _("No district with the code %(code)s") % {"code": options["district"]}
            )
        try:
            period = Period.parse(options["period"])
            proposal = _proposal(district, period, options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        result = what_if(district, period, proposal)
        tables = [ranking_table(result)]
        if options["changes"]:
            tables.append(changes_table(result))
        if options["format"] == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for number, table in enumerate(tables):
                if number:
                    writer.writerow([])
                writer.writerows(table)
            text = buffer.getvalue()
        else:
            lines = [_("What if, %(period)s:") % {"period": period.key}]
            lines += [f"  {name}: {now} → {new}" for name, now, new in result.differences]
            text = "\n".join(lines) + "\n\n" + "\n".join(_format(t) for t in tables)
        if options["output"]:
            try:
                Path(options["output"]).write_text(
                    text, encoding="utf-8-sig" if options["format"] == "csv" else "utf-8"
                )
            except OSError as exc:
                raise CommandError(
                    _("Cannot write %(file)s: %(error)s")
                    % {"file": options["output"], "error": exc}
                ) from None
        else:
            self.stdout.write(text, ending="")


def _proposal(district: Jurisdiction, period: Period, options: dict[str, Any]) -> Proposal:
    scheme = None
    if options["set"] or options["component"]:
        book = SchemeBook()
        base = next(
            (
                s
                for m in reversed(period.months())
                if (s := book.in_force(district.pk, m)) is not None
            ),
            None,
        )
        if base is None:
            raise ValidationError(
                _("No scheme is in force in %(periods)s: nothing is scored.")
                % {"periods": period.key}
            )
        changes = dict(_setting(item) for item in options["set"])
        components = None
        if options["component"]:
            names = {c.code: (c.name, c.name_en) for c in scheme_components(base)}
            components = []
            for item in options["component"]:
                code, _sep, share = item.partition("=")
                name, name_en = names.get(code, (code, ""))
                components.append({"code": code, "name": name, "name_en": name_en, "weight": share})
        scheme = proposed_scheme(base, changes, components)
    return Proposal(scheme=scheme, arrive_within=options["arrive_within"])


def _setting(item: str) -> tuple[str, Any]:
    """SETTING=VALUE read as the scheme's field reads it (bands as JSON)."""
    name, _sep, text = item.partition("=")
    name = name.strip()
    if name not in SETTINGS:
        raise ValidationError(_("A scheme has no setting %(names)s") % {"names": name})
    try:
        field = Scheme._meta.get_field(name)
    except FieldDoesNotExist:  # pragma: no cover - SETTINGS are the model's fields
        raise ValidationError(_("A scheme has no setting %(names)s") % {"names": name}) from None
    value: Any = text.strip()
    if name == "late_bands":
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValidationError(
                _("Late bands are a list of [up to minutes, points deducted] with rising minutes")
            ) from None
    if value == "" and getattr(field, "null", False):
        # An empty setting that may be empty: `unrated_stars=` leaves "how well" out.
        return name, None
    return name, field.to_python(value)  # type: ignore[union-attr]


def ranking_table(result: WhatIf) -> list[list[str]]:
    header = [
        _("rank now"),
        _("rank proposed"),
        _("places"),
        _("department code"),
        _("department"),
        _("township evaluation now"),
        _("township evaluation proposed"),
        _("total now"),
        _("total proposed"),
        _("summonses judged differently"),
        _("why"),
    ]
    rows = [header]
    for row in result.rows:
        rows.append(
            [
                _cell(row.rank_now),
                _cell(row.rank_proposed),
                "" if row.places is None else f"{row.places:+d}",
                row.department.code,
                row.department.display_name,
                _cell(row.now.township_score if row.now else None),
                _cell(row.proposed.township_score if row.proposed else None),
                _cell(row.now.total if row.now else None),
                _cell(row.proposed.total if row.proposed else None),
                str(len(row.changes)),
                _("; ").join(row.why()),
            ]
        )
    return rows


def changes_table(result: WhatIf) -> list[list[str]]:
    header = [
        _("department code"),
        _("case"),
        _("township"),
        _("summoned at"),
        _("minutes late now"),
        _("minutes late proposed"),
        _("record total now"),
        _("record total proposed"),
    ]
    rows = [header]
    for row in result.rows:
        for change in row.changes:
            rows.append(
                [
                    row.department.code,
                    change.reference,
                    change.township,
                    f"{timezone.localtime(change.summoned_at):%Y-%m-%d %H:%M}",
                    _late(change.now),
                    _late(change.proposed),
                    _cell(change.now["total"]),
                    _cell(change.proposed["total"]),
                ]
            )
    return rows


def _late(values: dict[str, Any]) -> str:
    if values["came"] == "no_show":
        return _("never came")
    return str(values["late_minutes"] or 0) if values["came"] in ("late", "on_time") else ""


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _format(table: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return (
        "\n".join(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table
        )
        + "\n"
    )
