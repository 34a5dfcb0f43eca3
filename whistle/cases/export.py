"""A case's whole history as one signed JSON document, and its verification offline.

The document holds the case, its whistles, summonses, supervision notices, attachments
(their hashes) and every trail event with the fields its hash covers. It is signed with
Ed25519 over its canonical JSON (keys sorted, no spaces, UTF-8) without the `signature`
member; the signature embeds the public key and its fingerprint. Verifying needs only the
document and the fingerprints the verifier trusts: no database, no network. The embedded key
only checks the signature; who signed is trusted by its fingerprint being on the verifier's
list, never by the document's say-so.

When a trail checkpoint holds the case, the document carries the case's inclusion proof
(`checkpoint`), so a department can check the case against a checkpoint it keeps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.cases.callers import shown_actor, shown_resident
from whistle.cases.checkpoints import CheckpointFacts, check_inclusion, inclusion_proof
from whistle.cases.models import Case, Event
from whistle.cases.signing import check_signature, sign
from whistle.cases.verify import EventRow, Problem, Report, check_chain

FORMAT = "whistle.case-export"
VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _place(jurisdiction: Any) -> dict[str, str] | None:
    return None if jurisdiction is None else {"code": jurisdiction.code, "name": jurisdiction.name}


def _person(person: Any) -> str | None:
    return None if person is None else person.display_name


def _resident(case: Case, name: str) -> str | None:
    # The document leaves the product: a resident or caller is masked as for a department,
    # and named no more once the case's personal data was erased.
    return shown_resident(None, case, name) or None


def _reporter(case: Case) -> str | None:
    if case.source == Case.Source.RESIDENT or case.reporter is None:
        return _resident(case, case.reporter_name or (_person(case.reporter) or ""))
    return _person(case.reporter)


def _actor(case: Case, event: Event) -> str | None:
    return shown_actor(None, case, event.actor, event.actor_role) or None


def case_document(case: Case, *, now: datetime | None = None) -> dict[str, Any]:
    """The unsigned document. The reporter's phone number is left out, a resident's or
    caller's name masked."""
    case = Case.objects.select_related(
        "category__major", "district", "township", "community", "lane", "grid_cell", "reporter"
    ).get(pk=case.pk)
    whistles = list(case.whistles.order_by("blown_at", "pk").select_related("blown_by"))
    whistle_numbers = {w.pk: n for n, w in enumerate(whistles, start=1)}
    summonses = case.summonses.order_by("summoned_at", "pk").select_related(
        "department", "acknowledged_by", "named_department"
    )
    events = case.events.order_by("seq").select_related("actor", "summons")
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _iso(now or timezone.now()),
        "case": {
            "reference": case.reference,
            "uuid": str(case.uuid),
            "source": case.source,
            "status": case.status,
            "category": (
                {"code": case.category.full_code, "name": case.category.name}
                if case.category
                else None
            ),
            "description": case.description,
            "lon": case.lon,
            "lat": case.lat,
            "accuracy_m": case.accuracy_m,
            "address": case.address,
            "district": _place(case.district),
            "township": _place(case.township),
            "community": _place(case.community),
            "lane": case.lane.name if case.lane else None,
            "grid_cell": case.grid_cell.code if case.grid_cell else None,
            "reporter": _reporter(case),
            "external_id": case.external_id,
            "merged_into": case.merged_into.reference if case.merged_into else None,
            "rejection_reason": case.rejection_reason,
            "backlog_reason": case.backlog_reason,
            "backlog_review_on": (
                case.backlog_review_on.isoformat() if case.backlog_review_on else None
            ),
            "rework_count": case.rework_count,
            "escalation": case.escalation,
            "reported_at": _iso(case.reported_at),
            "filed_at": _iso(case.filed_at),
            "resolve_due_at": _iso(case.resolve_due_at),
            "handled_at": _iso(case.handled_at),
            "checked_at": _iso(case.checked_at),
            "closed_at": _iso(case.closed_at),
            "evaluated_at": _iso(case.evaluated_at),
            "township_rating": case.township_rating,
            "resident_satisfied": case.resident_satisfied,
            "resident_called_back_at": _iso(case.resident_called_back_at),
            "resident_rating": case.resident_rating,
            "resident_comment": case.resident_comment,
            "resident_rated_at": _iso(case.resident_rated_at),
        },
        "whistles": [
            {
                "number": whistle_numbers[w.pk],
                "kind": w.kind,
                "blown_by": _person(w.blown_by),
                "blown_at": _iso(w.blown_at),
                "meeting_point": w.meeting_point,
                "meeting_lon": w.meeting_lon,
                "meeting_lat": w.meeting_lat,
                "note": w.note,
                "closed_at": _iso(w.closed_at),
            }
            for w in whistles
        ],
        "summonses": [
            {
                "uuid": str(s.uuid),
                "department": {"code": s.department.code, "name": s.department.name},
                "whistle": whistle_numbers.get(s.whistle_id) if s.whistle_id else None,
                "status": s.status,
                "summoned_at": _iso(s.summoned_at),
                "acknowledge_due_at": _iso(s.acknowledge_due_at),
                "arrive_due_at": _iso(s.arrive_due_at),
                "resolve_due_at": _iso(s.resolve_due_at),
                "acknowledged_at": _iso(s.acknowledged_at),
                "acknowledged_by": _person(s.acknowledged_by),
                "arrived_at": _iso(s.arrived_at),
                "arrived_lon": s.arrived_lon,
                "arrived_lat": s.arrived_lat,
                "arrived_accuracy_m": s.arrived_accuracy_m,
                "arrived_distance_m": s.arrived_distance_m,
                "done_at": _iso(s.done_at),
                "result": s.result,
                "decline_reason": s.decline_reason,
                "named_department": s.named_department.code if s.named_department else None,
                "ruling": s.ruling,
                "released_at": _iso(s.released_at),
                "left_at": _iso(s.left_at),
                "acknowledge_overdue_at": _iso(s.acknowledge_overdue_at),
                "arrive_overdue_at": _iso(s.arrive_overdue_at),
                "resolve_overdue_at": _iso(s.resolve_overdue_at),
            }
            for s in summonses
        ],
        "supervision_notices": [
            {
                "id": n.pk,
                "department": {"code": n.department.code, "name": n.department.name},
                "summons": str(n.summons.uuid) if n.summons else None,
                "issued_by": _person(n.issued_by),
                "issued_at": _iso(n.issued_at),
                "text": n.text,
                "due_at": _iso(n.due_at),
                "answered_at": _iso(n.answered_at),
                "answer": n.answer,
                "overdue_at": _iso(n.overdue_at),
            }
            for n in case.supervision_notices.order_by("issued_at", "pk").select_related(
                "department", "summons", "issued_by"
            )
        ],
        "attachments": [
            {
                "purpose": a.purpose,
                "summons": str(a.summons.uuid) if a.summons else None,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "uploaded_at": _iso(a.uploaded_at),
                "file": a.file.name,
            }
            for a in case.attachments.order_by("uploaded_at", "pk").select_related("summons")
        ],
        "events": [_event(case, e) for e in events],
        "trail": {"length": case.trail_length, "head": case.trail_head},
        "checkpoint": inclusion_proof(case),
    }


