from django.urls import path

from whistle.web import inbox, offline, preferences, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("wall/", views.wall, name="wall"),
    path("live/area-summary/", views.area_summary, name="area-summary"),
    path("map/jurisdictions.geojson", views.jurisdictions_geojson, name="map-jurisdictions"),
    path("map/lanes.geojson", views.lanes_geojson, name="map-lanes"),
    path("map/cases.geojson", views.cases_geojson, name="map-cases"),
    path("inbox/", inbox.inbox_page, name="inbox"),
    path("inbox/badge/", inbox.badge, name="inbox-badge"),
    path("inbox/read/", inbox.mark_all_read, name="inbox-read-all"),
    path("inbox/<uuid:public_id>/", inbox.open_entry, name="inbox-open"),
    path("inbox/<uuid:public_id>/read/", inbox.mark_read, name="inbox-read"),
    path("settings/", preferences.settings_page, name="settings"),
    path("ui/", views.components, name="components"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("sw.js", offline.service_worker, name="service-worker"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    path("app-icon-<int:size>-<str:purpose>.png", offline.icon, name="app-icon"),
    path("offline/", offline.offline, name="offline"),
    path("offline/pages.json", offline.pages, name="offline-pages"),
    path("offline/ping", offline.ping, name="offline-ping"),
]
