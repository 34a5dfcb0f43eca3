"""The shared form components: the error summary links every error to its field (radio and
check box groups too) with links tall enough to tap, and widgets drawn as a box (radio
buttons, check boxes) are not given the text box's "input" class. The desk uses the same
error summary as every other page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string

from tests.fixtures_cases import whistle_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_desk import case_url, post_op
from whistle.cases import actions
from whistle.web.forms import add_refusal
from whistle.web.templatetags.whistle_ui import field_widget

STATIC = Path(settings.BASE_DIR, "static")


class PlaceForm(forms.Form):
    description = forms.CharField(label="What is the problem?")
    kind = forms.ChoiceField(
        label="Kind", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect
    )
    departments = forms.MultipleChoiceField(
        label="Departments",
        choices=[("1", "One"), ("2", "Two")],
        widget=forms.CheckboxSelectMultiple,
    )
    urgent = forms.BooleanField(label="Urgent", required=True)


def summary_of(form: forms.Form) -> str:
    return render_to_string("web/components/form_errors.html", {"form": form})


def test_every_error_links_to_its_field_including_radio_and_check_box_groups():
    form = PlaceForm(data={})
    assert not form.is_valid()
    html = summary_of(form)
    links = re.findall(r'<a href="([^"]*)">', html)
    assert links == ["#id_description", "#id_kind", "#id_departments", "#id_urgent"]
    # Each target exists in the rendered fields: the groups' wrappers carry the id.
    fields = "".join(
        render_to_string("web/components/field.html", {"field": form[name]})
        for name in ("description", "kind", "departments", "urgent")
    )
    for link in links:
        assert f'id="{link[1:]}"' in fields, link


@pytest.mark.parametrize(
    ("language", "listed"),
    [
        ("zh-hans", '<a href="#id_urgent">Urgent：</a>This field is required.'),
        ("en", '<a href="#id_urgent">Urgent:</a> This field is required.'),
    ],
)
def test_the_colon_after_a_label_is_part_of_its_link_so_a_short_label_keeps_it_close(
    language, listed
):
    from django.utils import translation

    form = PlaceForm(data={"description": "x", "kind": "a", "departments": ["1"]})
    form.fields["urgent"].error_messages["required"] = "This field is required."
    assert not form.is_valid()
    with translation.override(language):
        html = summary_of(form)
    assert listed in html
    # A label asked as a question takes no colon, and the error follows it as before.
    form = PlaceForm(data={"kind": "a", "departments": ["1"], "urgent": "on"})
    form.fields["description"].error_messages["required"] = "Say what it is."
    assert not form.is_valid()
    with translation.override(language):
        html = summary_of(form)
    assert '<a href="#id_description">What is the problem?</a> Say what it is.' in html


def test_an_error_for_the_whole_form_is_listed_without_a_link():
    form = PlaceForm(data={"description": "x", "kind": "a", "departments": ["1"], "urgent": "on"})
    assert form.is_valid()
    form.add_error(None, "The township is closed today.")
    html = summary_of(form)
    assert "<li>The township is closed today.</li>" in html
    assert "<a " not in html


def test_a_refusal_is_shown_as_a_refusal_and_not_as_something_to_correct():
    form = PlaceForm(data={"description": "x", "kind": "a", "departments": ["1"], "urgent": "on"})
    assert form.is_valid()
    add_refusal(form, "You cannot leave yet: the case is not resolved.")
    html = summary_of(form)
    assert 'class="form-refusal"' in html
    assert "<p>You cannot leave yet: the case is not resolved.</p>" in html
    assert "form-errors" not in html and "Please correct" not in html


def test_a_refusal_beside_a_value_to_correct_shows_each_as_what_it_is():
    form = PlaceForm(data={"kind": "a", "departments": ["1"], "urgent": "on"})
    assert not form.is_valid()
    add_refusal(form, "The period is closed.")
    form.add_error(None, "Choose a township.")
    html = summary_of(form)
    refusal = html[html.index('class="form-refusal"') : html.index('class="form-errors"')]
    corrections = html[html.index('class="form-errors"') :]
    assert "The period is closed." in refusal and "Choose a township." not in refusal
    assert "The period is closed." not in corrections
    assert "<li>Choose a township.</li>" in corrections
    assert '<a href="#id_description">' in corrections


def test_a_valid_form_shows_no_summary():
    form = PlaceForm(data={"description": "x", "kind": "a", "departments": ["1"], "urgent": "on"})
    assert form.is_valid()
    assert summary_of(form).strip() == ""


def test_the_links_of_the_summary_are_at_least_44_pixels_tall():
    css = (STATIC / "whistle" / "whistle.css").read_text(encoding="utf-8")
    assert re.search(r"--touch:\s*44px;", css)
    rule = re.search(r"\.form-errors li a\s*\{([^}]*)\}", css)
    assert rule is not None
    assert "min-height: var(--touch)" in rule.group(1)
    assert "inline-flex" in rule.group(1)
    # One rule for every page: the desk and the street pages no longer repeat it.
    assert ".form-errors" not in (STATIC / "desk" / "desk.css").read_text(encoding="utf-8")
    assert ".form-errors" not in (STATIC / "street" / "street.css").read_text(
        encoding="utf-8"
    ).replace("main > .form-errors", "")


def test_radio_buttons_and_check_boxes_get_no_text_box_class():
    form = PlaceForm(data={})
    form.is_valid()
    text = str(field_widget(form["description"]))
    assert 'class="input"' in text and 'aria-invalid="true"' in text
    for name in ("kind", "departments", "urgent"):
        html = str(field_widget(form[name]))
        boxes = re.findall(r"<input[^>]*>", html)
        assert boxes, name
        for box in boxes:
            assert 'class="input"' not in box, box
            assert 'aria-invalid="true"' in box
            assert f'aria-describedby="id_{name}-errors"' in box


def test_the_box_inputs_are_sized_by_the_shared_style_not_by_a_desk_override():
    css = (STATIC / "whistle" / "whistle.css").read_text(encoding="utf-8")
    assert re.search(
        r'\.field input\[type="radio"\], \.field input\[type="checkbox"\] \{[^}]*width: 1\.3rem',
        css,
    )
    desk = (STATIC / "desk" / "desk.css").read_text(encoding="utf-8")
    assert ".input[type=" not in desk


def test_the_desk_has_no_copy_of_the_error_summary():
    with pytest.raises(TemplateDoesNotExist):
        get_template("desk/components/form_errors.html")
    templates = Path(settings.BASE_DIR, "whistle", "desk", "templates")
    includes = {
        path.name
        for path in templates.rglob("*.html")
        if "form_errors.html" in path.read_text(encoding="utf-8")
    }
    # Every form page of the desk that shows errors includes the shared summary.
    assert includes == {
        "base.html",
        "whistle.html",
        "hotline.html",
        "roster.html",
        "rotation.html",
        "matter.html",
        "recommendation_form.html",
        # the township's units, the stationed staff's pages, steward recruitment
        "form.html",
        "stationing.html",
        "attendance.html",
        "leave.html",
        "assessment.html",
        "mine.html",
        "call_form.html",
        # the command centre's case list and search
        "cases.html",
        "application.html",
    }
    for path in templates.rglob("*.html"):
        assert "desk/components/form_errors.html" not in path.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_the_desk_shows_the_shared_summary_with_a_working_link(client, whistle_city):
    city = whistle_city
    case = actions.report_case(
        city.dispatcher,
        source="hotline",
        reporter_name="王先生",
        description="热线：人民市场东巷有游商占道",
        lon=116.4321,
        lat=39.8729,
    )
    actions.file_case(city.dispatcher, case, category=city.street_vending)
    actions.solve_on_spot(city.dispatcher, case, note="已劝离")
    actions.check_passed(city.dispatcher, case)
    case = actions.close_case(city.dispatcher, case)
    client.force_login(city.dispatcher)
    html = post_op(client, case_url(case), "callback", case, satisfied="").content.decode()
    summary = html[html.index('class="form-errors"') :]
    # "Satisfied or not" is a group of radio buttons: the link goes to the group.
    link = re.search(r'<a href="#([^"]*)">', summary)
    assert link is not None
    assert link.group(1) == f"id_callback-{case.reference}-satisfied"
    assert f'id="{link.group(1)}"' in html


# The desk's quick select list ---------------------------------------------------------------


class _Thing:
    def __init__(self, pk: int, name: str, group: str) -> None:
        self.pk, self.name, self.group = pk, name, group


THINGS = [
    _Thing(3, "井盖缺失", "部件 01 公用设施"),
    _Thing(7, '占道经营 <摊位> & "游商"', "事件 02 街面秩序"),
    _Thing(9, "乱堆物料", "事件 02 街面秩序"),
]


def _normalised(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "flat"])
@pytest.mark.parametrize("value", [None, "7", "404"], ids=["none", "chosen", "unknown"])
@pytest.mark.parametrize(
    "attrs",
    [{}, {"class": "input", "aria-describedby": "x-help x-errors", "aria-invalid": "true"}],
    ids=["plain", "described"],
)
def test_the_quick_select_writes_what_djangos_select_writes(grouped, value, attrs):
    from whistle.desk.forms import ObjectChoiceField, QuickSelect

    field = ObjectChoiceField(label="类别")
    assert isinstance(field.widget, QuickSelect)
    field.set_objects(THINGS, lambda t: t.name, group_of=(lambda t: t.group) if grouped else None)
    quick = field.widget.render("file-X-category", value, {"id": "id_c", "required": True, **attrs})
    plain = forms.Select(choices=field.choices).render(
        "file-X-category", value, {"id": "id_c", "required": True, **attrs}
    )
    assert _normalised(str(quick)) == _normalised(str(plain))
    # The names are escaped, and what was chosen comes chosen.
    assert "&lt;摊位&gt; &amp; &quot;游商&quot;" in quick
    assert ('<option value="7" selected>' in quick) == (value == "7")
    assert ('<option value="" selected>' in quick) == (value is None)
    assert quick.count("<optgroup") == (2 if grouped else 0)
