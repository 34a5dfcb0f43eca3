from django.urls import URLPattern, path

from whistle.api import views

app_name = "api-tokens"
urlpatterns: list[URLPattern] = [
    path("", views.tokens_page, name="list"),
    path("<uuid:public_id>/revoke", views.revoke, name="revoke"),
]
