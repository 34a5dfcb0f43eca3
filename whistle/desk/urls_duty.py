from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import duty

app_name = "duty"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", duty.home, name="home"),
    path("start/", duty.start, name="start"),
    path("<int:pk>/", duty.roster, name="roster"),
    path("<int:pk>/rotations/new/", duty.rotation, name="rotation_new"),
    path("<int:pk>/rotations/<int:rotation_pk>/", duty.rotation, name="rotation"),
    path("<int:pk>/export.<str:file_format>", duty.export, name="export"),
    path("<int:pk>/shifts.<str:file_format>", duty.export_shifts, name="export_shifts"),
]
