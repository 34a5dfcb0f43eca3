"""The demo's township powers: two major matters of the district asking the demo township
(and its neighbours) for their opinion, one answered both ways and one whose deadlines have
passed, and a recommendation of the demo township on the leader of its police station,
awaiting the district chief's decision, so that every page of the powers shows something
on first start.

Runs after the scores (whistle.demo.builders.BUILDERS), so that the recommendation can
attach the township's assessment records. Everything goes through the township actions, as
the demo logins, each at its moment of the past weeks with the clock there too, so that its
messages are dated as it is; running it again changes nothing (nothing is added once a
matter exists).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.assessment.models import SummonsAssessment
from whistle.demo.data import places
from whistle.demo.history import done_at
from whistle.demo.logins import DEMO_SLUG
from whistle.organisation.models import Jurisdiction
from whistle.township import actions
from whistle.township.models import MajorMatter, PersonnelRecommendation


def build(city: Any) -> str:
    district = city.district
    if MajorMatter.objects.filter(district=district).exists():
        return _("Township powers: already present.")
    township = city.demo_township
    logins = city.logins
    office, district_chief, chief = (
        logins["chiefs-office"],
        logins["district-chief"],
        logins["township-chief"],
    )
    # Whole minutes, so that the pages show the deadlines as they were set.
    now = timezone.now().replace(second=0, microsecond=0)
    neighbours = list(
        Jurisdiction.objects.filter(parent=district, level=Jurisdiction.Level.TOWNSHIP)
        .exclude(pk=township.pk)
        .order_by("code")[:2]
    )
    answered = done_at(
        now - timedelta(days=20),
        actions.register_matter,
        office,
        district,
        kind="plan",
        title="光明楼农贸市场搬迁规划",
        description="区商务局拟将光明楼农贸市场迁至左安门内大街以东地块，征求沿线街道意见。",
        townships=[township, *neighbours],
        opinions_due_at=now - timedelta(days=6),
        responses_due_at=now + timedelta(days=4),
    )
    opinion = answered.opinions.get(township=township)
    done_at(
        now - timedelta(days=9),
        actions.file_opinion,
        chief,
        opinion,
        text="同意搬迁。夕照寺西里老年居民多，早市不可中断。",
        proposals="过渡期在夕照寺中街设临时早市摊位；新址增设公交站。",
    )
    done_at(
        now - timedelta(days=3),
        actions.respond_to_opinion,
        office,
        opinion,
        response="采纳。过渡期临时摊位由区城管委会同龙潭街道设置。",
    )
    done_at(
        now - timedelta(days=1),
        actions.register_matter,
        district_chief,
        district,
        kind="policy",
        title="背街小巷停车管理办法（征求意见稿）",
        description="拟在背街小巷推行居住停车证和错时停车，征求各街道意见。",
        townships=[township],
        opinions_due_at=now + timedelta(days=7),
        responses_due_at=now + timedelta(days=21),
    )
    police = city.departments[f"{places.DISTRICT_SLUG}-{DEMO_SLUG}-pcs"]
    records = list(
        SummonsAssessment.objects.filter(township=township, department=police).order_by(
            "came_score", "pk"
        )[:3]
    )
    done_at(
        now - timedelta(days=2),
        actions.file_recommendation,
        chief,
        township,
        department=police,
        leader_name="赵国强",
        leader_post="所长",
        proposal=PersonnelRecommendation.Proposal.REWARD,
        reasons=(
            "哨响后按时到场，协助城管执法队维持现场秩序，事不完人不撤，"
            "附考核记录为证，建议予以表彰。"
        ),
        records=records,
    )
    return _("Township powers: %(matters)s major matters, 1 personnel recommendation.") % {
        "matters": MajorMatter.objects.filter(district=district).count()
    }
