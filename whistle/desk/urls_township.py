from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import recruitment, township

app_name = "township"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", township.home, name="home"),
    path("matters/<int:pk>/", township.matter, name="matter"),
    path("recommendations/new/", township.recommendation_new, name="recommendation_new"),
    path("recommendations/<int:pk>/", township.recommendation, name="recommendation"),
    path("recruitment/", recruitment.home, name="recruitment"),
    path("recruitment/calls/new/", recruitment.call_new, name="call_new"),
    path("recruitment/applications/<int:pk>/", recruitment.application, name="application"),
]
