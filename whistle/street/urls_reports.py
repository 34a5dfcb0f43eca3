from django.urls import URLPattern, URLResolver, path

from whistle.street import views_resident as views

app_name = "reports"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.new, name="new"),
    path("thanks/", views.thanks, name="thanks"),
    path("captcha.png", views.captcha_image, name="captcha"),
    path("lanes.geojson", views.lanes, name="lanes"),
    path("place/", views.place, name="place"),
    path("follow/", views.follow, name="follow"),
    path("follow/<str:reference>/", views.case_page, name="case"),
    path("follow/<str:reference>/rate/", views.rate, name="rate"),
    path("follow/<str:reference>/photos/<int:pk>/", views.photo, name="photo"),
]
