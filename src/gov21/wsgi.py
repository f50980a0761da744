import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
# The platform: portal, back offices, APIs, the directory's /exchange/conf. What gov21 up serves.
application = get_wsgi_application()

from gov21.exchange.wsgi import clients_application, node_application  # noqa: E402 - needs Django set up first

# The exchange's information-system side (X-Road REST r1, listClients, metrics): its own listener,
# never the public one (gov21 exchange node serve --listen / --client-tls-listen).
clients = clients_application
# The node interface, behind mutual TLS (gov21 exchange node serve --node-listen).
node = node_application

# Everything loaded so far (Django, the apps, their views, what the URLs name) lives as long as the
# worker: moved out of the garbage collector's sight, a full collection no longer walks it. Walking
# it took about 60 ms each time, every few tiles built (decision 0080).
get_resolver().url_patterns  # noqa: B018 - imports every app's views now rather than at the first request
gc.freeze()
