"""The demo city comes with scores, so a newcomer sees rankings on first start."""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from whistle.assessment.models import DepartmentResult, Scheme, SummonsAssessment
from whistle.demo.city import build_demo_city
from whistle.demo.scores import build


@pytest.mark.slow
def test_seed_demo_leaves_ranked_departments_and_stays_idempotent(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        call_command("seed_demo", stdout=io.StringIO())
    scheme = Scheme.objects.get()
    assert scheme.township_share == "1/3"
    # Named in Chinese, with the English names the English pages show.
    assert (scheme.name, scheme.name_en) == (
        "年度考核（街乡评价占三分之一）",
        "Annual assessment (township evaluation one third)",
    )
    assert [(c.name, c.name_en) for c in scheme.components.all()] == [
        ("区级检查", "District inspection")
    ]
    assert SummonsAssessment.objects.filter(rating__isnull=False).exists()
    ranked = DepartmentResult.objects.filter(rank__isnull=False)
    assert ranked.filter(period__regex=r"^\d{4}-\d{2}$").count() >= 2
    assert ranked.filter(rank=1).exists()
    results = DepartmentResult.objects.count()
    with translation.override("en"):
        again = build(build_demo_city(2018))
    assert again == "Assessment: a scheme is there already, left as it is."
    assert Scheme.objects.count() == 1
    assert DepartmentResult.objects.count() == results
