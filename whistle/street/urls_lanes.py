from django.urls import URLPattern, URLResolver, path, re_path

from whistle.street import views_appointments
from whistle.street import views_lanes as views

app_name = "lanes"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/chiefs/", views_appointments.appointments, name="appointments"),
    path("<int:pk>/chiefs/appoint/", views_appointments.appoint, name="appoint"),
    path("<int:pk>/chiefs/<int:appointment>/end/", views_appointments.end, name="end-appointment"),
    path(
        "<int:pk>/chiefs/held/<int:held>/record/",
        views_appointments.record,
        name="record-appointment",
    ),
    re_path(r"^(?P<pk>[0-9]+)/signboard/(?P<size>a4|a3)/$", views.signboard, name="signboard"),
]
