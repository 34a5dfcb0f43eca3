"""Every change of the township's powers: matters and opinions, recommendations and
decisions.

Each action takes the acting person, checks their role in the district or township
concerned (afresh, not from a page's cache), validates its input, and in one transaction
locks the row, changes it and appends its `TownshipLogEntry`. Messages to the people
concerned go through the outbox in the same transaction. A refusal raises
`TownshipRefused` (or `InvalidTownshipInput`) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.assessment.models import SummonsAssessment
from whistle.notifications import texts
from whistle.notifications.kinds import NotificationKind
from whistle.notifications.outbox import notify_many
from whistle.organisation.models import Department, Jurisdiction, Person
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.models import (
    MajorMatter,
    MatterOpinion,
    PersonnelRecommendation,
    TownshipLogEntry,
)
from whistle.township.permissions import (
    DECIDERS,
    MATTER_KEEPERS,
    OPINION_FILERS,
    RECOMMENDERS,
    people_with,
    role_in,
)

Action = TownshipLogEntry.Action

TITLE_MAX = 120
TEXT_MAX = 4000
NAME_MAX = 60

MATTER_KIND = NotificationKind("township.matter", _("a major matter awaits the opinion"))
OPINION_KIND = NotificationKind("township.opinion", _("a township filed its opinion"))
RESPONSE_KIND = NotificationKind("township.response", _("the district responded"))
RECOMMENDATION_KIND = NotificationKind(
    "township.recommendation", _("a personnel recommendation awaits the decision")
)
DECISION_KIND = NotificationKind("township.decision", _("a personnel recommendation was decided"))
NOTIFICATION_KINDS = (MATTER_KIND, OPINION_KIND, RESPONSE_KIND, RECOMMENDATION_KIND, DECISION_KIND)


def township_matter_link(opinion: MatterOpinion) -> str:
    return f"/township/matters/{opinion.pk}/"


def district_matter_link(matter: MajorMatter) -> str:
    return f"/district/matters/{matter.pk}/"


def township_recommendation_link(recommendation: PersonnelRecommendation) -> str:
    return f"/township/recommendations/{recommendation.pk}/"


def district_recommendation_link(recommendation: PersonnelRecommendation) -> str:
    return f"/district/recommendations/{recommendation.pk}/"


# Shared steps ------------------------------------------------------------------------------


def _acting_role(
    actor: Person,
    roles: tuple[str, ...],
    jurisdiction: Jurisdiction,
    what: str | Promise,
) -> str:
    role = role_in(actor, roles, jurisdiction.pk, fresh=True)
    if role is None:
        raise TownshipRefused(
            _("You may not %(what)s for %(place)s."), what=what, place=texts.Named.of(jurisdiction)
        )
    return role


def _text(field: str, value: Any, *, limit: int = TEXT_MAX, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidTownshipInput(field, _("This field is required."))
    if len(text) > limit:
        raise InvalidTownshipInput(
            field, _("Keep it to %(limit)s characters (it has %(n)s)."), limit=limit, n=len(text)
        )
    return text


def _log(
    action: str,
    *,
    actor: Person,
    role: str,
    at: datetime,
    matter: MajorMatter | None = None,
    opinion: MatterOpinion | None = None,
    recommendation: PersonnelRecommendation | None = None,
    data: dict[str, Any] | None = None,
) -> TownshipLogEntry:
    return TownshipLogEntry.objects.create(
        at=at,
        actor=actor,
        actor_role=role,
        action=action,
        matter=matter,
        opinion=opinion,
        recommendation=recommendation,
        data=data or {},
    )


def _tell(
    people: Iterable[Person | None],
    kind: NotificationKind,
    subject: str | Promise,
    link: str,
    dedupe_key: str,
    **params: Any,
) -> None:
    """A message to each person, in the deployment's language."""
    recipients = [p for p in people if p is not None]
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        values = {k: str(v) for k, v in params.items()}
        notify_many(
            recipients,
            kind=kind.code,
            subject=str(subject) % values,
            body="",
            link=link,
            dedupe_key=dedupe_key,
            payload=texts.payload(subject, params),
        )


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# Opinions on major matters -----------------------------------------------------------------


