import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
_django = get_wsgi_application()

from gov21.exchange.wsgi import node_application, wrap  # noqa: E402 - needs Django set up first

# The platform, with the exchange's client interface (X-Road REST r1) at the same address.
application = wrap(_django)
node = node_application
