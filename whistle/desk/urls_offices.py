from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import offices

app_name = "offices"
urlpatterns: list[URLPattern | URLResolver] = [
    path("offices/", offices.offices, name="list"),
    path("offices/new/", offices.unit_new, name="new"),
    path("offices/<int:pk>/", offices.unit, name="unit"),
    path("offices/<int:pk>/edit/", offices.unit_edit, name="edit"),
    path("coordination/", offices.coordination, name="coordination"),
]
