from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TownshipConfig(AppConfig):
    name = "whistle.township"
    label = "township"
    verbose_name = _("The township's powers")

    def ready(self) -> None:
        from whistle.cases.checkpoints import register_leaves
        from whistle.notifications.kinds import register_kinds
        from whistle.organisation.personal_data import erasure_requested
        from whistle.township import recruitment
        from whistle.township.actions import NOTIFICATION_KINDS
        from whistle.township.checkpoint import RECRUITMENT_LOG_LEAVES, TOWNSHIP_LOG_LEAVES
        from whistle.township.stationed_actions import STATIONED_KINDS

        register_kinds(NOTIFICATION_KINDS)
        register_kinds(STATIONED_KINDS)
        register_kinds(recruitment.NOTIFICATION_KINDS)
        erasure_requested.connect(recruitment.erase_on_request, dispatch_uid="township.recruitment")
        # Trail checkpoints commit to every entry of the township's powers log and of the
        # steward recruitment log.
        register_leaves(TOWNSHIP_LOG_LEAVES)
        register_leaves(RECRUITMENT_LOG_LEAVES)
