from django.urls import URLPattern, path

from whistle.accounts import views

app_name = "accounts"
urlpatterns: list[URLPattern] = [
    path("verify/", views.verify, name="verify"),
    path("two-factor/", views.enrol, name="enrol"),
    path("security/", views.security, name="security"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path("security/two-factor-off/", views.turn_off, name="turn-off"),
    path("security/sign-out-everywhere/", views.sign_out_everywhere, name="sign-out-everywhere"),
    path("password/", views.PasswordChange.as_view(), name="password"),
    path("contact/", views.contact, name="contact"),
    path("contact/<str:kind>/<str:step>/", views.contact_step, name="contact-step"),
]
