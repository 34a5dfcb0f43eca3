from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StreetConfig(AppConfig):
    name = "whistle.street"
    label = "street"
    verbose_name = _("Street pages")
