from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "whistle.cases"
    label = "cases"
    verbose_name = _("Cases and whistles")

    def ready(self) -> None:
        from whistle.cases import checks  # noqa: F401  (registers the checks)
        from whistle.cases.actions.calendar import on_calendar_entered
        from whistle.cases.actions.calendar_moves import (
            on_calendar_changed,
            on_calendar_moves_asked,
        )
        from whistle.cases.checkpoints import register_leaves
        from whistle.cases.roster_checkpoint import ROSTER_LOG_LEAVES
        from whistle.cases.trail import notification_kinds
        from whistle.cases.unit_log_checkpoint import UNIT_LOG_LEAVES
        from whistle.notifications.kinds import register_kinds
        from whistle.policies.signals import calendar_entered, calendar_moves_asked

        # The calendar lives below the cases; it announces a newly entered year, and the
        # cases recompute the deadlines that had to assume it.
        calendar_entered.connect(on_calendar_entered, dispatch_uid="whistle.cases.calendar")
        # After a change of the calendar, the open deadlines in working time it would move
        # are counted (and, by hand, moved: the admin's page, `whistle calendar deadlines`).
        calendar_entered.connect(on_calendar_changed, dispatch_uid="whistle.cases.calendar_moves")
        calendar_moves_asked.connect(
            on_calendar_moves_asked, dispatch_uid="whistle.cases.calendar_moves_asked"
        )
        # The outbox learns what each event's message is called and whether it is urgent.
        register_kinds(notification_kinds())
        # Trail checkpoints commit to every entry of the duty roster log and of the log of
        # the township units too.
        register_leaves(ROSTER_LOG_LEAVES)
        register_leaves(UNIT_LOG_LEAVES)
