"""Payment-gateway adapters behind one interface (``base.Gateway``); no Flask, no database.

``build(kind, credentials, ...)`` gives the adapter for a connection: ``sandbox`` (the embedded
default, whose counterpart lives in ``app.services.sandbox_gateway`` and is handed in as
``sandbox_backend``), ``stripe`` (the official SDK; ``http_client`` for tests), ``wompi``
(``transport`` for tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.gateways.base import Gateway

KINDS = ("sandbox", "stripe", "wompi")


def module(kind: str) -> Any:
    """The adapter's module (its ``CREDENTIAL_FIELDS`` and ``is_test_mode``)."""
    if kind == "sandbox":
        from app.gateways import sandbox

        return sandbox
    if kind == "stripe":
        from app.gateways import stripe

        return stripe
    if kind == "wompi":
        from app.gateways import wompi

        return wompi
    raise KeyError(kind)


def build(kind: str, credentials: Mapping[str, str], **options: Any) -> Gateway:
    """The adapter of ``kind`` for a connection's credentials."""
    if kind == "sandbox":
        from app.gateways.sandbox import SandboxGateway

        return SandboxGateway(credentials, backend=options["sandbox_backend"])
    if kind == "stripe":
        from app.gateways.stripe import StripeGateway

        return StripeGateway(credentials, http_client=options.get("http_client"))
    if kind == "wompi":
        from app.gateways.wompi import WompiGateway

        return WompiGateway(credentials, transport=options.get("transport"))
    raise KeyError(kind)
