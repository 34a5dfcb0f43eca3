from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistrictConfig(AppConfig):
    name = "whistle.district"
    label = "district"
    verbose_name = _("Assessment and district pages")
