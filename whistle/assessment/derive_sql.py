"""Deriving every assessment record from the trail in set-based SQL (PostgreSQL).

`recompute_all` on PostgreSQL uses this instead of reading each case's trail into Python: for
each range of case ids, one statement reads the trail events once (merged with the range's
summonses, aggregated per summons), marks the cases it leaves to Python, and writes each
other summons' facts (what `whistle.assessment.scoring.derive_facts` says) into a temporary
table; the few different combinations of facts each scheme scores are scored in Python by
`scoring.score`; one `MERGE` updates the stored records whose values changed and inserts
the missing ones, one delete removes those without a summons left; the cells
are then one GROUP BY over the records.

`derive_facts` stays the rule. The SQL expresses it exactly for the trails it handles and
leaves the others to it (`ODD_EVENT`): a case with a backlog pause, an upheld appeal or a
check-in confirmed by the township, or whose summons or rating events carry data of a shape
the SQL does not read the way Python does. Their summonses are derived by `compute_records`
and join the same temporary table, so every record is written, scored and counted the same
way. tests/test_assessment_derive_sql.py holds the two paths to each other field by field.

`derive_all` runs the ranges on one connection, or shares them out to worker threads, each
with its own connection and temporary tables and each range in its own transaction; the
cells are summed afterwards on the recompute's connection.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction

from whistle.assessment.models import (
    RECORD_FIELDS,
    Acted,
    Came,
    ClosedPeriod,
    ScoreCell,
    SummonsAssessment,
)
from whistle.assessment.periods import BEIJING
from whistle.assessment.scoring import (
    RESIDENT_SOURCES,
    AssessmentEventKind,
    Facts,
    Scores,
)
from whistle.cases.models import Case, Event, Summons, Whistle
from whistle.cases.trail import EventKind
from whistle.organisation.models import Department

# Case ids per statement: big enough that a statement's overhead does not count, small
# enough that the temporary table stays in memory.
CASE_RANGE = 20000
# The smallest range shared out to parallel workers.
MIN_SHARED_RANGE = 2000

SCORE_COLUMNS = ("came_score", "acted_score", "quality_score", "total")
# The facts the SQL writes, in the columns of the temporary table `derived`: a record's
# values without its scores, which are worked out in Python.
DERIVED_COLUMNS = ("summons_id", *(name for name in RECORD_FIELDS if name not in SCORE_COLUMNS))

# An ISO 8601 moment with its offset, as the summons event records its arrival deadline, in
# the forms that Python's `datetime.fromisoformat` and PostgreSQL both read, as the same
# instant: a year from 0001, an hour up to 23, minutes and seconds up to 59 (PostgreSQL
# reads `T24:00` and a 60th second, Python refuses them), an offset below 16 hours
# (PostgreSQL's limit; Python reads up to 23:59). The day is checked against its month by
# `READABLE_DUE`. Text of any other form leaves its case to `derive_facts`.
_ISO_MOMENT = (
    r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]"
    r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"([+-](0[0-9]|1[0-5]):[0-5][0-9]|Z)$"
)
_DUE_TEXT = "(e.data ->> 'arrive_due_at')"
# CASE, not AND: the day is read only from text of the right form. A day up to 28 (two
# digits, compared as text) is in every month; only a later one is checked against its own.
READABLE_DUE = (
    f"CASE WHEN {_DUE_TEXT} ~ '{_ISO_MOMENT}' THEN substr({_DUE_TEXT}, 9, 2) <= '28' "
    f"OR substr({_DUE_TEXT}, 9, 2)::int <= extract(day FROM "
    f"make_date(substr({_DUE_TEXT}, 1, 4)::int, "
    f"substr({_DUE_TEXT}, 6, 2)::int, 1) + interval '1 month' - interval '1 day') "
    "ELSE false END"
)


# The Beijing month of `s.summoned_at`. Beijing time has been eight hours ahead of UTC since
# China's last summer time ended in September 1991 (the time zone database's Asia/Shanghai,
# which Python's `month_start` reads too): from 1992 the month is read with that fixed offset,
# plain arithmetic, instead of a look-up in the zone's rules for each summons; before, from
# the zone itself.
_BEIJING_MONTH = (
    "date_trunc('month', CASE WHEN s.summoned_at >= '1992-01-01T00:00+08:00' "
    "THEN s.summoned_at AT TIME ZONE interval '+08:00' "
    f"ELSE s.summoned_at AT TIME ZONE '{BEIJING.key}' END)::date"
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: Any) -> str:
    return _q(model._meta.db_table)


def _kinds(*kinds: str) -> str:
    """Event kinds as SQL literals (they are the project's own constants)."""
    for kind in kinds:
        if "'" in kind:
            raise ValueError(kind)
    return ", ".join(f"'{kind}'" for kind in kinds)


K = EventKind
RELEVANT = (
    K.SUMMONED,
    K.EVALUATED,
    K.CHECK_IN_ACCEPTED,
    K.CHECK_IN_FLAGGED,
    K.CHECK_IN_CONFIRMED,
    K.DECLINED,
    K.DECLINE_UPHELD,
    K.DECLINE_INSISTED,
    K.RELEASED,
    K.RESULT,
    K.CHECK_OUT,
    K.ARRIVE_OVERDUE,
    K.RESOLVE_OVERDUE,
    K.REWORK,
    K.CLOSED,
    K.RESIDENT_CALLBACK,
    K.RESIDENT_RATED,
    AssessmentEventKind.RATED,
    AssessmentEventKind.APPEAL_UPHELD,
    K.BACKLOG,
    K.BACKLOG_RESUMED,
)

# An event that leaves its case to `derive_facts`. A rule of derive_facts that the SQL below
# does not express makes its case one of these (`whistle_odd`, filled by `DERIVE` itself).
ODD_EVENT = f"""(
    e.kind IN ({_kinds(K.BACKLOG, AssessmentEventKind.APPEAL_UPHELD, K.CHECK_IN_CONFIRMED)})
    OR (e.kind = '{AssessmentEventKind.RATED}' AND NOT (
        jsonb_typeof(e.data -> 'rating') = 'number' AND (e.data ->> 'rating') ~ '^\\d{{1,4}}$'
        AND (NOT e.data ? 'comment' OR jsonb_typeof(e.data -> 'comment') = 'string')))
    OR (e.kind = '{K.SUMMONED}' AND e.data ? 'arrive_due_at' AND NOT (
        jsonb_typeof(e.data -> 'arrive_due_at') = 'null'
        OR (jsonb_typeof(e.data -> 'arrive_due_at') = 'string'
            AND ({_DUE_TEXT} = '' OR {READABLE_DUE}))))
)"""

# Each event's kind as its place in RELEVANT, read once per event (`ev.k`): the aggregates
# below test it a score of times per row, comparing small numbers instead of text.
_KIND_CODE = f"array_position(ARRAY[{_kinds(*RELEVANT)}]::text[], e.kind::text)"


def _in(*kinds: str) -> str:
    """Whether the event `ev` is of one of the kinds."""
    codes = [str(RELEVANT.index(kind) + 1) for kind in kinds]
    return f"ev.k = {codes[0]}" if len(codes) == 1 else f"ev.k IN ({', '.join(codes)})"


_OWN = "ev.summons_id = sm.id"
_TERMINAL = (
    f"(({_OWN} AND {_in(K.DECLINE_UPHELD, K.RELEASED, K.CHECK_OUT)}) "
    f"OR ({_in(K.CLOSED)} AND (ev.summons_id IS NULL OR {_OWN})))"
)


# An event's place in its case's trail and its id in one bigint (`ev.pos`): the sequence
# times 2^40 plus the id, so that the least or greatest of a plain number is the first or
# last matching event by sequence and names it, without building an array per event. An
# event with a sequence of 2^23 or more, or an id of 2^40 or more, has no such number and
# leaves its case to `derive_facts`.
_POSITIONS = 2**40
_PLACED = f"(e.seq < {2**23} AND e.id < {_POSITIONS})"


def _own(kind: str) -> str:
    return f"{_OWN} AND {_in(kind)}"


def _micro(moment: str) -> str:
    """A moment as whole microseconds since 1970 (exact: `extract` gives a numeric)."""
    return f"(extract(epoch FROM {moment}) * 1000000)::bigint"


def _moment(micro: str) -> str:
    return (
        f"('epoch'::timestamptz + ({micro} / 1000000) * interval '1 second'"
        f" + ({micro} %% 1000000) * interval '1 microsecond')"
    )


# The kinds whose moment a rule reads (the terminal event's, the arrival's, the decline's
# and the release's): only theirs is turned into microseconds.
_TIMED = (
    K.DECLINE_UPHELD,
    K.RELEASED,
    K.CHECK_OUT,
    K.CLOSED,
    K.CHECK_IN_ACCEPTED,
    K.DECLINED,
    K.RESOLVE_OVERDUE,
)
_RULINGS = _in(K.DECLINE_UPHELD, K.DECLINE_INSISTED)
_CALLBACKS = _in(K.RESIDENT_CALLBACK, K.RESIDENT_RATED)
_RESIDENT = ", ".join(f"'{source}'" for source in RESIDENT_SOURCES)

DERIVE = f"""
WITH sm AS (
    SELECT s.id, s.case_id, s.department_id, d.district_id,
        COALESCE(w.township_id, c.township_id) AS township_id,
        {_BEIJING_MONTH} AS month,
        {_micro("s.arrive_due_at")} AS arrive_due_us, c.source, c.resident_satisfied,
        c.township_rating
    FROM {_table(Summons)} s
    JOIN {_table(Case)} c ON c.id = s.case_id
    JOIN {_table(Department)} d ON d.id = s.department_id
    LEFT JOIN {_table(Whistle)} w ON w.id = s.whistle_id
    WHERE s.case_id BETWEEN %(lo)s AND %(hi)s AND c.id BETWEEN %(lo)s AND %(hi)s
        AND s.status <> '{Summons.Status.CANCELLED}'
), assessable AS (
    SELECT sm.*, f.scheme_id FROM sm
    JOIN whistle_in_force f ON f.district_id = sm.district_id AND sm.month >= f.valid_from
        AND (f.valid_until IS NULL OR sm.month < f.valid_until)
    WHERE sm.township_id IS NOT NULL
), a AS (
    -- Each summons with its case's events, read once and straight from the index (no window
    -- functions, no stored copy of the events): whether the case has an event that leaves it
    -- to Python, and the values the rules read. A deadline is read as a moment only from an
    -- event that does not (its text then reads the same in both). Grouped by the summons
    -- alone (its other columns joined back after): the rows are hashed on one key. The
    -- values of the first or last event of a kind are one aggregate each: the least or
    -- greatest `pos` where the event's id is all that is read, else one array of the
    -- sequence (unique in the case, so it decides) and the values read.
    SELECT sm.*, x.* FROM assessable sm JOIN (
        SELECT sid, odd_case,
            terminal[2] AS terminal_id, terminal[3] AS terminal_us,
            handling_overdue[2] AS handling_overdue_id,
            handling_overdue[3] AS handling_overdue_us,
            arrival[3] AS arrival_id, arrival[1] AS arrival_us,
            declined[2] AS declined_id, declined[3] AS declined_us,
            ruling[2] AS ruling_id, ruling[3] AS ruling_upheld, ruling[1] AS ruling_seq,
            released[2] AS released_id, released[3] AS released_us, released[1] AS released_seq,
            summoned,
            overdue %% {_POSITIONS} AS overdue_id,
            first_result, first_check_out, own_rework_ids, case_reworks,
            rated %% {_POSITIONS} AS rated_id,
            evaluated %% {_POSITIONS} AS evaluated_id,
            callback %% {_POSITIONS} AS callback_id
        FROM (SELECT sm.id AS sid,
            bool_or(ev.odd) AS odd_case,
            min(ARRAY[ev.seq, ev.id, ev.us]) FILTER (WHERE {_TERMINAL}) AS terminal,
            min(ARRAY[ev.seq, ev.id, ev.us]) FILTER (WHERE {_own(K.RESOLVE_OVERDUE)})
                AS handling_overdue,
            min(ARRAY[ev.us, ev.seq, ev.id]) FILTER (WHERE {_own(K.CHECK_IN_ACCEPTED)})
                AS arrival,
            min(ARRAY[ev.seq, ev.id, ev.us]) FILTER (WHERE {_own(K.DECLINED)}) AS declined,
            max(ARRAY[ev.seq, ev.id, ev.upheld]) FILTER (WHERE {_OWN} AND {_RULINGS})
                AS ruling,
            min(ARRAY[ev.seq, ev.id, ev.us]) FILTER (WHERE {_own(K.RELEASED)}) AS released,
            min(ARRAY[ev.seq, ev.due_given, ev.due_us]) FILTER (WHERE {_own(K.SUMMONED)})
                AS summoned,
            min(ev.pos) FILTER (WHERE {_own(K.ARRIVE_OVERDUE)}) AS overdue,
            min(ev.pos) FILTER (WHERE {_own(K.RESULT)}) AS first_result,
            min(ev.pos) FILTER (WHERE {_own(K.CHECK_OUT)}) AS first_check_out,
            array_agg(ev.id) FILTER (WHERE {_own(K.REWORK)}) AS own_rework_ids,
            array_agg(ev.pos) FILTER (
                WHERE {_in(K.REWORK)} AND ev.summons_id IS NULL) AS case_reworks,
            max(ev.pos) FILTER (WHERE {_own(AssessmentEventKind.RATED)}) AS rated,
            max(ev.pos) FILTER (WHERE {_in(K.EVALUATED)}) AS evaluated,
            max(ev.pos) FILTER (WHERE {_CALLBACKS}) AS callback
        FROM assessable sm LEFT JOIN (
            -- The deadline is read as a moment from the event's own row below, whose mark
            -- (`odd`) is worked out once (behind OFFSET 0, not copied into each use).
            SELECT e.id, e.case_id, e.seq, e.us, e.k, e.summons_id, e.pos, e.due_given,
                CASE WHEN e.due_given = 1 AND NOT e.odd THEN
                    {_micro("NULLIF(e.data ->> 'arrive_due_at', '')::timestamptz")} END AS due_us,
                e.upheld, e.odd
            FROM (
                SELECT e.id, e.case_id, e.seq,
                    CASE WHEN e.kind IN ({_kinds(*_TIMED)}) THEN {_micro("e.at")} END AS us,
                    {_KIND_CODE} AS k,
                    e.summons_id,
                    CASE WHEN {_PLACED} THEN e.seq * {_POSITIONS} + e.id END AS pos,
                    CASE WHEN e.kind = '{K.SUMMONED}' THEN
                        CASE WHEN e.data ? 'arrive_due_at' THEN 1 ELSE 0 END END AS due_given,
                    CASE WHEN e.kind = '{K.DECLINE_UPHELD}' THEN 1 ELSE 0 END AS upheld,
                    {ODD_EVENT} OR NOT {_PLACED} AS odd, e.data
                FROM {_table(Event)} e
                WHERE e.case_id BETWEEN %(lo)s AND %(hi)s AND e.kind IN ({_kinds(*RELEVANT)})
                OFFSET 0
            ) e
        ) ev ON ev.case_id = sm.case_id
        GROUP BY sm.id) y
    ) x ON x.sid = sm.id
), odd AS (
    INSERT INTO whistle_odd (case_id) SELECT DISTINCT case_id FROM a WHERE odd_case
), w AS (
    -- The first work of the summons: a result, or a check-out before its release. After a
    -- ruling on a decline (rare), the first work after it is looked up in the case's trail.
    SELECT a.*, least(first_result, CASE WHEN released_seq IS NULL
        OR first_check_out / {_POSITIONS} < released_seq THEN first_check_out END) AS work
    FROM a WHERE odd_case IS NOT TRUE
), b AS (
    SELECT w.*,
        work %% {_POSITIONS} AS work_id,
        work / {_POSITIONS} AS work_seq,
        CASE WHEN ruling_seq IS NOT NULL THEN (
            SELECT r.id FROM {_table(Event)} r
            WHERE r.case_id = w.case_id AND r.seq > w.ruling_seq AND r.summons_id = w.id
                AND (r.kind = '{K.RESULT}' OR (r.kind = '{K.CHECK_OUT}'
                    AND (w.released_seq IS NULL OR r.seq < w.released_seq)))
            ORDER BY r.seq LIMIT 1) END AS after_id,
        -- Counted from the handling-overdue event too, "never came" only once finished.
        terminal_id IS NOT NULL OR handling_overdue_id IS NOT NULL AS settled,
        terminal_id IS NOT NULL AS finished,
        ruling_upheld = 1 AS upheld,
        CASE WHEN summoned[2] = 1 THEN summoned[3] ELSE arrive_due_us END AS due_us
    FROM w
), c AS (
    SELECT b.*,
        CASE WHEN arrival_us <= due_us THEN 0
            ELSE (arrival_us - due_us + 59999999) / 60000000 END AS late,
        COALESCE(upheld, false) OR (released_id IS NOT NULL
            AND (arrival_us IS NULL OR arrival_us > released_us)) AS excused
    FROM b
), d AS (
    SELECT c.*,
        CASE WHEN due_us IS NULL THEN 'not_applicable'
            WHEN arrival_id IS NOT NULL THEN 'arrival'
            WHEN declined_id IS NOT NULL AND declined_us <= due_us AND upheld THEN 'declined'
            WHEN released_id IS NOT NULL AND released_us <= due_us THEN 'released'
            WHEN overdue_id IS NOT NULL THEN 'overdue'
            WHEN finished THEN 'settled'
            ELSE 'pending' END AS came_by,
        CASE WHEN upheld THEN '{Acted.DECLINE_UPHELD}'
            WHEN ruling_id IS NOT NULL THEN
                CASE WHEN after_id IS NOT NULL THEN '{Acted.DECLINE_OVERRULED}'
                    WHEN settled THEN '{Acted.ABANDONED}' ELSE '{Acted.PENDING}' END
            WHEN work_id IS NOT NULL THEN '{Acted.HANDLED}'
            WHEN released_id IS NOT NULL THEN '{Acted.NOT_APPLICABLE}'
            WHEN settled THEN '{Acted.ABANDONED}'
            ELSE '{Acted.PENDING}' END AS acted
    FROM c
), f AS (
    SELECT d.*,
        CASE came_by WHEN 'not_applicable' THEN '{Came.NOT_APPLICABLE}'
            WHEN 'arrival' THEN CASE WHEN late = 0 THEN '{Came.ON_TIME}' ELSE '{Came.LATE}' END
            WHEN 'declined' THEN '{Came.NOT_APPLICABLE}'
            WHEN 'released' THEN '{Came.NOT_APPLICABLE}'
            WHEN 'overdue' THEN '{Came.NO_SHOW}'
            WHEN 'settled' THEN '{Came.NO_SHOW}'
            ELSE '{Came.PENDING}' END AS came,
        CASE WHEN acted IN ('{Acted.HANDLED}', '{Acted.DECLINE_OVERRULED}') THEN
            -- The case's reworks (rare) are unnested only where there are some.
            COALESCE(own_rework_ids, '{{}}') || CASE WHEN case_reworks IS NULL THEN '{{}}'
                ELSE COALESCE((
                    SELECT array_agg(r %% {_POSITIONS}) FROM unnest(case_reworks) AS r
                    WHERE work_seq IS NOT NULL AND r / {_POSITIONS} > work_seq), '{{}}') END
        ELSE '{{}}' END AS rework_ids,
        NOT excused AND rated_id IS NOT NULL AS by_rating,
        NOT excused AND rated_id IS NULL AND township_rating IS NOT NULL
            AND evaluated_id IS NOT NULL AS by_evaluation,
        NOT excused AND source IN ({_RESIDENT}) AND resident_satisfied IS NOT NULL AS by_resident
    FROM d
), g AS (
    SELECT f.*, CASE WHEN by_rating THEN (
        SELECT r.data FROM {_table(Event)} r WHERE r.id = f.rated_id) END AS rated_data
    FROM f
)
INSERT INTO whistle_derived ({", ".join(DERIVED_COLUMNS)})
SELECT g.id, g.case_id, g.district_id, g.township_id, g.department_id, g.month, g.scheme_id,
    g.settled, {_moment("COALESCE(g.terminal_us, g.handling_overdue_us)")}, g.came,
    CASE WHEN g.came = '{Came.LATE}' THEN g.late END,
    g.acted, cardinality(g.rework_ids),
    CASE WHEN by_rating THEN (rated_data ->> 'rating')::int
        WHEN by_evaluation THEN township_rating END,
    CASE WHEN by_rating THEN COALESCE(rated_data ->> 'comment', '') ELSE '' END,
    CASE WHEN by_resident THEN g.resident_satisfied END,
    g.excused,
    -- scoring.provisional: counted from the handling-overdue event, unfinished, not acted.
    g.settled AND NOT g.finished AND g.acted = '{Acted.ABANDONED}',
    false,
    -- The last trail position of the case: one look into the (case, seq) index per summons.
    COALESCE((SELECT max(t.seq) FROM {_table(Event)} t WHERE t.case_id = g.case_id), 0),
    to_jsonb(ARRAY(SELECT DISTINCT x FROM unnest(
        ARRAY[COALESCE(terminal_id, handling_overdue_id),
            CASE came_by WHEN 'arrival' THEN arrival_id WHEN 'declined' THEN declined_id
                WHEN 'released' THEN released_id WHEN 'overdue' THEN overdue_id END,
            CASE WHEN came_by = 'declined' OR upheld THEN ruling_id END,
            CASE WHEN ruling_id IS NOT NULL AND NOT upheld THEN ruling_id END,
            CASE WHEN ruling_id IS NOT NULL AND NOT upheld THEN after_id END,
            CASE WHEN ruling_id IS NULL THEN
                CASE WHEN work_id IS NOT NULL THEN work_id ELSE released_id END END,
            CASE WHEN by_rating THEN rated_id END,
            CASE WHEN by_evaluation THEN evaluated_id END,
            CASE WHEN by_resident THEN callback_id END
        ] || rework_ids) AS x WHERE x IS NOT NULL ORDER BY x))
FROM g
"""


def _in_force_rows(by_district: dict[int, list[Any]]) -> list[tuple[Any, ...]]:
    """Each scheme with the months it is in force: from its start to the next scheme's of
    its district, in the book's order (`SchemeBook.in_force` takes the last that started)."""
    rows = []
    for district_id, schemes in by_district.items():
        for position, scheme in enumerate(schemes):
            following = schemes[position + 1] if position + 1 < len(schemes) else None
            until = following.valid_from if following is not None else None
            rows.append((district_id, scheme.valid_from, until, scheme.pk))
    return rows


def _frozen_rows() -> list[tuple[int, date]]:
    districts = ClosedPeriod.objects.values_list("district_id", flat=True).distinct()
    return [
        (district_id, month)
        for district_id in sorted(set(districts))
        for month in sorted(ClosedPeriod.frozen_months(district_id))
    ]


_TEMPORARY = (
    "whistle_odd, whistle_in_force, whistle_frozen, whistle_skip_cells, whistle_kept, "
    "whistle_scored, whistle_derived, whistle_cells"
)

# Dropped first: a recompute inside a longer transaction, or a pooled connection, finds the
# last one's tables. `{on_commit}`: DROP in the recompute's own transaction; PRESERVE ROWS on a
# parallel worker's connection, whose tables outlive each range's transaction.
_SETUP = f"""
DROP TABLE IF EXISTS {_TEMPORARY};
CREATE TEMPORARY TABLE whistle_odd (case_id bigint PRIMARY KEY) ON COMMIT {{on_commit}};
CREATE TEMPORARY TABLE whistle_in_force (
    district_id bigint, valid_from date, valid_until date, scheme_id bigint
) ON COMMIT {{on_commit}};
CREATE TEMPORARY TABLE whistle_frozen (
    district_id bigint, month date, PRIMARY KEY (district_id, month)) ON COMMIT {{on_commit}};
CREATE TEMPORARY TABLE whistle_skip_cells (summons_id bigint PRIMARY KEY) ON COMMIT {{on_commit}};
CREATE TEMPORARY TABLE whistle_kept (summons_id bigint PRIMARY KEY) ON COMMIT {{on_commit}};
CREATE TEMPORARY TABLE whistle_scored (
    scheme_id bigint, came text, late_minutes int, acted text, rework_count int,
    rating int, resident smallint, excused boolean, came_score numeric, acted_score numeric,
    quality_score numeric, total numeric,
    PRIMARY KEY (scheme_id, came, late_minutes, acted, rework_count, rating, resident, excused)
) ON COMMIT {{on_commit}};
CREATE TEMPORARY TABLE whistle_derived (
    summons_id bigint PRIMARY KEY, case_id bigint, district_id bigint, township_id bigint,
    department_id bigint, month date, scheme_id bigint, settled boolean,
    settled_at timestamptz, came text, late_minutes int, acted text, rework_count int,
    rating int, rating_comment text, resident_satisfied boolean, excused boolean,
    provisional boolean, corrected boolean, trail_seq int, event_ids jsonb
) ON COMMIT {{on_commit}};
CREATE TEMPORARY TABLE whistle_cells (
    district_id bigint, department_id bigint, township_id bigint, month date, records bigint,
    total_sum numeric, came_sum numeric, came_count bigint, acted_sum numeric,
    acted_count bigint, quality_sum numeric, quality_count bigint, rating_sum numeric,
    rating_count bigint, on_time_count bigint, late_count bigint, no_show_count bigint,
    rework_sum bigint
) ON COMMIT {{on_commit}};
"""

# For the transaction (the recompute's own, or a worker's range): PostgreSQL's JIT compiled the
# derivation for seconds a statement, its cost estimates being far off on temporary tables.
_LOCAL_SETTINGS = "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'"
# For the derivation statement alone, then back. Its summonses meet their case's events in a
# merge join of two range scans (a nested loop, which the planner's low estimate for the
# summonses picks, looks the events up per summons and costs more), and the aggregate per
# summons is hashed in memory: with many aggregates PostgreSQL reckons several kilobytes a
# group and spilled a range's 20,000 groups to disk at 64 MB, using a third of that.
_DERIVE_SETTINGS = "SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '256MB'"
_AFTER_DERIVE = "SET LOCAL enable_nestloop = on; SET LOCAL work_mem = '64MB'"

_RECORD_TABLE = _table(SummonsAssessment)
_FROZEN_HERE = (
    "EXISTS (SELECT 1 FROM whistle_frozen z WHERE z.district_id = {t}.district_id "
    "AND z.month = {t}.month)"
)


class Derivation:
    """One connection's temporary tables and the statements that fill them. The recompute's
    own runs inside the caller's transaction (which holds the scoring lock); each parallel
    worker has its own (`derive_all`)."""

    def __init__(
        self,
        book: Any,
        now: datetime,
        *,
        frozen: list[tuple[int, date]] | None = None,
    ) -> None:
        self.book = book
        self.now = now
        self.schemes = {s.pk: s for schemes in book.by_district().values() for s in schemes}
        self.scored: set[tuple[Any, ...]] = set()
        self.odd_cases = 0
        self.frozen = _frozen_rows() if frozen is None else frozen
        self.any_frozen = bool(self.frozen)
        self.settings_per_range = False

    def for_worker(self) -> Derivation:
        """A derivation like this one for another connection (the same book, clock and
        closed months)."""
        return Derivation(self.book, self.now, frozen=self.frozen)

    def create_tables(self, *, on_commit: str = "DROP") -> None:
        if on_commit not in ("DROP", "PRESERVE ROWS"):
            raise ValueError(on_commit)
        self.scored.clear()
        # A worker's tables outlive the transaction, its settings do not: each range sets them.
        self.settings_per_range = on_commit != "DROP"
        with connection.cursor() as cursor:
            if not self.settings_per_range:
                cursor.execute(_LOCAL_SETTINGS)
            cursor.execute(_SETUP.format(on_commit=on_commit))
            cursor.executemany(
                "INSERT INTO whistle_in_force VALUES (%s, %s, %s, %s)",
                _in_force_rows(self.book.by_district()),
            )
            if self.frozen:
                cursor.executemany("INSERT INTO whistle_frozen VALUES (%s, %s)", self.frozen)

    def drop_tables(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_TEMPORARY}")

    def case_ranges(self, *, shares: int = 1) -> Iterable[tuple[int, int]]:
        """Ranges of case ids of at most `CASE_RANGE`; for `shares` workers, at least four
        ranges each where there are enough cases (`MIN_SHARED_RANGE`), so that one left
        with the last, slow range does not keep the others waiting long."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min(case_id), max(case_id) FROM {_table(Summons)}")
            low, high = cursor.fetchone()
        if low is None:
            return
        size = CASE_RANGE
        if shares > 1:
            size = min(size, max(MIN_SHARED_RANGE, (high - low) // (4 * shares) + 1))
        for start in range(low, high + 1, size):
            yield start, min(start + size - 1, high)

    def derive(self, lo: int, hi: int, compute_records: Any) -> int:
        """Write the records of the cases with ids from `lo` to `hi` that changed; returns
        how many were written. `compute_records` derives the odd cases' in Python."""
        params = {"lo": lo, "hi": hi}
        with connection.cursor() as cursor:
            if self.settings_per_range:
                cursor.execute(_LOCAL_SETTINGS)
            cursor.execute("TRUNCATE whistle_odd, whistle_derived")
            cursor.execute(_DERIVE_SETTINGS)
            cursor.execute(DERIVE, params)
            cursor.execute(_AFTER_DERIVE)
            cursor.execute("SELECT case_id FROM whistle_odd")
            odd = [row[0] for row in cursor.fetchall()]
            if odd:
                self.odd_cases += len(odd)
                self._add_derived(cursor, compute_records(odd, self.book).items())
            self._score(cursor)
            return self._write(cursor, params)

    def skipped_cells(self) -> list[int]:
        """The summonses this connection found whose records are left out of the cells."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT summons_id FROM whistle_skip_cells")
            return [row[0] for row in cursor.fetchall()]

    def add_skipped_cells(self, summons_ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO whistle_skip_cells VALUES (%s) ON CONFLICT DO NOTHING",
                [(summons_id,) for summons_id in summons_ids],
            )

    def _add_derived(self, cursor: Any, records: Iterable[tuple[int, dict[str, Any]]]) -> None:
        rows = []
        for summons_id, values in records:
            row = {**values, "summons_id": summons_id}
            rows.append(
                tuple(
                    _json_list(row[name]) if name == "event_ids" else row[name]
                    for name in DERIVED_COLUMNS
                )
            )
        marks = ", ".join(["%s"] * len(DERIVED_COLUMNS))
        cursor.executemany(
            f"INSERT INTO whistle_derived ({', '.join(DERIVED_COLUMNS)}) VALUES ({marks})", rows
        )

    def _score(self, cursor: Any) -> None:
        """Score, with `scoring.score`, every combination of facts not scored yet (the facts
        it reads: `scoring.score_inputs`)."""
        cursor.execute(
            "SELECT DISTINCT scheme_id, came, late_minutes, acted, rework_count, rating, "
            "resident_satisfied, excused FROM whistle_derived"
        )
        new = []
        for key in cursor.fetchall():
            if key in self.scored:
                continue
            self.scored.add(key)
            scheme_id, came, late, acted, reworks, rating, resident, excused = key
            facts = Facts(
                came=came,
                late_minutes=late,
                acted=acted,
                rework_count=reworks,
                rating=rating,
                resident_satisfied=resident,
                excused=excused,
            )
            scores: Scores = self.book.score(facts, self.schemes[scheme_id])
            new.append(
                (
                    scheme_id,
                    came,
                    -1 if late is None else late,
                    acted,
                    reworks,
                    -1 if rating is None else rating,
                    -1 if resident is None else int(resident),
                    excused,
                    scores.came,
                    scores.acted,
                    scores.quality,
                    scores.total,
                )
            )
        if new:
            cursor.executemany(
                "INSERT INTO whistle_scored VALUES (" + ", ".join(["%s"] * 12) + ")", new
            )

    def _write(self, cursor: Any, params: dict[str, Any]) -> int:
        fields = [name for name in DERIVED_COLUMNS if name != "summons_id"]
        columns = ["summons_id", "computed_at", *fields, *SCORE_COLUMNS]
        join = (
            "s.scheme_id = d.scheme_id AND s.came = d.came"
            " AND s.late_minutes = COALESCE(d.late_minutes, -1) AND s.acted = d.acted"
            " AND s.rework_count = d.rework_count AND s.rating = COALESCE(d.rating, -1)"
            " AND s.resident = CASE WHEN d.resident_satisfied THEN 1"
            " WHEN NOT d.resident_satisfied THEN 0 ELSE -1 END AND s.excused = d.excused"
        )
        compared = [name for name in columns if name not in ("summons_id", "computed_at")]
        frozen_record = _FROZEN_HERE.format(t="r")
        # Without a closed month anywhere there is nothing to leave alone.
        left_alone = "true"
        if self.any_frozen:
            # The chunk's stored records of closed months, read once: they keep what they
            # were. A fresh record of a closed month is not written, and its stored one (of
            # an open month) does not count in the cells either (as the Python path does).
            cursor.execute("TRUNCATE whistle_kept")
            cursor.execute(
                f"""INSERT INTO whistle_kept SELECT r.summons_id FROM {_RECORD_TABLE} r
                WHERE r.case_id BETWEEN %(lo)s AND %(hi)s AND {frozen_record}""",
                params,
            )
            cursor.execute(
                f"""INSERT INTO whistle_skip_cells
                SELECT d.summons_id FROM whistle_derived d JOIN {_RECORD_TABLE} r
                    ON r.summons_id = d.summons_id
                WHERE r.case_id BETWEEN %(lo)s AND %(hi)s
                    AND {_FROZEN_HERE.format(t="d")} AND NOT {frozen_record}
                ON CONFLICT DO NOTHING""",
                params,
            )
            left_alone = (
                f"NOT {_FROZEN_HERE.format(t='d')} AND NOT EXISTS "
                "(SELECT 1 FROM whistle_kept k WHERE k.summons_id = d.summons_id)"
            )
        cursor.execute(
            f"""DELETE FROM {_RECORD_TABLE} r
            WHERE r.case_id BETWEEN %(lo)s AND %(hi)s AND NOT {frozen_record}
                AND NOT EXISTS (
                    SELECT 1 FROM whistle_derived d WHERE d.summons_id = r.summons_id)""",
            params,
        )
        fresh = f"whistle_derived d JOIN whistle_scored s ON {join}"
        values = [*(f"d.{n}" for n in fields), *(f"s.{n}" for n in SCORE_COLUMNS)]
        source = ", ".join(
            ["d.summons_id", *(f"{v} AS {n}" for v, n in zip(values, compared, strict=True))]
        )
        new = ", ".join(f"n.{name}" for name in compared)
        # One pass over the range's fresh records and its stored ones: a stored record whose
        # values changed is updated, one whose values are the same only compared (never
        # locked or written again), a missing one inserted. The stored records are those of
        # the range's cases (a record's case is its summons'), so the pass reads no other
        # range's, whatever the plan. (It replaced an `UPDATE … FROM` and an `INSERT … ON
        # CONFLICT DO NOTHING`, which joined the fresh records twice and, for every stored
        # record, took an id and probed the unique index; a look-up of each summons in that
        # index before a plain insert, tried before, took 6 s instead of 1 s for 52,182
        # records in two runs of the benchmark.)
        cursor.execute(
            f"""MERGE INTO {_RECORD_TABLE} t
            USING (SELECT {source} FROM {fresh} WHERE {left_alone}) n
            ON t.summons_id = n.summons_id AND t.case_id BETWEEN %(lo)s AND %(hi)s
            WHEN MATCHED AND ({", ".join(f"t.{name}" for name in compared)})
                IS DISTINCT FROM ({new}) THEN
                UPDATE SET ({", ".join([*compared, "computed_at"])}) = ({new}, %(now)s)
            WHEN NOT MATCHED THEN
                INSERT ({", ".join(columns)}) VALUES (n.summons_id, %(now)s, {new})""",
            {**params, "now": self.now},
        )
        return int(cursor.rowcount)

    def rewrite_cells(self) -> None:
        """Every cell of an open month again, summed from the records (frozen ones kept). The
        sums go to a temporary table first; only the cells whose sums differ, or that are no
        longer summed, are deleted, and only the new or different ones inserted: a recompute
        that changes nothing writes no cell."""
        sums = {
            "records": "count(*)",
            "total_sum": "sum(total)",
            "came_sum": "COALESCE(sum(came_score), 0)",
            "came_count": "count(came_score)",
            "acted_sum": "COALESCE(sum(acted_score), 0)",
            "acted_count": "count(acted_score)",
            "quality_sum": "COALESCE(sum(quality_score), 0)",
            "quality_count": "count(quality_score)",
            "rating_sum": "COALESCE(sum(rating), 0)",
            "rating_count": "count(rating)",
            "on_time_count": f"count(*) FILTER (WHERE came = '{Came.ON_TIME}')",
            "late_count": f"count(*) FILTER (WHERE came = '{Came.LATE}')",
            "no_show_count": f"count(*) FILTER (WHERE came = '{Came.NO_SHOW}')",
            "rework_sum": "sum(rework_count)",
        }
        cells = _table(ScoreCell)
        keys = ("district_id", "department_id", "township_id", "month")
        columns = ", ".join([*keys, *sums])
        same_key = " AND ".join(f"f.{key} = c.{key}" for key in keys)
        same_sums = (
            f"({', '.join(f'f.{name}' for name in sums)}) IS NOT DISTINCT FROM "
            f"({', '.join(f'c.{name}' for name in sums)})"
        )
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE whistle_cells")
            cursor.execute(
                f"""INSERT INTO whistle_cells ({columns})
                SELECT {", ".join(keys)}, {", ".join(sums.values())}
                FROM {_RECORD_TABLE} r
                WHERE settled AND total IS NOT NULL AND NOT {_FROZEN_HERE.format(t="r")}
                    AND NOT EXISTS (
                        SELECT 1 FROM whistle_skip_cells k WHERE k.summons_id = r.summons_id)
                GROUP BY {", ".join(keys)}"""
            )
            cursor.execute(
                f"""DELETE FROM {cells} c WHERE NOT {_FROZEN_HERE.format(t="c")}
                AND NOT EXISTS (
                    SELECT 1 FROM whistle_cells f WHERE {same_key} AND {same_sums})"""
            )
            cursor.execute(
                f"""INSERT INTO {cells} ({columns})
                SELECT {columns} FROM whistle_cells f
                WHERE NOT EXISTS (SELECT 1 FROM {cells} c WHERE {same_key})"""
            )


def derive_all(book: Any, now: datetime, compute_records: Any, *, workers: int = 1) -> int:
    """Write every record that changed and every cell of an open month again, inside the
    caller's transaction (which holds the scoring lock); returns how many records were
    written.

    With `workers` above one, the ranges of case ids are shared out among that many threads,
    each on its own connection, each range in its own transaction: the work is in the
    server, so the threads wait on it side by side. A worker's records are committed when
    its range is, before the caller's transaction ends; the scoring lock that the caller
    holds keeps every other writer of records waiting until then, and the cells are summed
    afterwards, on the caller's connection, from the committed records. Other connections
    do not see what the caller's transaction wrote, so the caller runs them only from a
    transaction of its own that has written nothing they read."""
    derivation = Derivation(book, now)
    derivation.create_tables()
    ranges = list(derivation.case_ranges(shares=workers))
    if workers <= 1 or len(ranges) <= 1:
        written = sum(derivation.derive(lo, hi, compute_records) for lo, hi in ranges)
    else:
        written = _derive_in_parallel(derivation, ranges, compute_records, workers)
    derivation.rewrite_cells()
    return written


def _derive_in_parallel(
    derivation: Derivation, ranges: list[tuple[int, int]], compute_records: Any, workers: int
) -> int:
    pending: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
    for case_range in ranges:
        pending.put(case_range)
    written: list[int] = []
    skipped: list[int] = []
    odd: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        own = derivation.for_worker()
        try:
            with transaction.atomic():
                own.create_tables(on_commit="PRESERVE ROWS")
            while not stop.is_set():
                try:
                    lo, hi = pending.get_nowait()
                except queue.Empty:
                    break
                with transaction.atomic():
                    count = own.derive(lo, hi, compute_records)
                written.append(count)
            skipped.extend(own.skipped_cells())
            odd.append(own.odd_cases)
            own.drop_tables()
        except BaseException as failure:  # handed to the caller's thread, which raises it
            failures.append(failure)
            stop.set()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, name=f"derive-{n}") for n in range(min(workers, len(ranges)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    derivation.odd_cases = sum(odd)
    derivation.add_skipped_cells(skipped)
    return sum(written)


def _json_list(ids: list[int]) -> str:
    return "[" + ", ".join(str(int(i)) for i in ids) + "]"
