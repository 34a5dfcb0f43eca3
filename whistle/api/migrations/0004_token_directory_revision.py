"""Every process keeps the API's tokens in memory under the directory's revision token: a
change to a token (but its last use) or to the roles it carries gives it a new value
(whistle.organisation.map_triggers)."""

from django.db import migrations

from whistle.organisation import map_triggers

TABLES = ("api_apitoken", "api_apitoken_roles")


WATCHING = map_triggers.Watching(TABLES, map_triggers.DIRECTORY)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_idempotent_request_pruning"),
        ("organisation", "0010_person_directory_columns"),
    ]

    operations = [migrations.RunPython(WATCHING.install, WATCHING.uninstall, elidable=False)]
