from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TownshipConfig(AppConfig):
    name = "whistle.township"
    label = "township"
    verbose_name = _("The township's powers")

    def ready(self) -> None:
        from whistle.notifications.kinds import register_kinds
        from whistle.township.actions import NOTIFICATION_KINDS
        from whistle.township.stationed_actions import STATIONED_KINDS

        register_kinds(NOTIFICATION_KINDS)
        register_kinds(STATIONED_KINDS)