def _event(case: Case, event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(timespec="microseconds"),
        "kind": event.kind,
        "actor": event.actor_id,
        "actor_name": _actor(case, event),
        "role": event.actor_role,
        "summons": str(event.summons.uuid) if event.summons else None,
        "data": event.data,
        "lon": event.lon,
        "lat": event.lat,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def export_case(case: Case, *, now: datetime | None = None) -> dict[str, Any]:
    """The signed history of a case."""
    return sign(case_document(case, now=now))


def _document_problem(reference: str, code: str, message: Any, **params: Any) -> Problem:
    return Problem(reference, None, "", code, message, params)


def _rows(events: list[Any]) -> list[EventRow]:
    rows = []
    for item in events:
        rows.append(
            EventRow(
                seq=int(item["seq"]),
                at=datetime.fromisoformat(item["at"]),
                kind=str(item["kind"]),
                actor=item["actor"],
                role=str(item["role"]),
                summons=item["summons"],
                data=item["data"],
                lon=item["lon"],
                lat=item["lat"],
                prev_hash=str(item["prev_hash"]),
                hash=str(item["hash"]),
            )
        )
    return rows


def verify_document(
    document: Any,
    *,
    expected_fingerprint: str | None = None,
    trusted: set[str] | None = None,
    checkpoint: CheckpointFacts | None = None,
) -> tuple[Report, str | None]:
    """Check an exported document's signature, its trail and its checkpoint proof, offline.

    `trusted` (or one `expected_fingerprint`) are the fingerprints whose signatures count;
    with `checkpoint`, the proof must lead to that checkpoint's root. Returns the report and
    the fingerprint of the key that signed it (None when the signature block is unreadable).
    """
    report = Report(cases=1)
    try:
        reference = str(document["case"]["reference"])
        case_uuid = str(document["case"]["uuid"])
        if document.get("format") != FORMAT or document.get("version") != VERSION:
            raise ValueError("format")
        rows = _rows(document["events"])
        trail = document["trail"]
        document["signature"]
    except (KeyError, TypeError, ValueError, AttributeError):
        report.problems.append(
            _document_problem(
                "?", "malformed", _("the file is not a case history exported by Whistle")
            )
        )
        return report, None
    report.events = len(rows)
    if expected_fingerprint:
        trusted = {expected_fingerprint}
    problems, signer = check_signature(document, reference, trusted)
    report.problems.extend(problems)
    report.problems.extend(
        check_chain(
            case_uuid,
            reference,
            rows,
            expected_length=trail.get("length") if isinstance(trail, dict) else None,
            expected_head=trail.get("head") if isinstance(trail, dict) else None,
        )
    )
    proof = document.get("checkpoint")
    if proof is not None:
        hashes = [row.hash for row in rows]
        report.problems.extend(check_inclusion(reference, hashes, proof, checkpoint))
    elif checkpoint is not None:
        report.problems.append(
            _document_problem(
                reference,
                "inclusion",
                _(
                    "the document carries no checkpoint proof: it was exported before any "
                    "checkpoint held the case"
                ),
            )
        )
    return report, signer
