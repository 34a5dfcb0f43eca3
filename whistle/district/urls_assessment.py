from django.urls import URLPattern, URLResolver, path

from whistle.district.views import appeals, assessment, department, scheme

app_name = "assessment"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", assessment.home, name="home"),
    path("department/", department.department, name="department"),
    path("appeals/", appeals.appeals, name="appeals"),
    path("scheme/", scheme.scheme, name="scheme"),
]
