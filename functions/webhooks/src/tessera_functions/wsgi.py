"""The WSGI entry point Zappa and the local server load: ``tessera_functions.wsgi.application``.

Built at import from the environment, so a function with missing secrets fails its cold
start loudly instead of answering 401 to every genuine delivery.
"""

from tessera_functions.app import webhook_application_create

application = webhook_application_create()
