from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "whistle.assessment"
    label = "assessment"
    verbose_name = _("Assessment")

    def ready(self) -> None:
        from whistle.assessment.actions import after_staffing_changed
        from whistle.organisation.staffing import staffing_changed

        # A role ended or an account deactivated may leave a pending appeal with nobody who
        # may rule on it: the people who add staff are told, in the change's transaction.
        staffing_changed.connect(after_staffing_changed, dispatch_uid="whistle.assessment.staffing")
