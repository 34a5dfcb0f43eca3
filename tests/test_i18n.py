import pytest


@pytest.mark.django_db
def test_the_pages_speak_simplified_chinese_by_default(client):
    response = client.get("/")
    assert "街乡吹哨、部门报到" in response.content.decode()


@pytest.mark.django_db
def test_the_pages_speak_english_when_asked(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert "The township whistles, the departments report" in response.content.decode()


@pytest.mark.django_db
def test_the_admin_names_the_models_in_chinese(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "街巷" in html and "行政区划" in html and "问题分类" in html


@pytest.mark.parametrize(
    ("language", "too_long", "too_short"),
    [
        ("zh-hans", "最多 3 个字，现有 6 个字。", "至少 3 个字，现有 1 个字。"),
        (
            "en",
            "Ensure this value has at most 3 characters (it has 6).",
            "Ensure this value has at least 3 characters (it has 1).",
        ),
    ],
)
def test_a_field_too_long_or_too_short_says_so_in_the_pages_words(language, too_long, too_short):
    from django import forms
    from django.utils import translation

    with translation.override(language):
        with pytest.raises(forms.ValidationError) as long:
            forms.CharField(max_length=3).clean("abcdef")
        with pytest.raises(forms.ValidationError) as short:
            forms.CharField(min_length=3).clean("a")
        # Read in the language, as a page renders them.
        assert long.value.messages == [too_long]
        assert short.value.messages == [too_short]
    # Not Django's own Chinese, which calls the text "this variable".
    assert "变量" not in too_long + too_short
