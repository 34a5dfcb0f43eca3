from django.urls import URLPattern, path

from whistle.notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern] = [
    path("push/subscribe", views.subscribe, name="push-subscribe"),
    path("push/unsubscribe", views.unsubscribe, name="push-unsubscribe"),
]
