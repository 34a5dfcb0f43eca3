"""The role pages a signed-in person may open, for the home page and the top bar.

A role page joins by adding an entry here under the URL name it registers, in one of the
top bar's menus (`NAV_GROUPS`). An entry whose URL name does not resolve yet is left out, so
neither the home page nor the navigation ever links to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.organisation.models import Jurisdiction, Role
from whistle.organisation.scoping import has_role, has_role_at

# The top bar's menus, in their order. A person with more links than fit on one line of a
# phone (`FLAT_NAV_MAX`) sees them in these menus; a menu with one link is that link.
COMMAND = "command"
LANES = "lanes"
ASSESSMENT = "assessment"
TOWNSHIP = "township"
ADMIN = "admin"
NAV_GROUPS: dict[str, str | Promise] = {
    COMMAND: _("Command"),
    LANES: _("Lanes"),
    ASSESSMENT: _("Assessment"),
    TOWNSHIP: _("Powers and staff"),
    ADMIN: _("Administration"),
}
FLAT_NAV_MAX = 5


@dataclass(frozen=True)
class Dashboard:
    url_name: str
    title: str | Promise
    description: str | Promise
    roles: tuple[str, ...] = ()
    # The top bar's menu it sits in (a key of NAV_GROUPS).
    group: str = COMMAND
    # Open to staff accounts whatever their roles.
    for_staff: bool = False
    # The page is meant for the command centre's wall screen.
    wall: bool = False
    # The roles count only when held for a district (a township's chiefs' office holds the
    # same role as the district's, and these pages are the district's).
    district_only: bool = False


COMMAND_ROLES = (
    Role.DISTRICT_CHIEF,
    Role.TOWNSHIP_CHIEF,
    Role.CHIEFS_OFFICE,
    Role.DISPATCHER,
)

DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard(
        "web:wall",
        _("Command centre wall"),
        _("Open cases and the summonses due next in your area, refreshed every few seconds."),
        group=COMMAND,
        roles=(*COMMAND_ROLES, Role.ADMINISTRATOR),
        for_staff=True,
        wall=True,
    ),
    Dashboard(
        "patrol:home",
        _("Patrol my lanes"),
        _("Walk your lanes, tick the checklist, report what you cannot fix yourself."),
        group=LANES,
        # The township's chief and chiefs' office patrol every lane of the township.
        roles=(
            Role.STEWARD,
            Role.LANE_CHIEF,
            Role.STREET_CHIEF,
            Role.TOWNSHIP_CHIEF,
            Role.CHIEFS_OFFICE,
        ),
    ),
    Dashboard(
        "lanes:index",
        _("Lanes and signboards"),
        _("Each lane's public page and its signboard to print, with the QR code that opens it."),
        group=LANES,
        roles=(
            Role.DISTRICT_CHIEF,
            Role.TOWNSHIP_CHIEF,
            Role.CHIEFS_OFFICE,
            Role.DISPATCHER,
            Role.STREET_CHIEF,
            Role.LANE_CHIEF,
            Role.STEWARD,
        ),
    ),
    Dashboard(
        "dispatch:home",
        _("Dispatch desk"),
        _("File reported cases, dispatch them and blow the whistle."),
        group=COMMAND,
        roles=(Role.DISPATCHER, Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE),
    ),
    Dashboard(
        "dispatch:cases",
        _("Find a case"),
        _("Every case of your area, open or closed: by reference, words, lane, category, status."),
        group=COMMAND,
        roles=(
            Role.DISPATCHER,
            Role.TOWNSHIP_CHIEF,
            Role.TOWNSHIP_ASSESSOR,
            Role.CHIEFS_OFFICE,
            Role.DISTRICT_CHIEF,
            Role.DISTRICT_ASSESSOR,
        ),
    ),
    Dashboard(
        "dispatch:hotline",
        _("Work orders (12345)"),
        _("Take orders of the 12345 hotline or from a superior; reply and call back in time."),
        group=COMMAND,
        roles=(Role.DISPATCHER, Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE),
    ),
    Dashboard(
        "department:home",
        _("My department's summonses"),
        _("Acknowledge, check in on site and report the result."),
        group=COMMAND,
        roles=(Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD),
    ),
    Dashboard(
        "duty:home",
        _("Duty rosters"),
        _("Who is on duty now and next, the coming days, swaps and covers."),
        group=COMMAND,
        roles=(
            Role.DEPARTMENT_HEAD,
            Role.DEPARTMENT_OFFICER,
            Role.DISPATCHER,
            Role.TOWNSHIP_CHIEF,
        ),
    ),
    Dashboard(
        "assessment:home",
        _("Assessment"),
        _("Rate each summons: did the department come, did it act, how well."),
        group=ASSESSMENT,
        roles=(
            Role.TOWNSHIP_ASSESSOR,
            Role.DISPATCHER,
            Role.TOWNSHIP_CHIEF,
            Role.DISTRICT_ASSESSOR,
            Role.CHIEFS_OFFICE,
        ),
    ),
    Dashboard(
        "assessment:department",
        _("My department's records and scores"),
        _("How each township rated each summons, and appeals within the window."),
        group=ASSESSMENT,
        roles=(Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD),
    ),
    Dashboard(
        "district:rankings",
        _("Rankings"),
        _("Departments ranked by month, quarter and year, with every score explained."),
        group=ASSESSMENT,
        roles=(Role.DISTRICT_CHIEF, Role.DISTRICT_ASSESSOR, Role.CHIEFS_OFFICE),
        district_only=True,
    ),
    Dashboard(
        "district:report",
        _("Annual report"),
        _("The district's year on one page to print: ranking, indicators, hotline, chiefs."),
        group=ASSESSMENT,
        roles=(Role.DISTRICT_CHIEF, Role.DISTRICT_ASSESSOR, Role.CHIEFS_OFFICE),
        district_only=True,
    ),
    Dashboard(
        "assessment:appeals",
        _("Appeals to rule on"),
        _("Departments contesting a record: uphold with a correction, or reject."),
        group=ASSESSMENT,
        roles=(Role.CHIEFS_OFFICE,),
        district_only=True,
    ),
    Dashboard(
        "district:hotspots",
        _("Hot spots"),
        _("Recurring problems by lane and category: candidates for root-cause work."),
        group=LANES,
        roles=(Role.DISTRICT_CHIEF, Role.DISTRICT_ASSESSOR, Role.CHIEFS_OFFICE),
    ),
    Dashboard(
        "district:chiefs",
        _("Chiefs and stewards"),
        _("Patrols against the required frequency, problems found and solved."),
        group=LANES,
        roles=(Role.DISTRICT_CHIEF, Role.CHIEFS_OFFICE),
    ),
    Dashboard(
        "district:training",
        _("Training and recognitions"),
        _("Training sessions for chiefs and stewards, who attended, recognitions."),
        group=LANES,
        roles=(Role.CHIEFS_OFFICE, Role.TOWNSHIP_CHIEF),
    ),
    Dashboard(
        "district:centres",
        _("1+5+N centres"),
        _("Who is stationed and on call in every township's enforcement centre."),
        group=TOWNSHIP,
        roles=(Role.DISTRICT_CHIEF, Role.DISTRICT_ASSESSOR, Role.CHIEFS_OFFICE),
    ),
    Dashboard(
        "township:home",
        _("The township's powers"),
        _("Opinions on the district's major matters; recommendations on personnel."),
        group=TOWNSHIP,
        roles=(Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE, Role.DISPATCHER),
    ),
    Dashboard(
        "township:recruitment",
        _("Recruiting alley stewards"),
        _("Public calls for stewards; review the applications."),
        group=LANES,
        roles=(Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE),
    ),
    Dashboard(
        "offices:list",
        _("The street office's units"),
        _("Offices, committee, team and centres: responsibility lists, categories, queues."),
        group=TOWNSHIP,
        roles=(
            Role.TOWNSHIP_CHIEF,
            Role.CHIEFS_OFFICE,
            Role.DISPATCHER,
            Role.TOWNSHIP_ASSESSOR,
            Role.ADMINISTRATOR,
        ),
    ),
    Dashboard(
        "offices:coordination",
        _("Coordination and command"),
        _("Whistles summoning several departments and supervision notices, with deadlines."),
        group=COMMAND,
        roles=(Role.TOWNSHIP_CHIEF, Role.CHIEFS_OFFICE, Role.DISPATCHER),
    ),
    Dashboard(
        "stationed:roster",
        _("Stationed staff"),
        _("The roster of the centre's stationed people, attendance, leave, monthly assessment."),
        group=TOWNSHIP,
        # A township's chiefs' office reaches it from the township's powers: the role's
        # name alone does not say whether it is a township's or a district's.
        roles=(Role.TOWNSHIP_CHIEF, Role.DISPATCHER, Role.TOWNSHIP_ASSESSOR),
    ),
    Dashboard(
        "stationed:mine",
        _("My stationing"),
        _("Sign in at the township's centre, ask for leave, read your monthly assessments."),
        group=TOWNSHIP,
        roles=(Role.DEPARTMENT_OFFICER,),
    ),
    Dashboard(
        "stationed:department",
        _("Our stationed staff's assessments"),
        _("How each township assessed the people the department stations there."),
        group=ASSESSMENT,
        roles=(Role.DEPARTMENT_HEAD,),
    ),
    Dashboard(
        "district:matters",
        _("Major matters"),
        _("Ask the townships' opinion; respond to each; what is overdue."),
        group=TOWNSHIP,
        roles=(Role.DISTRICT_CHIEF, Role.CHIEFS_OFFICE),
        district_only=True,
    ),
    Dashboard(
        "district:recommendations",
        _("Recommendations on personnel"),
        _("The townships' recommendations on the leaders of dispatched agencies: decide."),
        group=TOWNSHIP,
        roles=(Role.DISTRICT_CHIEF,),
    ),
    Dashboard(
        "district:reachability",
        _("Arrival reach"),
        _("Which lanes the enforcement centre's departments can reach in time, by hour."),
        group=COMMAND,
        roles=(
            Role.DISTRICT_CHIEF,
            Role.DISTRICT_ASSESSOR,
            Role.CHIEFS_OFFICE,
            Role.DISPATCHER,
            Role.TOWNSHIP_CHIEF,
        ),
    ),
    Dashboard(
        "reports:new",
        _("Report a problem"),
        _("Tell the township about a problem in your street, with a photo and the place."),
        group=LANES,
        roles=(Role.RESIDENT,),
    ),
    Dashboard(
        "admin:index",
        _("Administration"),
        _("Jurisdictions, lanes, departments, people, policies."),
        group=ADMIN,
        for_staff=True,
    ),
)


@dataclass(frozen=True)
class DashboardLink:
    dashboard: Dashboard
    url: str


def may_open(person: Any, dashboard: Dashboard) -> bool:
    if not getattr(person, "is_authenticated", False):
        return False
    if dashboard.for_staff and person.is_staff:
        return True
    if dashboard.district_only:
        return has_role_at(person, Jurisdiction.Level.DISTRICT, *dashboard.roles)
    return bool(dashboard.roles) and has_role(person, *dashboard.roles)


def dashboards_for(person: Any) -> list[DashboardLink]:
    """The role pages that exist and that this person's roles allow, in a fixed order, each
    page once: where two entries lead to the same address (a person whose roles reach one
    page under two names), the first of DASHBOARDS, the page's own name, is kept."""
    links = []
    seen: set[str] = set()
    for dashboard in DASHBOARDS:
        if not may_open(person, dashboard):
            continue
        try:
            url = reverse(dashboard.url_name)
        except NoReverseMatch:
            continue
        if url in seen:
            continue
        seen.add(url)
        links.append(DashboardLink(dashboard, url))
    return links


@dataclass(frozen=True)
class NavEntry:
    """One item of the top bar: a link, or a menu of links under a title."""

    links: tuple[DashboardLink, ...]
    title: str | Promise = ""

    @property
    def is_menu(self) -> bool:
        return len(self.links) > 1

    @property
    def key(self) -> str:
        return self.links[0].dashboard.group


def navigation(links: list[DashboardLink]) -> list[NavEntry]:
    """The top bar's items: each link on its own when they are few, else the links in
    their menus, in the order of NAV_GROUPS, each menu's links in the order of DASHBOARDS."""
    if len(links) <= FLAT_NAV_MAX:
        return [NavEntry((link,)) for link in links]
    entries = []
    for key, title in NAV_GROUPS.items():
        members = tuple(link for link in links if link.dashboard.group == key)
        if members:
            entries.append(NavEntry(members, title))
    return entries
