"""``whistle import rosters FILE``: the rotations of many duty rosters from one file.

The file is the roster page's export (read by `whistle.duty.transfer`, CSV or XLSX, English
or Chinese headers) with two more columns that say whose roster each row is for: the
department's code, the township's code, or both for a department in the township's
enforcement centre. A roster that does not exist yet is started. Each roster named in the
file gets the file's rotations, through the roster's own actions (logged as an import);
rosters the file does not name stay as they are. Every row is checked first and each bad row
is reported by its number: a file with any bad row, or that an action refuses, changes
nothing. Without ``--update`` a roster that already has other rotations is reported instead
of replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.duty import actions, transfer
from whistle.duty.errors import DutyRefused
from whistle.duty.models import Roster, Rotation, format_handovers, parse_handovers
from whistle.duty.permissions import IMPORT_ROLE
from whistle.importing.base import Problem, Tally
from whistle.importing.pipeline import ImportResult
from whistle.organisation.models import CentreMembership, Department, Jurisdiction

KIND = "rosters"
TITLE = gettext_lazy("duty rosters")

# One rotation as it stands or as the file has it: handovers, turn, first and last day, the
# members (person id, backup id) in their order, and the on-duty position.
Shape = tuple[str, str, date, date | None, list[tuple[int, int | None]], tuple[float, float] | None]


@dataclass
class _Group:
    """The rows of one roster."""

    first_row: int
    department: Department | None
    township: Jurisdiction | None
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    existing: Roster | None = None
    planned: dict[str, transfer.PlannedRotation] = field(default_factory=dict)


class _Rollback(Exception):
    """Undoes a dry run once every action has had its say."""


def import_rosters(
    path: Path | str,
    *,
    district: str | None = None,
    update: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Import the rotations of the rosters the file names, all or nothing."""
    path = Path(path)
    result = ImportResult(kind=KIND, title=str(TITLE), file=path.name, dry_run=dry_run)
    try:
        content = path.read_bytes()
        rows = transfer.read_rows(path.name, content)
    except OSError as exc:
        result.errors.append(
            Problem(None, None, _("Cannot read the file: %(error)s") % {"error": exc.strerror})
        )
        return result
    except transfer.UnreadableFile as exc:
        result.errors.append(Problem(None, None, str(exc)))
        return result
    result.rows = len(rows)
    if not rows:
        result.errors.append(Problem(None, None, _("The file has no rows to import")))
        return result
    area = None
    if district:
        area = Jurisdiction.objects.filter(code=district, level=Jurisdiction.Level.DISTRICT).first()
        if area is None:
            result.errors.append(
                Problem(
                    None, None, _("There is no district with code %(code)s") % {"code": district}
                )
            )
            return result
    groups = _groups(rows, area, result)
    tally = Tally(str(TITLE))
    for group in groups:
        _check_group(group, update, result, tally)
    if not result.ok:
        return result
    report = transfer.ImportReport()
    try:
        with transaction.atomic():
            for group in groups:
                roster = group.existing or actions.start_roster(
                    None,
                    department=group.department,
                    township=group.township,
                    system_role=IMPORT_ROLE,
                )
                transfer.apply_rotations(
                    None, roster, group.planned, report, system_role=IMPORT_ROLE
                )
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except transfer.RefusedRotation as exc:
        result.errors.append(Problem(exc.row or None, None, exc.message))
        return result
    except DutyRefused as exc:
        result.errors.append(Problem(None, None, str(exc)))
        return result
    result.written = not dry_run
    result.tallies = [tally]
    result.notes.append(
        _("%(rotations)s rotation(s) with %(members)s turn(s) in the file.")
        % {"rotations": report.rotations, "members": report.members}
    )
    return result


