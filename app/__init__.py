"""The portal package. ``create_app`` (in ``app.factory``) builds the Flask application.

The factory is imported on first use, not here, so that importing a framework-free part of the
package (``app.einvoice``, ``app.taxids``) loads neither Flask nor SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """Return create_app from app.factory on first use (PEP 562)."""
    if name == "create_app":
        from app.factory import create_app

        return create_app
    raise AttributeError(f"module 'app' has no attribute {name!r}")
