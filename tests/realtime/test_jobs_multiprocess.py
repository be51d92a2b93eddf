"""Does a task enqueued by a web process run once on a separate worker, and survive its death?

A web server (``python wsgi.py``, no consumer of its own) and worker processes
(``flask --app wsgi jobs worker``) share one database and a Redis of this test's own. The task
is a webhook delivery: an admin replays a delivery on the web server, whose commit enqueues it
on Redis; the test's ERP counts what it is sent. A worker SIGKILLed while the ERP holds its POST
loses nothing: the delivery row is still pending, and the next worker's sweep sends it once the
claim's lease (``JOBS_LEASE_SECONDS``, 3 s here) has run out.
"""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.realtime.servers import (
    ROOT,
    RedisServer,
    csrf_token,
    prepare_database,
    redis_binary,
    server_env,
    shared_database,
    sign_in,
    sql,
    start_servers,
)

pytestmark = pytest.mark.services
WAIT = 30  # seconds to wait for a delivery: generous, never asserted as a speed
LEASE = 3


class Erp:
    """An ERP on 127.0.0.1 recording each POST; while ``hold`` is set it does not answer."""

    def __init__(self) -> None:
        self.received: list[int] = []  # X-Portal-Delivery of each POST, in order
        self.hold = threading.Event()
        self.release = threading.Event()
        self.changed = threading.Condition()
        erp = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers["Content-Length"]))
                with erp.changed:
                    erp.received.append(int(self.headers["X-Portal-Delivery"]))
                    erp.changed.notify_all()
                if erp.hold.is_set():
                    erp.release.wait(WAIT)
                    return  # the sender was killed meanwhile: nobody to answer
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = WAIT) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.received) >= count, timeout=timeout)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """One ``flask --app wsgi jobs worker`` process."""

    def __init__(self, env: dict, log_path) -> None:
        self.log_path = log_path
        log = open(log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    binary = redis_binary()
    directory = tmp_path_factory.mktemp("jobs")
    redis = RedisServer(binary, directory)
    redis.start()
    erp = Erp()
    servers, workers = [], []
    try:
        with shared_database(directory) as database_url:
            env = server_env(
                directory,
                database_url,
                redis.url,
                WEBHOOK_ALLOW_LOOPBACK="1",
                JOBS_LEASE_SECONDS=str(LEASE),
            )
            prepare_database(env)
            andina = sql(database_url, "SELECT id FROM companies WHERE tax_id = '9001234568'")
            company_id = andina[0][0]
            sql(
                database_url,
                "INSERT INTO webhook_endpoints (company_id, url, secret, events, active, "
                "created_at) VALUES (?, ?, 'whsec_test', ?, ?, ?)",
                (company_id, erp.url, json.dumps(["document.received"]), True, "2026-01-01"),
            )
            (endpoint_id,) = sql(database_url, "SELECT max(id) FROM webhook_endpoints")[0]
            servers = start_servers(env, directory, 1)
            http = sign_in(servers[0].base, "buyer@demo.test")
            yield {
                "env": env,
                "db": database_url,
                "web": servers[0],
                "http": http,
                "erp": erp,
                "company_id": company_id,
                "endpoint_id": endpoint_id,
                "directory": directory,
                "workers": workers,
            }
    finally:
        for worker in workers:
            worker.stop()
        for server in servers:
            server.stop()
        erp.close()
        redis.stop()


def _replay(cluster) -> int:
    """Write a delivered delivery, replay it on the web server (as an admin); return the new id."""
    db = cluster["db"]
    sql(
        db,
        "INSERT INTO webhook_deliveries (company_id, endpoint_id, event_type, payload, attempts, "
        "delivered_at, created_at) VALUES (?, ?, 'document.received', '{}', 1, ?, ?)",
        (cluster["company_id"], cluster["endpoint_id"], "2026-01-01", "2026-01-01"),
    )
    (original,) = sql(db, "SELECT max(id) FROM webhook_deliveries")[0]
    base, http = cluster["web"].base, cluster["http"]
    token = csrf_token(http.get(base + "/company/webhooks", timeout=10).text)
    response = http.post(
        f"{base}/company/webhooks/deliveries/{original}/replay",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303, response.text[:500]
    (replay,) = sql(db, "SELECT max(id) FROM webhook_deliveries")[0]
    assert replay != original
    return replay


def _row(cluster, delivery_id: int) -> tuple:
    return sql(
        cluster["db"],
        "SELECT attempts, delivered_at FROM webhook_deliveries WHERE id = ?",
        (delivery_id,),
    )[0]


def _start_worker(cluster, name: str) -> Worker:
    worker = Worker(cluster["env"], cluster["directory"] / f"{name}.log")
    cluster["workers"].append(worker)
    return worker


def test_does_a_task_enqueued_by_the_web_process_run_once_on_the_worker(cluster):
    erp = cluster["erp"]
    delivery_id = _replay(cluster)
    time.sleep(1.5)
    assert erp.received == []  # queued on Redis: the web process runs no task itself
    worker = _start_worker(cluster, "worker-a")
    assert erp.wait_for(1), worker.log_path.read_text(errors="replace")[-3000:]
    time.sleep(2)  # anything sent twice would have arrived by now
    assert erp.received == [delivery_id]
    attempts, delivered_at = _row(cluster, delivery_id)
    assert attempts == 1 and delivered_at is not None
    worker.stop()


def test_does_a_worker_killed_mid_task_leave_it_to_the_next_worker(cluster):
    erp = cluster["erp"]
    erp.received.clear()
    erp.hold.set()
    first = _start_worker(cluster, "worker-killed")
    delivery_id = _replay(cluster)
    assert erp.wait_for(1), first.log_path.read_text(errors="replace")[-3000:]
    first.kill()  # mid-POST: no outcome was written
    erp.hold.clear()
    erp.release.set()
    attempts, delivered_at = _row(cluster, delivery_id)
    assert attempts == 0 and delivered_at is None  # still pending: not lost
    time.sleep(LEASE + 0.5)  # the dead worker's claim runs out
    second = _start_worker(cluster, "worker-b")
    assert erp.wait_for(2), second.log_path.read_text(errors="replace")[-3000:]
    time.sleep(2)
    assert erp.received == [delivery_id, delivery_id]  # the killed try, then exactly one more
    attempts, delivered_at = _row(cluster, delivery_id)
    assert attempts == 1 and delivered_at is not None
