from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import department

app_name = "department"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", department.home, name="home"),
    path("live/", department.live, name="live"),
]
