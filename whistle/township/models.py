"""The township Party committee's powers over what the district does in it.

- Opinions on major matters (重大事项意见建议权): the district registers a plan, project or
  policy that affects some of its townships, with a deadline for their opinions and one for
  its own responses; each township files its opinion and proposals; the district answers
  each opinion.
- Recommendations on personnel (人事任免建议权): a township recommends appointing, moving,
  rewarding or punishing the leader of a department's dispatched agency that serves it,
  with the assessment records that support it; the district decides. Confidential.

Every change is an action (`whistle.township.actions`) that appends a `TownshipLogEntry`.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from whistle.assessment.models import SummonsAssessment
from whistle.organisation.logs import AppendOnlyLog
from whistle.organisation.models import Department, Jurisdiction

DISTRICTS = {"level": Jurisdiction.Level.DISTRICT}
TOWNSHIPS = {"level": Jurisdiction.Level.TOWNSHIP}


class MajorMatter(models.Model):
    """A matter of the district (or the city) that affects some of its townships."""

    class Kind(models.TextChoices):
        PLAN = "plan", _("plan")
        PROJECT = "project", _("project")
        POLICY = "policy", _("policy")
        DECISION = "decision", _("major decision")

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=DISTRICTS,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("what the matter is"))
    opinions_due_at = models.DateTimeField(_("opinions due"))
    responses_due_at = models.DateTimeField(_("responses due"))
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("major matter")
        verbose_name_plural = _("major matters")
        ordering = ["-registered_at", "-pk"]
        indexes = [models.Index(fields=["district", "opinions_due_at"], name="matter_due")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/district/matters/{self.pk}/"


class OpinionQuerySet(models.QuerySet["MatterOpinion"]):
    def overdue_opinions(self, now: datetime) -> OpinionQuerySet:
        """Townships that have not filed though the deadline has passed."""
        return self.filter(filed_at__isnull=True, matter__opinions_due_at__lt=now)

    def overdue_responses(self, now: datetime) -> OpinionQuerySet:
        """Filed opinions the district has not answered though its deadline has passed."""
        return self.filter(
            filed_at__isnull=False, responded_at__isnull=True, matter__responses_due_at__lt=now
        )


class MatterOpinion(models.Model):
    """One township's opinion on a matter, and the district's response to it."""

    class State(models.TextChoices):
        AWAITED = "awaited", _("opinion awaited")
        OPINION_OVERDUE = "opinion_overdue", _("opinion overdue")
        FILED = "filed", _("awaiting the district's response")
        RESPONSE_OVERDUE = "response_overdue", _("response overdue")
        RESPONDED = "responded", _("responded")

    matter = models.ForeignKey(
        MajorMatter,
        verbose_name=_("major matter"),
        on_delete=models.CASCADE,
        related_name="opinions",
    )
    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=TOWNSHIPS,
    )
    opinion = models.TextField(_("opinion"), blank=True)
    proposals = models.TextField(_("proposals"), blank=True)
    filed_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    response = models.TextField(_("response"), blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = OpinionQuerySet.as_manager()

    class Meta:
        verbose_name = _("township's opinion")
        verbose_name_plural = _("townships' opinions")
        ordering = ["matter", "township__code"]
        constraints = [
            models.UniqueConstraint(fields=["matter", "township"], name="opinion_one_per_township")
        ]

    def __str__(self) -> str:
        return f"{self.matter} · {self.township}"

    def state(self, now: datetime) -> str:
        if self.responded_at is not None:
            return self.State.RESPONDED
        if self.filed_at is not None:
            if now > self.matter.responses_due_at:
                return self.State.RESPONSE_OVERDUE
            return self.State.FILED
        if now > self.matter.opinions_due_at:
            return self.State.OPINION_OVERDUE
        return self.State.AWAITED

    @property
    def filed_late(self) -> bool:
        return self.filed_at is not None and self.filed_at > self.matter.opinions_due_at

    @property
    def responded_late(self) -> bool:
        return self.responded_at is not None and self.responded_at > self.matter.responses_due_at


class PersonnelRecommendation(models.Model):
    """A township's recommendation about the leader of a dispatched agency that serves it."""

    class Proposal(models.TextChoices):
        APPOINT = "appoint", _("appoint")
        MOVE = "move", _("move or remove")
        REWARD = "reward", _("reward")
        PUNISH = "punish", _("punish")

    class Decision(models.TextChoices):
        PENDING = "", _("awaiting the decision")
        ACCEPTED = "accepted", _("accepted")
        PARTLY = "partly", _("accepted in part")
        DECLINED = "declined", _("declined")

    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=TOWNSHIPS,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("dispatched agency"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    leader_name = models.CharField(_("leader's name"), max_length=60)
    leader_post = models.CharField(_("leader's post"), max_length=60)
    proposal = models.CharField(_("recommendation"), max_length=16, choices=Proposal.choices)
    reasons = models.TextField(_("reasons"))
    records = models.ManyToManyField(
        SummonsAssessment,
        verbose_name=_("supporting assessment records"),
        related_name="+",
        blank=True,
    )
    filed_at = models.DateTimeField(_("submitted at"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(
        _("decision"), max_length=16, choices=Decision.choices, blank=True, default=""
    )
    decision_note = models.TextField(_("decision's reasons"), blank=True)
    decided_at = models.DateTimeField(_("decision made at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decision made by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("personnel recommendation")
        verbose_name_plural = _("personnel recommendations")
        ordering = ["-filed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.township} · {self.department} · {self.get_proposal_display()}"


class TownshipLogEntry(AppendOnlyLog):
    """One change of a matter, an opinion or a recommendation, as it was made. Written by
    the actions only, never changed or removed."""

    class Action(models.TextChoices):
        MATTER_REGISTERED = "matter.registered", _("matter registered")
        OPINION_FILED = "opinion.filed", _("opinion filed")
        OPINION_RESPONDED = "opinion.responded", _("response recorded")
        RECOMMENDATION_FILED = "recommendation.filed", _("recommendation filed")
        RECOMMENDATION_DECIDED = "recommendation.decided", _("decision recorded")
        STATIONING_ADDED = "stationing.added", _("person stationed")
        STATIONING_CHANGED = "stationing.changed", _("stationing changed")
        STATIONING_ENDED = "stationing.ended", _("stationing ended")
        ATTENDANCE_RECORDED = "stationing.attendance", _("attendance recorded")
        LEAVE_ASKED = "stationing.leave_asked", _("leave asked")
        LEAVE_DECIDED = "stationing.leave_decided", _("leave decided")
        ASSESSMENT_PUBLISHED = "stationing.assessed", _("monthly assessment published")

    log_name = "the township powers log"

    action = models.CharField(_("what"), max_length=32, choices=Action.choices)
    matter = models.ForeignKey(
        MajorMatter,
        verbose_name=_("major matter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="log",
    )
    opinion = models.ForeignKey(
        MatterOpinion,
        verbose_name=_("township's opinion"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="log",
    )
    recommendation = models.ForeignKey(
        PersonnelRecommendation,
        verbose_name=_("personnel recommendation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="log",
    )
    stationing = models.ForeignKey(
        "township.Stationing",
        verbose_name=_("stationed person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="log",
    )
    data = models.JSONField(_("what was recorded"), default=dict, blank=True)

    class Meta:
        verbose_name = _("township powers log entry")
        verbose_name_plural = _("township powers log")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return str(self.get_action_display())


# The recruitment of alley stewards and the stationed staff keep their models in their own
# modules; importing them here registers them.
from whistle.township.recruitment_models import (  # noqa: E402
    RecruitmentEvent,
    StewardApplication,
    StewardCall,
    StewardTeam,
)
from whistle.township.stationed import (  # noqa: E402
    StationedAssessment,
    StationedAttendance,
    StationedLeave,
    Stationing,
)

__all__ = [
    "MajorMatter",
    "MatterOpinion",
    "PersonnelRecommendation",
    "RecruitmentEvent",
    "StationedAssessment",
    "StationedAttendance",
    "StationedLeave",
    "Stationing",
    "StewardApplication",
    "StewardCall",
    "StewardTeam",
    "TownshipLogEntry",
]
