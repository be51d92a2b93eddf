"""With REDIS_URL set, do the rate-limit counters live in Redis, shared by every process?"""

from __future__ import annotations

import redis

from app.extensions import limiter
from tests.conftest import PASSWORD
from tests.services_helpers import redis_url


def test_are_login_attempts_counted_in_redis_when_it_is_configured(app, client, owner):
    url = redis_url()
    if not app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        # The session app was built before REDIS_URL was known: that is a configuration bug.
        raise AssertionError("REDIS_URL is set but the limiter does not use Redis")
    store = redis.Redis.from_url(url)
    for _ in range(5):
        client.post("/auth/login", data={"email": owner.email, "password": "wrong" + PASSWORD})
    assert any(b"LIMITER" in key for key in store.scan_iter(count=1000))
    limited = client.post("/auth/login", data={"email": owner.email, "password": PASSWORD})
    assert limited.status_code == 429
    limiter.reset()