@transaction.atomic
def register_matter(
    actor: Person,
    district: Jurisdiction,
    *,
    kind: str,
    title: str,
    description: str,
    townships: Sequence[Jurisdiction],
    opinions_due_at: datetime,
    responses_due_at: datetime,
    now: datetime | None = None,
) -> MajorMatter:
    """Register a matter of the district that needs the opinion of some of its townships,
    and tell each of them."""
    role = _acting_role(actor, MATTER_KEEPERS, district, _("register a major matter"))
    now = now or timezone.now()
    if kind not in MajorMatter.Kind.values:
        raise InvalidTownshipInput("kind", _("Choose what kind of matter it is."))
    title = _text("title", title, limit=TITLE_MAX)
    description = _text("description", description)
    chosen = {t.pk: t for t in townships}
    if not chosen:
        raise InvalidTownshipInput("townships", _("Choose the townships whose opinion it needs."))
    own = set(
        Jurisdiction.objects.filter(
            pk__in=sorted(chosen), level=Jurisdiction.Level.TOWNSHIP, parent=district
        ).values_list("pk", flat=True)
    )
    if own != set(chosen):
        raise InvalidTownshipInput(
            "townships",
            _("Only townships of %(district)s can be asked."),
            district=texts.Named.of(district),
        )
    if opinions_due_at <= now:
        raise InvalidTownshipInput("opinions_due_at", _("The opinions' deadline must be ahead."))
    if responses_due_at < opinions_due_at:
        raise InvalidTownshipInput(
            "responses_due_at", _("The responses cannot be due before the opinions.")
        )
    matter = MajorMatter.objects.create(
        district=district,
        kind=kind,
        title=title,
        description=description,
        opinions_due_at=opinions_due_at,
        responses_due_at=responses_due_at,
        registered_at=now,
        registered_by=actor,
    )
    opinions = MatterOpinion.objects.bulk_create(
        [MatterOpinion(matter=matter, township=chosen[pk]) for pk in sorted(chosen)]
    )
    _log(
        Action.MATTER_REGISTERED,
        actor=actor,
        role=role,
        at=now,
        matter=matter,
        data={
            "kind": kind,
            "title": title,
            "townships": [chosen[pk].code for pk in sorted(chosen)],
            "opinions_due_at": opinions_due_at.isoformat(),
            "responses_due_at": responses_due_at.isoformat(),
        },
    )
    for opinion in opinions:
        _tell(
            people_with(OPINION_FILERS, [opinion.township_id]),
            MATTER_KIND,
            _("%(district)s asks the opinion of %(township)s on “%(title)s” by %(due)s"),
            township_matter_link(opinion),
            f"township.matter:{opinion.pk}",
            district=texts.Named.of(district),
            township=texts.Named.of(opinion.township),
            title=title,
            due=_local(opinions_due_at),
        )
    return matter


def _lock_opinion(opinion: MatterOpinion) -> MatterOpinion:
    return (
        MatterOpinion.objects.select_for_update(of=("self",))
        .select_related("matter", "matter__district", "township")
        .get(pk=opinion.pk)
    )


@transaction.atomic
def file_opinion(
    actor: Person,
    opinion: MatterOpinion,
    *,
    text: str,
    proposals: str = "",
    now: datetime | None = None,
) -> MatterOpinion:
    """The township's opinion and proposals on the matter. Filed once; one filed after the
    deadline is kept and shown as late."""
    opinion = _lock_opinion(opinion)
    role = _acting_role(actor, OPINION_FILERS, opinion.township, _("file the opinion"))
    if opinion.filed_at is not None:
        raise TownshipRefused(_("The opinion was already filed."))
    now = now or timezone.now()
    opinion.opinion = _text("text", text)
    opinion.proposals = _text("proposals", proposals, required=False)
    opinion.filed_at = now
    opinion.filed_by = actor
    opinion.save(update_fields=["opinion", "proposals", "filed_at", "filed_by"])
    _log(
        Action.OPINION_FILED,
        actor=actor,
        role=role,
        at=now,
        matter=opinion.matter,
        opinion=opinion,
        data={"township": opinion.township.code, "late": opinion.filed_late},
    )
    _tell(
        people_with(MATTER_KEEPERS, [opinion.matter.district_id]),
        OPINION_KIND,
        _("%(township)s filed its opinion on “%(title)s”"),
        district_matter_link(opinion.matter),
        f"township.opinion:{opinion.pk}",
        township=texts.Named.of(opinion.township),
        title=opinion.matter.title,
    )
    return opinion


@transaction.atomic
def respond_to_opinion(
    actor: Person,
    opinion: MatterOpinion,
    *,
    response: str,
    now: datetime | None = None,
) -> MatterOpinion:
    """The district's response to a township's filed opinion."""
    opinion = _lock_opinion(opinion)
    role = _acting_role(actor, MATTER_KEEPERS, opinion.matter.district, _("respond to the opinion"))
    if opinion.filed_at is None:
        raise TownshipRefused(_("The township has not filed its opinion yet."))
    if opinion.responded_at is not None:
        raise TownshipRefused(_("The opinion was already answered."))
    now = now or timezone.now()
    opinion.response = _text("response", response)
    opinion.responded_at = now
    opinion.responded_by = actor
    opinion.save(update_fields=["response", "responded_at", "responded_by"])
    _log(
        Action.OPINION_RESPONDED,
        actor=actor,
        role=role,
        at=now,
        matter=opinion.matter,
        opinion=opinion,
        data={"township": opinion.township.code, "late": opinion.responded_late},
    )
    _tell(
        people_with(OPINION_FILERS, [opinion.township_id]),
        RESPONSE_KIND,
        _("%(district)s responded to the opinion of %(township)s on “%(title)s”"),
        township_matter_link(opinion),
        f"township.response:{opinion.pk}",
        district=texts.Named.of(opinion.matter.district),
        township=texts.Named.of(opinion.township),
        title=opinion.matter.title,
    )
    return opinion


