from django.urls import URLPattern, URLResolver, path

from whistle.street import views_patrol as views

app_name = "patrol"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("history/", views.history, name="history"),
    path("walk/<uuid:patrol>/", views.walk, name="walk"),
    path("walk/lane/<int:lane>/", views.walk_offline, name="walk-offline"),
    path("walk/<uuid:patrol>/positions/", views.positions, name="positions"),
    path("walk/<uuid:patrol>/check/", views.check, name="check"),
    path("walk/<uuid:patrol>/end/", views.end, name="end"),
    path("report/", views.report, name="report"),
    path("report/suggest/", views.suggest_category, name="suggest"),
    path("report/nearby/", views.nearby, name="nearby"),
    path("reports/", views.mine, name="mine"),
    path("reports/<str:reference>/", views.reported, name="reported"),
    path("reports/<str:reference>/escalate/", views.escalate_case, name="escalate"),
]
