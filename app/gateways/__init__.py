"""Payment-gateway adapters behind one interface (``base.Gateway``); no Flask, no database.

``build(kind, credentials, ...)`` gives the adapter for a connection: ``sandbox`` (the embedded
default, whose counterpart lives in ``app.services.sandbox_gateway``), ``stripe``, ``wompi``.
"""
