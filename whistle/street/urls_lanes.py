from django.urls import URLPattern, URLResolver, path, re_path

from whistle.street import views_lanes as views

app_name = "lanes"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    re_path(r"^(?P<pk>[0-9]+)/signboard/(?P<size>a4|a3)/$", views.signboard, name="signboard"),
]
