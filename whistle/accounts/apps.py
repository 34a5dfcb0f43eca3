from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "whistle.accounts"
    label = "accounts"
    verbose_name = _("Sign-in and accounts")

    def ready(self) -> None:
        from whistle.accounts import signals

        signals.connect()
