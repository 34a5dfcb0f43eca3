from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import case

app_name = "case"
urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:reference>/", case.detail, name="detail"),
    path("<str:reference>/photos/<int:pk>/", case.photo, name="photo"),
]
