from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "whistle.policies"
    label = "policies"
    verbose_name = _("Policies")

    def ready(self) -> None:
        from whistle.policies import calendar, checks

        calendar.connect_signals()
        checks.register_checks()
