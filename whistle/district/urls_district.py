from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from whistle.district.views import (
    centres,
    checkpoints,
    chiefs,
    hotspots,
    rankings,
    reachability,
    report,
    township,
    training,
)

app_name = "district"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", RedirectView.as_view(pattern_name="district:rankings"), name="index"),
    path("rankings/", rankings.rankings, name="rankings"),
    path("rankings/export/", rankings.export, name="rankings-export"),
    path("rankings/<str:period>/<slug:department>/", rankings.result, name="result"),
    path("centres/", centres.centres, name="centres"),
    path("hotspots/", hotspots.hotspots, name="hotspots"),
    path("chiefs/", chiefs.chiefs, name="chiefs"),
    path("training/", training.sessions, name="training"),
    path("training/<int:pk>/", training.session, name="training-session"),
    path("recognitions/", training.recognitions, name="recognitions"),
    path("reachability/", reachability.reachability, name="reachability"),
    path("report/", report.annual_report, name="report"),
    path("report/<int:year>/", report.annual_report, name="annual-report"),
    path("matters/", township.matters, name="matters"),
    path("matters/new/", township.matter_new, name="matter_new"),
    path("matters/<int:pk>/", township.matter, name="matter"),
    path("recommendations/", township.recommendations, name="recommendations"),
    path("recommendations/<int:pk>/", township.recommendation, name="recommendation"),
    path("trail/checkpoints/latest.json", checkpoints.latest, name="checkpoint-latest"),
    path("trail/checkpoints/<int:number>.json", checkpoints.numbered, name="checkpoint"),
    path(
        "trail/checkpoints/<int:number>.json.tst",
        checkpoints.timestamp,
        name="checkpoint-timestamp",
    ),
]
