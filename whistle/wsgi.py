import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
application = get_wsgi_application()

# Import every page and the API's schemas now, while the process starts, rather than on the
# first request it answers: that request would otherwise wait about half a second more
# (docs/deployment.md, "Starting a web process").
PATTERNS = get_resolver().url_patterns
