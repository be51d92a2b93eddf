"""Reach PostgreSQL or Redis, or skip (fail under REQUIRE_SERVICES=1) when they are absent."""

from __future__ import annotations

import os

import pytest


def redis_url() -> str:
    """Return REDIS_URL when Redis answers there; otherwise skip or fail."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
            return url
        except redis.RedisError as error:
            reason = f"Redis at {url} does not answer: {error}"
    else:
        reason = "REDIS_URL is not set"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)