def _groups(
    rows: list[tuple[int, dict[str, Any]]], area: Jurisdiction | None, result: ImportResult
) -> list[_Group]:
    """The rows by the roster they are for; a row naming no roster, or one that cannot be,
    is reported."""
    departments = {
        d.code: d
        for d in Department.objects.filter(
            code__in={transfer.cell_text(c.get("department")) for _n, c in rows}
        ).select_related("district")
    }
    townships = {
        j.code: j
        for j in Jurisdiction.objects.filter(
            code__in={transfer.cell_text(c.get("township")) for _n, c in rows},
            level=Jurisdiction.Level.TOWNSHIP,
        ).select_related("parent")
    }
    groups: dict[tuple[str, str], _Group] = {}
    for number, cells in rows:
        department_code = transfer.cell_text(cells.get("department"))
        township_code = transfer.cell_text(cells.get("township"))
        if not department_code and not township_code:
            result.errors.append(
                Problem(number, None, _("Name the department, the township, or both"))
            )
            continue
        department = departments.get(department_code) if department_code else None
        township = townships.get(township_code) if township_code else None
        if department_code and department is None:
            result.errors.append(
                Problem(
                    number,
                    "department",
                    _("There is no department with code %(code)s") % {"code": department_code},
                )
            )
        if township_code and township is None:
            result.errors.append(
                Problem(
                    number,
                    "township",
                    _("There is no township with code %(code)s") % {"code": township_code},
                )
            )
        if (department_code and department is None) or (township_code and township is None):
            continue
        if area is not None and not _in_district(department, township, area):
            result.errors.append(
                Problem(
                    number,
                    None,
                    _("This roster is not in %(district)s, the district being imported")
                    % {"district": area.name},
                )
            )
            continue
        key = (department_code, township_code)
        group = groups.setdefault(key, _Group(number, department, township))
        group.rows.append((number, cells))
    return list(groups.values())


def _in_district(
    department: Department | None, township: Jurisdiction | None, area: Jurisdiction
) -> bool:
    if department is not None and department.district_id != area.pk:
        return False
    return township is None or township.parent_id == area.pk


def _check_group(group: _Group, update: bool, result: ImportResult, tally: Tally) -> None:
    department, township = group.department, group.township
    if (
        department is not None
        and township is not None
        and not CentreMembership.objects.filter(township=township, department=department).exists()
    ):
        result.errors.append(
            Problem(
                group.first_row,
                None,
                _("%(department)s is not a member of the enforcement centre of %(township)s.")
                % {"department": department.name, "township": township.name},
            )
        )
        return
    group.existing = Roster.objects.filter(department=department, township=township).first()
    roster = group.existing or Roster(department=department, township=township)
    report = transfer.ImportReport()
    group.planned = transfer.plan_rotations(roster, group.rows, report)
    result.errors.extend(Problem(row or None, None, message) for row, message in report.errors)
    if report.errors:
        return
    if group.existing is None:
        tally.created += 1
        return
    current = _shapes_now(group.existing)
    wanted = _shapes_planned(group.planned, current)
    if current == wanted:
        tally.unchanged += 1
    elif current and not update:
        result.errors.append(
            Problem(
                group.first_row,
                None,
                _(
                    "%(roster)s already has other rotations; use --update to replace them "
                    "with the file's"
                )
                % {"roster": group.existing},
            )
        )
    else:
        tally.updated += 1


def _shapes_now(roster: Roster) -> dict[str, Shape]:
    found: dict[str, Shape] = {}
    for rotation in Rotation.objects.filter(roster=roster).prefetch_related("members"):
        members = sorted(rotation.members.all(), key=lambda m: m.position)
        found[rotation.days] = (
            rotation.handovers,
            rotation.turn,
            rotation.starts_on,
            rotation.ends_on,
            [(m.person_id, m.backup_id) for m in members],
            rotation.post,
        )
    return found


def _shapes_planned(
    planned: dict[str, transfer.PlannedRotation], current: dict[str, Shape]
) -> dict[str, Shape]:
    """The rotations as the file would leave them; a file without the on-duty position's
    columns keeps each rotation's position."""
    found: dict[str, Shape] = {}
    for days, plan in planned.items():
        try:
            handovers = format_handovers(parse_handovers(plan.handovers))
        except ValidationError:  # the action reports a bad value; here it only differs
            handovers = plan.handovers
        members = sorted(plan.members, key=lambda m: m[:2])
        found[days] = (
            handovers,
            plan.turn,
            plan.starts_on,
            plan.ends_on,
            [(p.pk, b.pk if b is not None else None) for _pos, _n, p, b in members],
            plan.post if plan.post_given else (current[days][5] if days in current else None),
        )
    return found
