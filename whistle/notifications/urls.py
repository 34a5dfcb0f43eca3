from django.urls import URLPattern, path

from whistle.notifications import receipt_views, views

app_name = "notifications"
urlpatterns: list[URLPattern] = [
    path("push/subscribe", views.subscribe, name="push-subscribe"),
    path("push/unsubscribe", views.unsubscribe, name="push-unsubscribe"),
    path("sms/aliyun/receipts/<str:token>", receipt_views.aliyun, name="sms-receipts-aliyun"),
    path("sms/tencent/receipts/<str:token>", receipt_views.tencent, name="sms-receipts-tencent"),
]
