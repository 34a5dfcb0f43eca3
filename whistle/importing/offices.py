"""``whistle import offices FILE``: the units of townships' street offices from one file.

One row per unit: the township's code, the kind of unit, its name (and, in a column of its
own, its English name, shown on English pages only), its responsibility list
(one item per line, or items separated by "；"), the categories it handles (4-digit codes
or names, separated by "、", "," or spaces), its people (usernames) and its place in the
list. A unit the file names (by township and name) is created, or replaced by the row.
Every row is checked first and each bad row is reported by its number: a file with any bad
row changes nothing. The units are written through `whistle.policies.offices`, each change
logged as an import.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from whistle.importing.base import Problem, Tally, header_key
from whistle.importing.pipeline import ImportResult
from whistle.organisation.models import Jurisdiction, Person, TownshipUnit
from whistle.organisation.tables import TableUnreadable, cell_text, read_table
from whistle.policies.models import Category
from whistle.policies.offices import ImportedUnit, UnitInput, import_units

KIND = "offices"
TITLE = gettext_lazy("township units")
MAX_ROWS = 5000

# Column: header spellings, English and Chinese (reduced as `header_key` reduces them).
COLUMNS: dict[str, tuple[str, ...]] = {
    "township": ("township", "township_code", "街乡", "街乡代码", "街道"),
    "kind": ("kind", "类型", "机构类型"),
    "name": ("name", "名称", "机构名称"),
    "name_en": ("name_en", "英文名称", "机构英文名称"),
    "responsibilities": ("responsibilities", "职责清单", "职责"),
    "categories": ("categories", "问题类别", "类别"),
    "members": ("members", "人员", "用户名"),
    "position": ("position", "顺序", "排序"),
    "active": ("active", "在用", "启用"),
}
REQUIRED = ("township", "kind", "name")
# How a column is named in a report when the file's own header cannot be used.
LABELS = {
    "township": "街乡代码",
    "kind": "类型",
    "name": "名称",
    "name_en": "英文名称",
    "responsibilities": "职责清单",
    "categories": "问题类别",
    "members": "人员",
    "position": "顺序",
    "active": "在用",
}
KINDS: dict[str, str] = {
    "office": TownshipUnit.Kind.OFFICE,
    "办公室": TownshipUnit.Kind.OFFICE,
    "discipline": TownshipUnit.Kind.DISCIPLINE,
    "纪工委": TownshipUnit.Kind.DISCIPLINE,
    "enforcement": TownshipUnit.Kind.ENFORCEMENT,
    "综合执法队": TownshipUnit.Kind.ENFORCEMENT,
    "执法队": TownshipUnit.Kind.ENFORCEMENT,
    "centre": TownshipUnit.Kind.CENTRE,
    "center": TownshipUnit.Kind.CENTRE,
    "中心": TownshipUnit.Kind.CENTRE,
}
YES = {"", "1", "yes", "y", "true", "是", "在用"}
NO = {"0", "no", "n", "false", "否", "停用"}
ITEM_SPLIT = re.compile(r"[\n；;]+")
LIST_SPLIT = re.compile(r"[、,，;；\s]+")


def import_offices(
    path: Path | str, *, district: str | None = None, dry_run: bool = False
) -> ImportResult:
    """Import the units the file names, all or nothing."""
    path = Path(path)
    result = ImportResult(kind=KIND, title=str(TITLE), file=path.name, dry_run=dry_run)
    try:
        table = read_table(path.name, path.read_bytes(), max_rows=MAX_ROWS)
    except OSError as exc:
        result.errors.append(
            Problem(None, None, _("Cannot read the file: %(error)s") % {"error": exc.strerror})
        )
        return result
    except TableUnreadable as exc:
        result.errors.append(Problem(None, None, str(exc)))
        return result
    header, body = table[0], table[1:]
    if len(body) > MAX_ROWS:
        result.errors.append(
            Problem(None, None, _("The file has more than %(n)s rows.") % {"n": MAX_ROWS})
        )
        return result
    columns: dict[str, int] = {}
    labels = dict(LABELS)
    for index, cell in enumerate(header):
        key = header_key(cell_text(cell))
        for name, spellings in COLUMNS.items():
            if key in spellings and name not in columns:
                columns[name] = index
                labels[name] = cell_text(cell)
    missing = [name for name in REQUIRED if name not in columns]
    for name in missing:
        result.errors.append(
            Problem(None, LABELS[name], _("The file has no such column; it is required."))
        )
    if missing:
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
    rows: list[ImportedUnit] = []
    for offset, cells in enumerate(body):
        number = offset + 2
        values = {
            name: cell_text(cells[index]) if index < len(cells) else ""
            for name, index in columns.items()
        }
        if not any(values.values()):
            continue
        result.rows += 1
        row = _read_row(number, values, area, result, labels)
        if row is not None:
            rows.append(row)
    if not result.rows and result.ok:
        result.errors.append(Problem(None, None, _("The file has no rows to import")))
        return result
    tally = Tally(str(TITLE))
    for row in rows:
        if TownshipUnit.objects.filter(township=row.township, name=row.data.name).exists():
            tally.updated += 1
        else:
            tally.created += 1
    # The rows read well are checked against the units even when others are bad, so that
    # every bad row is reported at once; nothing is kept unless every row is good.
    with transaction.atomic():
        problems = import_units(rows) if rows else []
        if problems or dry_run or not result.ok:
            transaction.set_rollback(True)
    for line, message in problems:
        result.errors.append(Problem(line, None, message))
    result.errors.sort(key=lambda problem: problem.row or 0)
    if result.ok:
        result.written = not dry_run
        result.tallies = [tally]
    return result


def _read_row(
    number: int,
    values: dict[str, str],
    area: Jurisdiction | None,
    result: ImportResult,
    labels: dict[str, str],
) -> ImportedUnit | None:
    def error(column: str, message: str) -> None:
        result.errors.append(Problem(number, labels[column], message))

    before = len(result.errors)
    township = Jurisdiction.objects.filter(
        code=values["township"], level=Jurisdiction.Level.TOWNSHIP
    ).first()
    if township is None:
        error(
            "township",
            _("There is no township with code %(code)s") % {"code": values["township"] or "—"},
        )
    elif area is not None and township.parent_id != area.pk:
        error(
            "township",
            _("This township is not in %(district)s, the district being imported")
            % {"district": area.name},
        )
    kind = KINDS.get(values["kind"].lower())
    if kind is None:
        error(
            "kind",
            _("Unknown kind %(kind)s: write 办公室, 纪工委, 综合执法队 or 中心.")
            % {"kind": values["kind"] or "—"},
        )
    if not values["name"]:
        error("name", _("The unit needs a name."))
    position = 0
    if values.get("position"):
        try:
            position = int(values["position"])
        except ValueError:
            error("position", _("The position is a number from 0 to 999."))
    active_text = values.get("active", "").lower()
    if active_text not in YES and active_text not in NO:
        error("active", _("Write 是 or 否."))
    categories: list[Category] = []
    if township is not None:
        for word in LIST_SPLIT.split(values.get("categories", "")):
            if not word:
                continue
            category = _category(township, word)
            if category is None:
                error(
                    "categories",
                    _("%(township)s's district has no category %(code)s, or more than one.")
                    % {"township": township.name, "code": word},
                )
            else:
                categories.append(category)
    members: list[Person] = []
    for username in LIST_SPLIT.split(values.get("members", "")):
        if not username:
            continue
        person = Person.objects.filter(username=username).first()
        if person is None:
            error("members", _("There is no person named %(username)s.") % {"username": username})
        else:
            members.append(person)
    if len(result.errors) > before or township is None or kind is None:
        return None
    return ImportedUnit(
        line=number,
        township=township,
        data=UnitInput(
            kind=kind,
            name=values["name"],
            # Without the column, a unit keeps its English name.
            name_en=values.get("name_en"),
            responsibilities=[i for i in ITEM_SPLIT.split(values.get("responsibilities", ""))],
            categories=categories,
            members=members,
            position=position,
            is_active=active_text not in NO,
        ),
    )


def _category(township: Jurisdiction, word: str) -> Any:
    found = Category.objects.filter(major__district_id=township.parent_id).select_related("major")
    if word.isdigit() and len(word) == 4:
        matches = list(found.filter(major__code=word[:2], code=word[2:]))
    else:
        matches = list(found.filter(name=word))
    return matches[0] if len(matches) == 1 else None
