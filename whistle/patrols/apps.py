from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolsConfig(AppConfig):
    name = "whistle.patrols"
    label = "patrols"
    verbose_name = _("Patrols")

    def ready(self) -> None:
        from whistle.cases.checkpoints import register_leaves
        from whistle.patrols.checkpoint import PATROL_LEAVES

        # Trail checkpoints commit to the patrols' records too.
        register_leaves(PATROL_LEAVES)
