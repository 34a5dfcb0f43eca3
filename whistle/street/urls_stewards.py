from django.urls import URLPattern, URLResolver, path

from whistle.street import views_stewards as views

# Under /report/ so that the residents' captcha (its cookie and picture) serves these pages.
app_name = "stewards"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.calls, name="calls"),
    path("<int:pk>/apply/", views.apply_page, name="apply"),
    path("status/<str:reference>/", views.status, name="status"),
]
