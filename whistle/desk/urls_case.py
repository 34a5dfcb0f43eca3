from django.urls import URLPattern, URLResolver

app_name = "case"
urlpatterns: list[URLPattern | URLResolver] = []