# Recommendations on personnel --------------------------------------------------------------


def serves(department: Department, township: Jurisdiction) -> bool:
    """A dispatched agency of the township's district that serves it (an agency that names
    no township serves the whole district)."""
    if department.kind != Department.Kind.DISPATCHED or not department.is_active:
        return False
    if department.district_id != township.parent_id:
        return False
    served = set(department.serves.values_list("pk", flat=True))
    return not served or township.pk in served or township.parent_id in served


def supporting_records(
    township: Jurisdiction, department: Department
) -> Any:  # QuerySet[SummonsAssessment]
    """The assessment records the township may attach: its own records of the agency."""
    return SummonsAssessment.objects.filter(township=township, department=department)


@transaction.atomic
def file_recommendation(
    actor: Person,
    township: Jurisdiction,
    *,
    department: Department,
    leader_name: str,
    leader_post: str,
    proposal: str,
    reasons: str,
    records: Sequence[SummonsAssessment] = (),
    now: datetime | None = None,
) -> PersonnelRecommendation:
    """The township's recommendation about the leader of a dispatched agency serving it,
    with its own assessment records of the agency as support."""
    role = _acting_role(actor, RECOMMENDERS, township, _("file a personnel recommendation"))
    if not serves(department, township):
        raise InvalidTownshipInput(
            "department",
            _("%(department)s is not a dispatched agency serving %(township)s."),
            department=texts.Named.of(department),
            township=texts.Named.of(township),
        )
    if proposal not in PersonnelRecommendation.Proposal.values:
        raise InvalidTownshipInput("proposal", _("Choose what the township recommends."))
    leader_name = _text("leader_name", leader_name, limit=NAME_MAX)
    leader_post = _text("leader_post", leader_post, limit=NAME_MAX)
    reasons = _text("reasons", reasons)
    wanted = {r.pk for r in records}
    allowed = set(
        supporting_records(township, department)
        .filter(pk__in=sorted(wanted))
        .values_list("pk", flat=True)
    )
    if allowed != wanted:
        raise InvalidTownshipInput(
            "records", _("Only the township's own records of this agency can be attached.")
        )
    now = now or timezone.now()
    recommendation = PersonnelRecommendation.objects.create(
        township=township,
        department=department,
        leader_name=leader_name,
        leader_post=leader_post,
        proposal=proposal,
        reasons=reasons,
        filed_at=now,
        filed_by=actor,
    )
    recommendation.records.set(sorted(wanted))
    _log(
        Action.RECOMMENDATION_FILED,
        actor=actor,
        role=role,
        at=now,
        recommendation=recommendation,
        data={"proposal": proposal, "department": department.code, "records": sorted(wanted)},
    )
    # The message names nothing confidential: the page behind the link checks the role.
    _tell(
        people_with(DECIDERS, [township.parent_id] if township.parent_id else []),
        RECOMMENDATION_KIND,
        _("%(township)s filed a personnel recommendation that awaits your decision"),
        district_recommendation_link(recommendation),
        f"township.recommendation:{recommendation.pk}",
        township=texts.Named.of(township),
    )
    return recommendation


@transaction.atomic
def decide_recommendation(
    actor: Person,
    recommendation: PersonnelRecommendation,
    *,
    decision: str,
    note: str,
    now: datetime | None = None,
) -> PersonnelRecommendation:
    """The district's decision on a recommendation, with its reasons; decided once."""
    recommendation = (
        PersonnelRecommendation.objects.select_for_update(of=("self",))
        .select_related("township", "township__parent")
        .get(pk=recommendation.pk)
    )
    district = recommendation.township.parent
    if district is None:
        raise TownshipRefused(_("The township belongs to no district."))
    role = _acting_role(actor, DECIDERS, district, _("decide on the recommendation"))
    if recommendation.decided_at is not None:
        raise TownshipRefused(_("The recommendation was already decided."))
    if decision not in PersonnelRecommendation.Decision.values or not decision:
        raise InvalidTownshipInput("decision", _("Choose the decision."))
    now = now or timezone.now()
    recommendation.decision = decision
    recommendation.decision_note = _text("note", note)
    recommendation.decided_at = now
    recommendation.decided_by = actor
    recommendation.save(update_fields=["decision", "decision_note", "decided_at", "decided_by"])
    _log(
        Action.RECOMMENDATION_DECIDED,
        actor=actor,
        role=role,
        at=now,
        recommendation=recommendation,
        data={"decision": decision},
    )
    _tell(
        [recommendation.filed_by],
        DECISION_KIND,
        _("The district decided on the personnel recommendation of %(township)s"),
        township_recommendation_link(recommendation),
        f"township.decision:{recommendation.pk}",
        township=texts.Named.of(recommendation.township),
    )
    return recommendation
