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
