"""An Acuity-compatible server over pre-serialised bytes: the honest server for the floor and the syncs.

The sandbox renders every response per request (~10 MB/s), so a floor fetched from it is several times too generous
to any pipeline measured against it (issue 16). Here an account is captured from the sandbox ONCE (one request per
endpoint, every row, canceled included), written to a cache directory, and served from memory: each appointment and
order is kept as its own JSON bytes, and an answer is a filter over precomputed local dates plus one ``b",".join``.
What it honours is what the extractor and the peers depend on: Basic auth, ``minDate``/``maxDate`` on the local
date (inclusive), ``max`` (default 100, silent truncation), ``direction`` (default DESC), ``showall``/``canceled``,
``/orders`` newest first with ``max``, Acuity's error bodies, and optionally the 10 requests/second limit counted as
Acuity's message says: no more than 10 arrivals in any sliding second (a 429 otherwise, counted in the log).
"""

from __future__ import annotations

import base64
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from dlt.common import json

API_PREFIX = "/api/v1"
WHOLE = ("me", "calendars", "appointment-types", "clients")
ALL = 10**9  # a max that no capture reaches
RATE_LIMIT_BODY = json.dumpb(
    {
        "status_code": 429,
        "error": "too_many_requests",
        "message": "Rate limit reached. Limit 10req/s and 20 concurrent connections.",
    }
)
UNAUTHORIZED_BODY = json.dumpb({"status_code": 401, "message": "Unauthorized", "error": "unauthorized"})


def capture(base_url: str, auth: tuple[str, str], cache: Path) -> None:
    """Fetch every record of the account once from ``base_url`` (the sandbox) and write the cache files."""
    cache.mkdir(parents=True, exist_ok=True)
    with requests.Session() as session:
        session.auth = auth

        def get(endpoint: str, params: dict[str, Any] | None = None) -> Any:
            response = session.get(f"{base_url.rstrip('/')}/{endpoint}", params=params, timeout=1800)
            response.raise_for_status()
            return json.loadb(response.content)

        for name in WHOLE:
            (cache / f"{name}.json").write_bytes(json.dumpb(get(name)))
        for name, params in (
            ("appointments", {"max": ALL, "direction": "ASC", "showall": "true"}),
            ("orders", {"max": ALL}),
        ):
            rows = get(name, params)
            (cache / f"{name}.jsonl").write_bytes(b"\n".join(json.dumpb(row) for row in rows) + b"\n")
    (cache / "complete").write_text("ok\n")  # written last: a killed capture is captured again


@dataclass
class Snapshot:
    whole: dict[str, bytes]  # endpoint -> the whole body
    appointments: list[bytes]  # ascending by start instant, as the sandbox sorted them
    local_dates: list[str]  # each appointment's local ISO date (``datetime[:10]``)
    canceled: list[bool]
    orders: list[bytes]  # newest first

    @classmethod
    def load(cls, cache: Path) -> Snapshot:
        whole = {name: (cache / f"{name}.json").read_bytes() for name in WHOLE}
        appointments = (cache / "appointments.jsonl").read_bytes().splitlines()
        dates, canceled = [], []
        for line in appointments:
            row = json.loadb(line)
            dates.append(str(row.get("datetime") or "")[:10])
            canceled.append(row.get("canceled") is True)
        orders = (cache / "orders.jsonl").read_bytes().splitlines()
        return cls(whole, appointments, dates, canceled, orders)

    def rows(self) -> int:
        return len(self.appointments) + len(self.orders) + len(json.loadb(self.whole["clients"]))


def _json_list(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


class SlidingSecond:
    """At most ``limit`` arrivals in any sliding second; a refused arrival does not count."""

    def __init__(self, limit: int = 10, window: float = 1.0) -> None:
        self._limit, self._window = limit, window
        self._arrivals: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> bool:
        with self._lock:
            now = time.monotonic()
            while self._arrivals and now - self._arrivals[0] >= self._window:
                self._arrivals.popleft()
            if len(self._arrivals) >= self._limit:
                return False
            self._arrivals.append(now)
            return True


class StaticAcuity:
    """Serves one ``Snapshot`` for one user id / key; ``request_log`` holds (method, target, status)."""

    def __init__(self, snapshot: Snapshot, user_id: str, api_key: str, rate_limit: bool) -> None:
        self.snapshot = snapshot
        self._authorization = "Basic " + base64.b64encode(f"{user_id}:{api_key}".encode()).decode()
        self._limiter = SlidingSecond() if rate_limit else None
        self.request_log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    def __enter__(self) -> StaticAcuity:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._thread.join()
        self._httpd.server_close()

    def answer(self, target: str, authorization: str | None) -> tuple[int, bytes]:
        if self._limiter is not None and not self._limiter.admit():
            return 429, RATE_LIMIT_BODY
        if authorization != self._authorization:
            return 401, UNAUTHORIZED_BODY
        parts = urlsplit(target)
        endpoint = parts.path.removeprefix(API_PREFIX).strip("/")
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if endpoint in self.snapshot.whole:
            return 200, self.snapshot.whole[endpoint]
        try:
            limit = int(params.get("max") or 100)
        except ValueError:
            return 400, json.dumpb({"status_code": 400, "message": "max must be an integer", "error": "invalid"})
        if endpoint == "orders":
            return 200, _json_list(self.snapshot.orders[: max(limit, 0)])
        if endpoint == "appointments":
            return 200, _json_list(self._appointments(params, limit))
        return 404, json.dumpb({"status_code": 404, "message": "Not Found", "error": "not_found"})

    def _appointments(self, params: dict[str, str], limit: int) -> list[bytes]:
        snapshot = self.snapshot
        low, high = params.get("minDate") or "", params.get("maxDate") or "9999-99-99"
        wanted: bool | None = None  # which `canceled` values are served: both (None), only True, only False
        if params.get("canceled", "").lower() == "true":
            wanted = True
        elif params.get("showall", "").lower() != "true":
            wanted = False
        order = range(len(snapshot.appointments))
        if params.get("direction", "DESC").upper() == "DESC":
            order = reversed(order)
        picked: list[bytes] = []
        for i in order:
            if len(picked) >= limit:
                break
            if low <= snapshot.local_dates[i] <= high and (wanted is None or snapshot.canceled[i] == wanted):
                picked.append(snapshot.appointments[i])
        return picked

    def record(self, method: str, target: str, status: int) -> None:
        with self._log_lock:
            self.request_log.append((method, target, status))


def _handler_for(server: StaticAcuity) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes

        def log_message(self, format: str, *args: Any) -> None:
            """Silenced: the bench reads ``request_log``."""

        def do_GET(self) -> None:
            status, body = server.answer(self.path, self.headers.get("Authorization"))
            server.record("GET", self.path, status)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler
