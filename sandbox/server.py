"""SandboxServer: Acuity's HTTP surface (auth, params, limits, errors) over one or more Accounts."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.account import Account, AppointmentQuery
from sandbox.cache import DEFAULT_BUDGET, ResponseCache
from sandbox.faults import Fault, FaultBook
from sandbox.ratelimit import RateLimiter

API_PREFIX = "/api/v1"
RATE_LIMIT_BODY = {
    "status_code": 429,
    "error": "too_many_requests",
    "message": "Rate limit reached. Limit 10req/s and 20 concurrent connections.",
}
_APPOINTMENT = re.compile(r"^/appointments/(\d+)(/payments)?$")
_ORDER = re.compile(r"^/orders/(\d+)$")
_CHUNK = 64 * 1024
_FIELD = "field:"
# Query parameters each endpoint honours; anything else is refused with a 400 (see docs/acuity-api.md).
APPOINTMENT_PARAMS = frozenset(
    {
        "max", "minDate", "maxDate", "direction", "canceled", "showall", "calendarID", "appointmentTypeID",
        "firstName", "lastName", "email", "phone", "excludeForms",
    }
)  # fmt: skip
PARAMS = {
    "/me": frozenset(),
    "/calendars": frozenset(),
    "/appointment-types": frozenset({"includeDeleted"}),
    "/appointments": APPOINTMENT_PARAMS,
    "/clients": frozenset({"search"}),
    "/orders": frozenset({"max"}),
    "/appointment-addons": frozenset(),
    "/certificates": frozenset(),
}
# Documented by Acuity (developer docs / community OpenAPI) but not emulated: refused, never silently ignored.
NOT_EMULATED = frozenset(
    {"addonIDs", "canClientCancel", "canClientReschedule", "pastFormAnswers", "productID", "orderID"}
)


class ApiError(Exception):
    def __init__(self, status: int, message: str | None = None, error: str | None = None) -> None:
        phrase = HTTPStatus(status).phrase
        super().__init__(message or phrase)
        self.status = status
        self.body: dict[str, Any] = {
            "status_code": status,
            "message": message or phrase,
            "error": error or phrase.lower().replace(" ", "_"),
        }


@dataclass
class Reply:
    """A response; lazy `chunks` go out with chunked encoding so huge lists never sit in memory."""

    status: int = 200
    body: bytes = b""
    chunks: Iterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # send half the body, then drop the connection


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _json(value: Any) -> Reply:
    return Reply(body=_dumps(value))


def _error(err: ApiError) -> Reply:
    return Reply(status=err.status, body=_dumps(err.body))


def _json_array(items: Iterable[Any]) -> Iterator[bytes]:
    yield b"["
    for number, item in enumerate(items):
        yield (b"," if number else b"") + _dumps(item)
    yield b"]"


class _Params:
    """Query-string access with Acuity-style 400s for values that do not parse."""

    def __init__(self, query: str) -> None:
        self._values = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}

    def drop(self, name: str) -> None:
        self._values.pop(name, None)

    def only(self, allowed: frozenset[str], fields: bool = False) -> None:
        """Refuse any parameter this endpoint does not honour, so no test passes on a wrongly filtered answer.

        Real Acuity's handling of unknown parameters is not documented; the sandbox is strict on purpose.
        """
        for name in sorted(self._values):
            if name in allowed or (fields and name.startswith(_FIELD)):
                continue
            if name in NOT_EMULATED:
                raise ApiError(400, f"The {name} parameter is not supported by this sandbox.", "invalid_parameter")
            raise ApiError(400, f"Unknown parameter {name}.", "invalid_parameter")

    def fields(self) -> tuple[tuple[int, str], ...]:
        """field:<id>=<value> filters, e.g. field:5501=Instagram."""
        found = []
        for name, value in sorted(self._values.items()):
            if not name.startswith(_FIELD):
                continue
            field_id = name[len(_FIELD) :]
            if not field_id.isdigit():
                raise ApiError(400, f"The {name} parameter must name a numeric form field id.", "invalid_parameter")
            found.append((int(field_id), value))
        return tuple(found)

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if value else None

    def flag(self, name: str) -> bool:
        value = (self._values.get(name) or "").lower()
        if value not in ("", "true", "1", "false", "0"):
            raise ApiError(400, f"The {name} parameter must be true or false.", "invalid_parameter")
        return value in ("true", "1")

    def integer(self, name: str, default: int | None = None, minimum: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ApiError(400, f"The {name} parameter must be an integer.", "invalid_parameter") from None
        if minimum is not None and number < minimum:
            raise ApiError(400, f"The {name} parameter must be at least {minimum}.", "invalid_parameter")
        return number

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
        except ValueError:
            raise ApiError(400, f"The {name} parameter is not a valid date.", "invalid_date") from None


def appointment_query(params: _Params) -> AppointmentQuery:
    direction = (params.text("direction") or "DESC").upper()
    if direction not in ("ASC", "DESC"):
        raise ApiError(400, "The direction parameter must be ASC or DESC.", "invalid_parameter")
    status = "canceled" if params.flag("canceled") else "all" if params.flag("showall") else "active"
    return AppointmentQuery(
        max=params.integer("max", 100, minimum=1) or 100,
        min_date=params.day("minDate"),
        max_date=params.day("maxDate"),
        descending=direction == "DESC",
        status=status,
        calendar_id=params.integer("calendarID"),
        type_id=params.integer("appointmentTypeID"),
        first_name=params.text("firstName"),
        last_name=params.text("lastName"),
        email=params.text("email"),
        phone=params.text("phone"),
        fields=params.fields(),
        with_forms=not params.flag("excludeForms"),
    )


class SandboxServer:
    """Serves accounts keyed by user id; `request_log` records (method, path, status) per request, in the order they
    arrived: an entry is logged as its request arrives, with status None until the reply is decided (a faulted
    delay, say), so a test can act the moment a named request reaches the server."""

    def __init__(
        self,
        accounts: dict[str, tuple[str, Account]],
        rate_limit: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        cache_bytes: int = DEFAULT_BUDGET,
    ) -> None:
        self._accounts = accounts
        self.cache = ResponseCache(cache_bytes)
        self._limiter = RateLimiter() if rate_limit else None
        self._faults = FaultBook()
        self._log_lock = threading.Lock()
        self.request_log: list[tuple[str, str, int | None]] = []
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    def start(self) -> SandboxServer:
        # serve_forever checks for shutdown every poll_interval (0.5 s by default); stop() waits for that check, and
        # the embedded sandbox stops inside every `make pipeline`
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="acuity-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def inject(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        """Drop every fault not yet used up: the next request gets the real answer."""
        self._faults.clear()

    def serve_forever(self) -> None:
        """Block serving requests (CLI use); Ctrl-C propagates to the caller."""
        self._httpd.serve_forever()

    # ---- request handling --------------------------------------------------------------------------------
    def handle(self, method: str, target: str, authorization: str | None) -> Reply:
        if self._limiter is not None and not self._limiter.enter():
            return Reply(status=429, body=_dumps(RATE_LIMIT_BODY))
        try:
            return self._answer(method, target, authorization)
        except ApiError as err:
            return _error(err)
        finally:
            if self._limiter is not None:
                self._limiter.leave()

    def arrived(self, method: str, target: str) -> tuple[str, str, None]:
        """Log a request as it arrives; ``answered`` fills in its status."""
        entry = (method, target, None)
        with self._log_lock:
            self.request_log.append(entry)
        return entry

    def answered(self, entry: tuple[str, str, None], status: int) -> None:
        """The status of a logged request, once its reply is decided. Searched from the end (it is usually there),
        by identity: a caller may have emptied the log meanwhile (bench/serve.py drains it between runs)."""
        with self._log_lock:
            for index in range(len(self.request_log) - 1, -1, -1):
                if self.request_log[index] is entry:
                    self.request_log[index] = (entry[0], entry[1], status)
                    return

    def _answer(self, method: str, target: str, authorization: str | None) -> Reply:
        user_id, account = self._authenticate(authorization)
        url = urlsplit(target)
        path = url.path[len(API_PREFIX) :].rstrip("/") if url.path.startswith(API_PREFIX + "/") else None
        fault = self._faults.take(path) if path is not None else None
        if fault is not None:
            time.sleep(fault.delay)
            if fault.body is not None or fault.status >= 300:
                return self._fault_reply(fault)
        if method != "GET":
            raise ApiError(405)
        if path is None:
            raise ApiError(404)
        if fault is not None and fault.alters_answer:
            return self._altered(fault, path, _Params(url.query), user_id, account)
        return self._route(path, _Params(url.query), user_id, account)

    def _altered(self, fault: Fault, path: str, params: _Params, user_id: str, account: Account) -> Reply:
        """The real answer, changed the way `fault` says (see Fault)."""
        for name in fault.ignore_params:
            params.drop(name)
        reply = self._route(path, params, user_id, account)
        body = reply.body if reply.chunks is None else b"".join(reply.chunks)
        if fault.mangle is not None:
            body = _dumps(fault.mangle(json.loads(body)))
        return Reply(status=reply.status, body=body, headers=reply.headers, reset=fault.reset)

    def _authenticate(self, authorization: str | None) -> tuple[str, Account]:
        unauthorized = ApiError(401, "Unauthorized", "unauthorized")
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            raise unauthorized
        try:
            user_id, _, key = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized from None
        expected = self._accounts.get(user_id)
        if expected is None or not hmac.compare_digest(expected[0].encode(), key.encode()):
            raise unauthorized
        return user_id, expected[1]

    @staticmethod
    def _fault_reply(fault: Fault) -> Reply:
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        if fault.body is not None:
            return Reply(status=fault.status, body=fault.body.encode(), headers=headers)
        body = RATE_LIMIT_BODY if fault.status == 429 else ApiError(fault.status).body
        return Reply(status=fault.status, body=_dumps(body), headers=headers)

    def _route(self, path: str, params: _Params, user_id: str, account: Account) -> Reply:
        if path in PARAMS:
            params.only(PARAMS[path], fields=path == "/appointments")
            return self._list(path, params, user_id, account)
        order = _ORDER.match(path)
        if order is not None:
            params.only(frozenset())
            found_order = account.order(int(order.group(1)))
            if found_order is None:
                raise ApiError(404, f"The order {order.group(1)} could not be found.", "not_found")
            return _json(found_order)
        match = _APPOINTMENT.match(path)
        if match is None:
            raise ApiError(404)
        params.only(frozenset())
        appointment_id = int(match.group(1))
        found = account.payments(appointment_id) if match.group(2) else account.appointment(appointment_id)
        if found is None:
            raise ApiError(404, f"The appointment {appointment_id} could not be found.", "not_found")
        return _json(found)

    def _list(self, path: str, params: _Params, user_id: str, account: Account) -> Reply:
        """A list endpoint's answer, rendered once per account version and normalised parameters.

        /clients and /orders stream (chunked) so a huge answer never sits in memory while rendering; the cache keeps
        what fits its budget.
        """
        version = account.version
        query, produce = _list_request(path, params, user_id, account)
        streamed = path in ("/clients", "/orders")
        key = (user_id, version, path, query)
        cached = self.cache.get(key)
        if cached is not None:
            return Reply(chunks=iter((cached,))) if streamed else Reply(body=cached)
        if streamed:
            return Reply(chunks=self.cache.teed(key, _json_array(produce()), lambda: account.version == version))
        body = _dumps(produce())
        if account.version == version:
            self.cache.put(key, body)
        return Reply(body=body)


def _list_request(path: str, params: _Params, user_id: str, account: Account) -> tuple[Hashable, Callable[[], Any]]:
    """(the parameters that decide the answer, normalised; what renders it) for one list endpoint."""
    if path == "/appointments":
        query = appointment_query(params)
        return query, partial(account.appointments, query)
    if path == "/clients":
        search = params.text("search")
        return (search or "").strip().lower(), partial(account.clients, search)
    if path == "/orders":
        limit = params.integer("max", 100, minimum=1) or 100
        return limit, partial(account.orders, limit)
    if path == "/appointment-types":
        include_deleted = params.flag("includeDeleted")
        return include_deleted, partial(account.appointment_types, include_deleted)
    if path == "/me":
        return (), partial(account.me, int(user_id) if user_id.isdigit() else 0)
    if path == "/appointment-addons":
        return (), account.addons
    if path == "/certificates":
        return (), account.certificates
    return (), account.calendars


def _handler_for(sandbox: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """HTTP/1.1 with Content-Length or chunked bodies, so clients can keep connections alive."""

        protocol_version = "HTTP/1.1"
        # Headers and body are separate writes; with Nagle on, keep-alive clients stall ~40 ms per request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Silenced: tests and the CLI read `request_log` instead of per-request stderr noise."""

        def _serve(self) -> None:
            entry = sandbox.arrived(self.command, self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            reply = sandbox.handle(self.command, self.path, self.headers.get("Authorization"))
            sandbox.answered(entry, reply.status)
            try:
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.chunks is None:
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.reset:
                    self.wfile.write(reply.body[: len(reply.body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                elif self.command != "HEAD":
                    self.wfile.write(reply.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            buffer = bytearray()
            for piece in reply.chunks:
                buffer += piece
                if len(buffer) >= _CHUNK:
                    self._chunk(bytes(buffer))
                    buffer.clear()
            if buffer:
                self._chunk(bytes(buffer))
            self.wfile.write(b"0\r\n\r\n")

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    return Handler
