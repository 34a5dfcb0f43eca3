from django.urls import path

from whistle.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("wall/", views.wall, name="wall"),
    path("live/area-summary/", views.area_summary, name="area-summary"),
    path("map/jurisdictions.geojson", views.jurisdictions_geojson, name="map-jurisdictions"),
    path("map/lanes.geojson", views.lanes_geojson, name="map-lanes"),
    path("map/cases.geojson", views.cases_geojson, name="map-cases"),
    path("ui/", views.components, name="components"),
    path("favicon.ico", views.favicon, name="favicon"),
]
