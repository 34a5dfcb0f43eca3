from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPAppConfig


class AccountsConfig(AppConfig):
    name = "whistle.accounts"
    label = "accounts"
    verbose_name = _("Sign-in and accounts")
    # The one Django picks for "whistle.accounts": the others below stand for other apps.
    default = True

    def ready(self) -> None:
        from whistle.accounts import signals
        from whistle.accounts.checkpoint import CONTACT_LOG_LEAVES
        from whistle.cases.checkpoints import register_leaves

        signals.connect()
        # Trail checkpoints commit to every entry of the log of changes to contact addresses.
        register_leaves(CONTACT_LOG_LEAVES)


# django-axes and django-otp name their apps after their labels ("Axes", "Otp_Totp"), in
# English on every page: INSTALLED_APPS lists these in their place, which keep the labels
# (and so the tables, migrations and permissions) and give the admin a translated name.
class LockoutConfig(AxesAppConfig):
    default = False
    verbose_name = _("Sign-in records")


class AuthenticatorsConfig(TOTPAppConfig):
    default = False
    verbose_name = _("Two-factor sign-in")

    def ready(self) -> None:
        from whistle.accounts.admin_words import translate_totp_device

        translate_totp_device()
