from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolsConfig(AppConfig):
    name = "whistle.patrols"
    label = "patrols"
    verbose_name = _("Patrols")

    def ready(self) -> None:
        from whistle.cases.checkpoints import register_leaves
        from whistle.patrols.checkpoint import APPOINTMENT_LOG_LEAVES, PATROL_LEAVES

        # Trail checkpoints commit to the patrols' records and to every entry of the chiefs'
        # appointment log too.
        register_leaves(PATROL_LEAVES)
        register_leaves(APPOINTMENT_LOG_LEAVES)
