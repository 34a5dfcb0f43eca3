from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, include, path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django.views.i18n import set_language

from whistle.accounts import views as accounts_views
from whistle.api.main import urlpatterns as api_urlpatterns

admin.site.site_header = _("Whistle administration")
admin.site.site_title = _("Whistle")
admin.site.index_title = _("Administration")
# The headings of the admin's lists of models, read out by screen readers, and the word its
# tab title begins with when a form has errors, which Django's own Chinese catalogue lacks:
# translated in locale/ (kept there by naming them here).
ADMIN_HEADINGS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
)

# Uploaded photos are never served from MEDIA_URL: only the pages' views, which check who
# may see the case, hand them out. The API's patterns come first: no other pattern matches a
# path under api/, and a request to the API (the hotline's orders, the stewards' reports)
# is then resolved without trying every page's pattern before it.
urlpatterns: list[URLPattern | URLResolver] = [
    *api_urlpatterns(),
    path("admin/login/", accounts_views.admin_login),
    path("admin/", admin.site.urls),
    path("accounts/", include("whistle.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    # Open to everyone: on the sign-in page it returns there, which is no lapsed session.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("patrol/", include("whistle.street.urls_patrol")),
    path("report/stewards/", include("whistle.street.urls_stewards")),
    path("report/", include("whistle.street.urls_reports")),
    path("lanes/", include("whistle.street.urls_lanes")),
    path("", include("whistle.desk.urls_stationed")),
    path("dispatch/", include("whistle.desk.urls_dispatch")),
    path("department/", include("whistle.desk.urls_department")),
    path("cases/", include("whistle.desk.urls_case")),
    path("duty/", include("whistle.desk.urls_duty")),
    path("township/", include("whistle.desk.urls_offices")),
    path("township/", include("whistle.desk.urls_township")),
    path("assessment/", include("whistle.district.urls_assessment")),
    path("district/", include("whistle.district.urls_district")),
    path("notifications/", include("whistle.notifications.urls")),
    path("open311/v2/", include("whistle.api.open311")),
    path("settings/api-tokens/", include("whistle.api.urls_pages")),
    path("", include("whistle.web.urls")),
]

handler400 = "whistle.web.errors.bad_request"
handler403 = "whistle.web.errors.permission_denied"
handler404 = "whistle.web.errors.page_not_found"
handler500 = "whistle.web.errors.server_error"
