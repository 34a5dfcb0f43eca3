from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import township

app_name = "township"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", township.home, name="home"),
    path("matters/<int:pk>/", township.matter, name="matter"),
    path("recommendations/new/", township.recommendation_new, name="recommendation_new"),
    path("recommendations/<int:pk>/", township.recommendation, name="recommendation"),
]
