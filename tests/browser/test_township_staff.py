"""The street office after the reform in a real browser: the township chief adds a unit with
its responsibility list and puts a police officer on the roster of stationed staff on a
desktop; the officer signs in at the centre on a phone (360 × 740); the chief sees the
sign-in on the centre's attendance, and the coordination view answers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.browser.conftest import PHONE, WALL, sign_in, submit
from tests.fixtures_stationed import (  # noqa: F401  (fixture)
    Centre,
    centre_fixture,
    fire_in_longtan,
)
from whistle.organisation.units import TownshipUnit
from whistle.township.stationed import StationedAttendance, Stationing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_chief_adds_a_unit_with_its_responsibility_list(new_page, shots, centre: Centre):
    township = centre.city.longtan
    page = new_page(WALL)
    sign_in(page, "li-longtan-chief")
    page.goto(f"/township/offices/new/?township={township.code}")
    page.select_option("#id_kind", "office")
    page.fill("#id_name", "城市管理办公室")
    page.fill("#id_responsibilities", "环境卫生和街巷环境整治\n街巷长制和背街小巷精细化管理")
    shots(page, "unit-form", full_page=True)
    submit(page, "form.form button[type=submit]")
    page.wait_for_selector("text=背街小巷精细化管理")
    unit = TownshipUnit.objects.get(township=township, name="城市管理办公室")
    assert unit.responsibilities == [
        "环境卫生和街巷环境整治",
        "街巷长制和背街小巷精细化管理",
    ]
    shots(page, "unit-page", full_page=True)
    page.goto(f"/township/offices/?township={township.code}")
    assert "城市管理办公室" in page.inner_text("main")
    page.goto(f"/township/coordination/?township={township.code}")
    assert "统筹协调和督办" in page.locator("h1").inner_text()
    shots(page, "coordination", full_page=True)


def test_a_stationed_officer_signs_in_on_the_phone_and_the_chief_sees_it(
    new_page, shots, centre: Centre
):
    township = centre.city.longtan
    chief = new_page(WALL)
    sign_in(chief, "li-longtan-chief")
    chief.goto(f"/township/stationed/?township={township.code}")
    chief.select_option("#id_membership", str(centre.police_in_longtan.pk))
    chief.select_option("#id_person", str(centre.officer_ma.pk))
    chief.fill("#id_post", "社区民警岗")
    chief.fill("#id_started_on", timezone.localdate().isoformat())
    submit(chief, "form.township-form button[type=submit]")
    chief.wait_for_selector("text=已加入名册。")
    assert "社区民警岗" in chief.inner_text("main")
    shots(chief, "roster", full_page=True)
    stationing = Stationing.objects.get(person=centre.officer_ma)
    assert stationing.membership == centre.police_in_longtan

    phone = new_page(PHONE)
    sign_in(phone, "ma-police-officer")
    phone.goto("/stationed/")
    shots(phone, "mine", full_page=True)
    submit(phone, 'button:has-text("中心签到")')
    phone.wait_for_selector("text=已在中心签到。")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(phone, "signed-in", full_page=True)
    assert StationedAttendance.objects.filter(stationing=stationing).count() == 1

    chief.goto(f"/township/stationed/attendance/?township={township.code}")
    assert "ma-police-officer" in chief.inner_text("main")
    shots(chief, "attendance", full_page=True)


def test_choosing_the_department_offers_only_its_people(new_page, shots, centre: Centre):
    township = centre.city.longtan
    fire, firefighter = fire_in_longtan(centre)
    police_people = {str(p.pk) for p in (centre.police_head, centre.officer_ma, centre.officer_niu)}

    def offered(page) -> set[str]:
        return set(
            page.eval_on_selector_all(
                "#id_person option", "options => options.map(o => o.value).filter(Boolean)"
            )
        )

    page = new_page(WALL)
    sign_in(page, "li-longtan-chief")
    page.goto(f"/township/stationed/?township={township.code}")
    assert offered(page) == police_people | {str(firefighter.pk)}
    page.select_option("#id_membership", str(centre.police_in_longtan.pk))
    assert offered(page) == police_people
    assert page.eval_on_selector_all(
        "#id_person optgroup", "groups => groups.map(g => g.label)"
    ) == ["龙潭派出所"]
    page.select_option("#id_person", str(centre.officer_ma.pk))
    # Another department: its people alone, and the police officer is no longer chosen.
    page.select_option("#id_membership", str(fire.pk))
    assert offered(page) == {str(firefighter.pk)}
    assert page.input_value("#id_person") == ""
    page.select_option("#id_person", str(firefighter.pk))
    page.fill("#id_started_on", timezone.localdate().isoformat())
    shots(page, "roster-narrowed", full_page=True)
    submit(page, "form.township-form button[type=submit]")
    page.wait_for_selector("text=已加入名册。")
    assert Stationing.objects.get(person=firefighter).membership == fire

    phone = new_page({"width": 390, "height": 844})
    sign_in(phone, "li-longtan-chief")
    phone.goto(f"/township/stationed/?township={township.code}")
    phone.select_option("#id_membership", str(centre.police_in_longtan.pk))
    assert offered(phone) == police_people
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(phone, "roster-phone", full_page=True)
