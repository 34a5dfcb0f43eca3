from django.urls import URLPattern, URLResolver

app_name = "department"
urlpatterns: list[URLPattern | URLResolver] = []
