from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from whistle.district.views import centres, chiefs, hotspots, rankings, reachability, report

app_name = "district"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", RedirectView.as_view(pattern_name="district:rankings"), name="index"),
    path("rankings/", rankings.rankings, name="rankings"),
    path("rankings/export/", rankings.export, name="rankings-export"),
    path("rankings/<str:period>/<slug:department>/", rankings.result, name="result"),
    path("centres/", centres.centres, name="centres"),
    path("hotspots/", hotspots.hotspots, name="hotspots"),
    path("chiefs/", chiefs.chiefs, name="chiefs"),
    path("reachability/", reachability.reachability, name="reachability"),
    path("report/<int:year>/", report.annual_report, name="annual-report"),
]
