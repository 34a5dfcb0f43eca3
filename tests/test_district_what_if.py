"""The scheme editor's preview: a past period replayed under the filled-in proposal, side by
side with the scores now, nothing saved.

July 2026 in 东城区 under the one-third scheme, rated, not appealed (tests/fixtures_district.py):
now 派出所 94.90 → 84.97 (1st), 城管 71.06 → 83.69 (2nd), 市场监管 68.50 → 69.50 (3rd).
The proposal: township share 40%, inspection 60%, arrival within 20 minutes.
  派出所: c1 17 min late, 83.80: (83.80 + 100)/2 = 91.90; 0.4 × 91.90 + 48 = 84.76 (1st)
  城管: c7 22 min late, 80.80: (100 + 6 + 91.43 + 80.80)/4 = 69.5575 → 69.56;
        0.4 × 69.56 + 54 = 81.824 → 81.82 (2nd)
"""

from __future__ import annotations

from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    SCHEME,
    july_28_clock_fixture,  # noqa: F401  (fixture, used by every test)
    rated_july_fixture,  # noqa: F401  (fixture)
    scored_july_fixture,  # noqa: F401  (fixture)
)
from tests.test_assessment import snapshot
from tests.test_district_scheme import version_data
from whistle.assessment.models import Scheme


def preview_data(**changes) -> dict:
    data = version_data("2026-08", [("inspection", "区级检查", "60%")], **changes)
    data.update({"op": "preview", "scheme-name": "", "whatif-replay": "2026-07"})
    data["whatif-arrive_within"] = "20"
    return data


def test_the_preview_ranks_july_under_the_proposal_and_saves_nothing(client, rated):
    m = rated
    client.force_login(m.district_assessor)
    before, schemes = snapshot(), Scheme.objects.count()
    response = client.post(SCHEME, preview_data(township_share="40%"))
    assert response.status_code == 200
    html = response.content.decode()
    preview = html[html.index('id="preview"') : html.index('id="new-version"')]
    police = preview[preview.index('id="what-if-dc-longtan-pcs"') :]
    police = police[: police.index("</tr>")]
    assert "84.97 → <strong>84.76</strong>" in police
    assert "94.90 → 91.90" in police
    # The drill-down names the summons that now counts as late, linked to its case.
    reference = m.stories["c1"].case.reference
    assert f'href="/cases/{reference}/"' in police
    assert "迟到 7 分钟 → 迟到 17 分钟" in police
    urban = preview[preview.index('id="what-if-dc-cgw"') :]
    assert "83.69 → <strong>81.82</strong>" in urban[: urban.index("</tr>")]
    assert "1/3 → <strong>40%</strong>" in preview
    assert snapshot() == before
    assert Scheme.objects.count() == schemes


def test_a_proposal_whose_shares_do_not_add_up_is_named_not_previewed(client, rated):
    client.force_login(rated.district_assessor)
    response = client.post(SCHEME, preview_data(township_share="50%"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="preview"' not in html
    assert "110.00%" in html


def test_a_period_without_a_scheme_has_nothing_to_replay(client, rated):
    client.force_login(rated.district_assessor)
    data = preview_data(township_share="40%")
    data["whatif-replay"] = "2025"
    response = client.post(SCHEME, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="preview"' not in html
    assert "没有可重算的内容" in html


def test_only_the_districts_assessors_may_preview(client, rated):
    client.force_login(rated.chiefs_office)
    response = client.post(SCHEME, preview_data(township_share="40%"))
    assert response.status_code == 400
