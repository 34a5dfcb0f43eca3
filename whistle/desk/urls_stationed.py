"""The stationed staff's pages: the township's (`/township/stationed/…`), the stationed
person's phone page (`/stationed/`) and the department head's (`/department/stationed/`)."""

from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import stationed

app_name = "stationed"
urlpatterns: list[URLPattern | URLResolver] = [
    path("township/stationed/", stationed.roster, name="roster"),
    path("township/stationed/<int:pk>/", stationed.stationing, name="stationing"),
    path("township/stationed/attendance/", stationed.attendance, name="attendance"),
    path("township/stationed/leave/", stationed.leave, name="leave"),
    path("township/stationed/assessment/", stationed.assessment, name="assessment"),
    path("stationed/", stationed.mine, name="mine"),
    path("department/stationed/", stationed.department, name="department"),
]
