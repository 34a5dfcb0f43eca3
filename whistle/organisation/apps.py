from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationConfig(AppConfig):
    name = "whistle.organisation"
    label = "organisation"
    verbose_name = _("City and organisation")

    def ready(self) -> None:
        from whistle import checks  # noqa: F401  (registers the project's system checks)
