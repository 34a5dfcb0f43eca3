from django.urls import URLPattern, URLResolver

app_name = "district"
urlpatterns: list[URLPattern | URLResolver] = []
