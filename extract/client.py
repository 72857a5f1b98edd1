"""HTTP access to Acuity Scheduling API v1: Basic auth, retries within deadlines, a shared rate limiter and
per-attempt accounting for the run row.

Every GET ends in bounded time, in one of two ways: the decoded JSON of the shape the endpoint promises (a list, or an
object for ``/me``), or an ``AcuityError`` whose one line says what happened — stalled, truncated, not JSON, refused,
redirected, throttled beyond what we may wait — and names the endpoint, never the key.

The retry knobs are dlt's (``RUNTIME__REQUEST_MAX_ATTEMPTS``, ``_BACKOFF_FACTOR``, ``_TIMEOUT``,
``_MAX_RETRY_DELAY``, resolved the way dlt resolves them) with dlt's rules: 429, 5xx, connection errors and
timeouts are retried with exponential backoff or the server's ``Retry-After``. The loop is ours rather than dlt's
``Client`` because dlt's wraps ``Session.send``: it cannot bound a request as a whole (its timeout applies to each
socket read), stream the body, refuse a ``Retry-After`` beyond the cap instead of silently waiting the cap, announce
long waits, or count attempts that ended without a response.

Two deadlines bound the time: ``request_deadline_seconds`` for one GET from its first byte sent to its last byte
read, retries and their waits included, and ``run_deadline_seconds`` from the client's creation, after which it
starts no request. The body is streamed (``stream=True``) and read with ``Response.raw.read1`` — urllib3's
documented read of whatever has arrived — so a body trickled a byte at a time is cut at the deadline; requests'
``iter_content`` would block until a whole chunk had arrived.
"""

from __future__ import annotations

import json as std_json
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from dlt.common import json
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import IncompleteRead, ProtocolError, ReadTimeoutError

from extract.config import DEFAULT_BASE_URL
from extract.errors import AcuityAuthError, AcuityError, AcuityNotFoundError, AcuityResponseError
from extract.ratelimit import ACUITY_LIMITER, RateLimiter

DEFAULT_REQUEST_DEADLINE = 300.0
DEFAULT_RUN_DEADLINE = 3600.0
ANNOUNCE_WAITS_OVER = 3.0  # seconds: a longer wait is said on stderr, so a quiet terminal never means a hang
RETRY_STATUSES = frozenset({429, *range(500, 600)})
MAX_REDIRECTS = 5
_READ_SIZE = 1 << 20
_CLOCK_SLACK = 0.05  # seconds: a socket timeout set to the time left may fire a hair before the clock says so
_ERROR_BODY_LIMIT = 64 * 1024
_OBJECT_ENDPOINTS = re.compile(r"^/(me|appointments/\d+)$")  # every other endpoint answers a list


@dataclass
class RequestStats:
    """What the run row reports about HTTP: every attempt (retries included) is counted, by status when the server
    answered, by failure kind (``connection_error``, ``timeout``) when it did not."""

    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    last_status: dict[str, int] = field(default_factory=dict)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    bytes_received: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.statuses[str(status)] += 1
            self.last_status[endpoint] = status
            self.by_endpoint[endpoint] += 1

    def record_failure(self, endpoint: str, kind: str) -> None:
        """An attempt that got no response (refused, reset, timed out before the headers)."""
        with self._lock:
            self.requests += 1
            self.failures[kind] += 1
            self.by_endpoint[endpoint] += 1

    def add_bytes(self, size: int) -> None:
        with self._lock:
            self.bytes_received += size


@dataclass(frozen=True)
class RetryPolicy:
    """dlt's retry settings, resolved from ``RUNTIME__REQUEST_*`` (environment, config.toml) like dlt does."""

    max_attempts: int = RuntimeConfiguration.request_max_attempts
    backoff_factor: float = RuntimeConfiguration.request_backoff_factor
    timeout: float = RuntimeConfiguration.request_timeout
    max_delay: float = RuntimeConfiguration.request_max_retry_delay

    @classmethod
    def from_dlt(cls) -> RetryPolicy:
        config = resolve_configuration(RuntimeConfiguration())
        return cls(
            max_attempts=max(1, int(config.request_max_attempts)),
            backoff_factor=float(config.request_backoff_factor),
            timeout=float(config.request_timeout),
            max_delay=float(config.request_max_retry_delay),
        )

    def backoff(self, attempt: int) -> float:
        """dlt's (tenacity's) exponential wait after the ``attempt``-th try: factor * 2^(attempt-1), capped."""
        return min(self.backoff_factor * 2 ** (attempt - 1), self.max_delay)


@dataclass(frozen=True)
class _Retry:
    """An attempt that may succeed if tried again: what went wrong, in words, and what the server asked."""

    problem: str
    retry_after: float | None = None
    status: int | None = None


def announce_on_stderr(line: str) -> None:
    print(f"acuity: {line}", file=sys.stderr, flush=True)


class AcuityClient:
    """A retrying JSON client for one Acuity account, bounded by a per-request and a per-run deadline."""

    def __init__(
        self,
        base_url: str,
        user_id: str,
        api_key: str,
        *,
        limiter: RateLimiter = ACUITY_LIMITER,
        request_deadline_seconds: float = DEFAULT_REQUEST_DEADLINE,
        run_deadline_seconds: float = DEFAULT_RUN_DEADLINE,
        retry: RetryPolicy | None = None,
        announce: Callable[[str], None] = announce_on_stderr,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_id = str(user_id)
        self.stats = RequestStats()
        self.request_deadline_seconds = float(request_deadline_seconds)
        self.run_deadline_seconds = float(run_deadline_seconds)
        self.retry = retry or RetryPolicy.from_dlt()
        self._run_ends = time.monotonic() + self.run_deadline_seconds
        self._origin = _origin(self.base_url)
        self._limiter = limiter
        self._announce = announce
        self._auth = (self.user_id, api_key)
        self._local = threading.local()  # one requests.Session per thread: sessions are not thread-safe

    # ---- the public call --------------------------------------------------------------------------------------
    def get(self, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``endpoint`` (e.g. ``/appointments``): its decoded JSON, of the shape the endpoint promises, or raise
        an AcuityError with a one-line cause."""
        started = time.monotonic()
        if started >= self._run_ends:
            raise AcuityError(
                f"the run deadline ({self.run_deadline_seconds:g} s, ACUITY_RUN_DEADLINE) passed before"
                f" GET {endpoint}: the sync stopped instead of starting another request"
            )
        deadline = _Deadline(started, self.request_deadline_seconds, self._run_ends, self.run_deadline_seconds)
        try:
            return self._get_with_retries(endpoint, params, deadline)
        finally:
            with self.stats._lock:
                self.stats.seconds += time.monotonic() - started

    def _get_with_retries(self, endpoint: str, params: dict[str, Any] | None, deadline: _Deadline) -> Any:
        policy = self.retry
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(endpoint, params, deadline)
            if not isinstance(outcome, _Retry):
                return outcome.value
            if attempt >= policy.max_attempts:
                raise AcuityError(f"{outcome.problem} ({_attempts(attempt)})")
            wait = self._wait_before_retry(endpoint, outcome, attempt)
            if deadline.remaining() <= wait:
                raise AcuityError(
                    f"{outcome.problem}; gave up after {_attempts(attempt)}: another try would pass the"
                    f" {deadline.describe()}"
                )
            if wait > ANNOUNCE_WAITS_OVER:
                self._announce(
                    f"waiting {wait:.0f} s before retrying GET {endpoint} ({outcome.problem};"
                    f" attempt {attempt + 1} of {policy.max_attempts})"
                )
            time.sleep(wait)

    def _wait_before_retry(self, endpoint: str, outcome: _Retry, attempt: int) -> float:
        """dlt's rule (the server's Retry-After, else exponential backoff), except that a Retry-After beyond the
        cap fails at once: waiting the cap instead and asking again would only be refused again."""
        cap = self.retry.max_delay
        if outcome.retry_after is None:
            return self.retry.backoff(attempt)
        if outcome.retry_after > cap:
            raise AcuityError(
                f"GET {endpoint} at {self.base_url} answered HTTP {outcome.status} and asked to wait"
                f" {outcome.retry_after:g} s (Retry-After), longer than the {cap:g} s a sync may wait"
                " (RUNTIME__REQUEST_MAX_RETRY_DELAY): try again later"
            )
        return outcome.retry_after

    # ---- one attempt ------------------------------------------------------------------------------------------
    def _attempt(self, endpoint: str, params: dict[str, Any] | None, deadline: _Deadline) -> _Done | _Retry:
        """One try, following same-host redirects: the decoded answer, a retryable problem, or a raised error."""
        url = f"{self.base_url}{endpoint}"
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._send(endpoint, url, params, deadline)
            if isinstance(response, _Retry):
                return response
            with response:
                if not response.is_redirect:
                    return self._answer(endpoint, response, deadline)
                url, params = self._redirect_target(endpoint, response), None
        raise AcuityError(f"GET {endpoint} at {self.base_url} redirected more than {MAX_REDIRECTS} times")

    def _send(
        self, endpoint: str, url: str, params: dict[str, Any] | None, deadline: _Deadline
    ) -> requests.Response | _Retry:
        self._limiter.acquire()
        timeout = max(0.001, min(self.retry.timeout, deadline.remaining()))
        try:
            response = self._session().get(url, params=params, stream=True, allow_redirects=False, timeout=timeout)
        except requests.ConnectTimeout:
            self.stats.record_failure(endpoint, "timeout")
            waited = _seconds(timeout)
            return _Retry(f"timed out after {waited} s connecting to Acuity at {self.base_url} for GET {endpoint}")
        except requests.Timeout:
            self.stats.record_failure(endpoint, "timeout")
            waited = _seconds(timeout)
            return _Retry(f"timed out after {waited} s reading GET {endpoint} at {self.base_url} (no answer)")
        except requests.ConnectionError as exc:
            self.stats.record_failure(endpoint, "connection_error")
            return _Retry(f"Acuity at {self.base_url} is unreachable ({_connection_problem(exc)})")
        except requests.RequestException as exc:  # a URL requests cannot use: ACUITY_BASE_URL is wrong
            raise AcuityError(
                f"cannot send GET {endpoint} to {self.base_url} ({type(exc).__name__}): check ACUITY_BASE_URL"
                f" (default {DEFAULT_BASE_URL})"
            ) from None
        self.stats.record(endpoint, response.status_code)
        return response

    def _answer(self, endpoint: str, response: requests.Response, deadline: _Deadline) -> _Done | _Retry:
        status = response.status_code
        if status in RETRY_STATUSES or status >= 400:
            body = self._read(endpoint, response, deadline, limit=_ERROR_BODY_LIMIT)
            message = _error_message(response, body if isinstance(body, bytes) else b"")
            if status in RETRY_STATUSES:
                problem = f"GET {endpoint} at {self.base_url} failed with HTTP {status} ({message})"
                return _Retry(problem, _retry_after(response.headers.get("Retry-After")), status)
            self._raise_permanent(endpoint, status, message)
        if status >= 300:  # a 3xx that is not a redirect (304, 300 without Location)
            raise AcuityResponseError(f"GET {endpoint} at {self.base_url} answered HTTP {status} without a redirect")
        body = self._read(endpoint, response, deadline)
        if isinstance(body, _Retry):
            return body
        try:
            value, exact = _decode(body)
        except ValueError:
            return _Retry(
                f"GET {endpoint} at {self.base_url} answered a body that is not JSON (HTTP {status}, {len(body)} bytes)"
            )
        expected = dict if _OBJECT_ENDPOINTS.match(endpoint) else list
        if not isinstance(value, expected):
            return _Retry(
                f"GET {endpoint} at {self.base_url} answered {_json_kind(value)} where"
                f" {'an object' if expected is dict else 'a list'} was expected"
            )
        if exact:
            self._announce(
                f"GET {endpoint} answered values the fast JSON parser refuses or would round (a number beyond a"
                " double such as 1e309, an integer beyond 64 bits, a lone surrogate): read exactly instead; the"
                " records holding them are flagged or quarantined"
            )
        return _Done(value)

    def _read(
        self, endpoint: str, response: requests.Response, deadline: _Deadline, limit: int | None = None
    ) -> bytes | _Retry:
        """The whole body, or as much as ``limit``; a stall, a cut or a deadline is reported, not raised past us.

        Each read returns what has arrived (``read1``), so the deadline is checked at least once per socket read,
        and each socket read is itself bounded by the time left.
        """
        chunks: list[bytes] = []
        received = 0
        where = f"GET {endpoint} at {self.base_url}"
        try:
            while limit is None or received < limit:
                if deadline.remaining() <= 0:
                    raise AcuityError(
                        f"timed out after {deadline.elapsed():.0f} s reading {where}: {received} bytes arrived"
                        f" before the {deadline.describe()} passed"
                    )
                deadline.bound_socket(response)
                chunk = response.raw.read1(_READ_SIZE, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
        except ReadTimeoutError:
            if deadline.remaining() <= _CLOCK_SLACK:
                raise AcuityError(
                    f"timed out after {deadline.elapsed():.0f} s reading {where}: {received} bytes arrived before"
                    f" the {deadline.describe()} passed"
                ) from None
            waited = _seconds(self.retry.timeout)
            return _Retry(f"timed out after {waited} s reading {where} ({received} bytes arrived)")
        except (ProtocolError, IncompleteRead) as exc:
            if _is_truncation(exc):
                expected = response.headers.get("Content-Length")
                of = f" of {expected}" if expected else ""
                return _Retry(f"{where} answered a truncated body ({received}{of} bytes, then the connection closed)")
            return _Retry(f"{where} broke off while sending its body ({_connection_problem(exc)})")
        except (Urllib3Error, OSError) as exc:
            return _Retry(f"{where} broke off while sending its body ({type(exc).__name__})")
        finally:
            self.stats.add_bytes(received)
        return b"".join(chunks)

    def _redirect_target(self, endpoint: str, response: requests.Response) -> str:
        """Follow a redirect only within the API's own origin: credentials never leave it."""
        target = urljoin(response.url, response.headers.get("Location", ""))
        if _origin(target, upgrade_from=self._origin) != self._origin:
            parts = urlsplit(target)
            host = parts.hostname or "an unnamed host"
            if parts.port:
                host = f"{host}:{parts.port}"
            raise AcuityResponseError(
                f"GET {endpoint} was redirected to {host}; refusing to send credentials off {self._origin[1]}"
                " (check ACUITY_BASE_URL)"
            )
        return target

    def _raise_permanent(self, endpoint: str, status: int, message: str) -> None:
        where = f"GET {endpoint} at {self.base_url}"
        if status in (401, 403):
            raise AcuityAuthError(
                f"Acuity refused the credentials for user id {self.user_id} (HTTP {status}: {message}) on {where}:"
                " check ACUITY_USER_ID and ACUITY_API_KEY (Acuity > Integrations > API)"
            )
        if status == 404:
            raise AcuityNotFoundError(
                f"{where} returned HTTP 404 ({message}): check ACUITY_BASE_URL (default {DEFAULT_BASE_URL})"
            )
        raise AcuityError(f"{where} failed with HTTP {status} ({message})")

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.auth = self._auth
            session.headers["User-Agent"] = "acuity-elt"
            # trust_env stays on: proxies and CA bundles from the environment work; ~/.netrc is never consulted
            # because the session carries its own auth
        return session


@dataclass(frozen=True)
class _Done:
    value: Any


class _Deadline:
    """The earlier of the request's and the run's deadline, and which one it is."""

    def __init__(self, started: float, request_seconds: float, run_ends: float, run_seconds: float) -> None:
        self.started = started
        request_ends = started + request_seconds
        self.ends = min(request_ends, run_ends)
        self._text = (
            f"{request_seconds:g} s request deadline (ACUITY_REQUEST_DEADLINE)"
            if request_ends <= run_ends
            else f"{run_seconds:g} s run deadline (ACUITY_RUN_DEADLINE)"
        )

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def describe(self) -> str:
        return self._text

    def bound_socket(self, response: requests.Response) -> None:
        """Let the next socket read wait no longer than the time left, so a trickle stops at the deadline.

        The connection is urllib3's documented ``HTTPResponse.connection``; its ``sock`` is http.client's. When
        either is absent (a finished or pooled response) the read timeout set at send time still bounds the read.
        """
        connection = getattr(response.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            sock.settimeout(max(0.001, min(self.remaining(), sock.gettimeout() or self.remaining())))


def decode_json(body: bytes) -> Any:
    """dlt's fast decoder (orjson), falling back to the standard library for valid JSON that orjson refuses or
    would change.

    orjson rejects numbers beyond a double (``1e309``) and lone surrogates in strings, and turns integers beyond 64
    bits into floats (silently losing digits); the standard library reads all of them exactly (``1e309`` as
    ``inf``), and the record checks then flag or quarantine those records instead of the whole answer being "not
    JSON" or a number quietly changing. Raises ValueError when the body is not JSON at all.
    """
    return _decode(body)[0]


def _decode(body: bytes) -> tuple[Any, bool]:
    """decode_json's value, and whether it took the standard library's exact (slower) parse."""
    if not _may_hold_huge_integers(body):
        try:
            return json.loadb(body), False
        except ValueError:
            pass
    try:
        return std_json.loads(body), True
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19
_SCAN_WINDOW = 1 << 20


def _may_hold_huge_integers(body: bytes) -> bool:
    """True when a JSON number of 19+ digits may be in ``body`` (a run of digits right after ``:``, ``[`` or ``,``).

    Runs of digits inside strings (ids in URLs) are common, numbers that long are not; a false positive only costs
    the slower exact parse. The scan maps digits to ``0`` a window at a time and lets ``bytes.find`` look for 19 of
    them: a regular expression over a 100 MB answer takes seconds, this a small fraction of the parse itself.
    """
    for offset in range(0, len(body), _SCAN_WINDOW):
        window = body[offset : offset + _SCAN_WINDOW + 18].translate(_DIGITS_AS_ZERO)
        found = window.find(_NINETEEN_DIGITS)
        while found != -1:
            start = offset + found
            while start > 0 and body[start - 1] in b"0123456789 \t\r\n-":
                start -= 1
            if start == 0 or body[start - 1] in b":[,":
                return True
            found = window.find(_NINETEEN_DIGITS, found + 19)
    return False


def _origin(url: str, upgrade_from: tuple[str, str, int] | None = None) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL; an http→https upgrade of ``upgrade_from``'s host counts as the same origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = -1
    if upgrade_from is not None and upgrade_from[0] == "http" and scheme == "https" and host == upgrade_from[1]:
        return upgrade_from
    return scheme, host, port


def _retry_after(header: str | None) -> float | None:
    """Seconds the server asked to wait: a number (dlt reads whole seconds; fractions are honoured here too) or
    an HTTP date; None when absent or unreadable."""
    if not header:
        return None
    text = header.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return seconds if seconds > 0 and seconds == seconds else None


def _error_message(response: requests.Response, body: bytes) -> str:
    """Acuity's error body is ``{status_code, message, error}``; fall back to the reason phrase."""
    try:
        parsed = std_json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict) and (parsed.get("message") or parsed.get("error")):
        return " ".join(str(parsed.get("message") or parsed.get("error")).split())[:200]
    return response.reason or "no message"


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def _seconds(value: float) -> str:
    """A duration for a message: whole seconds, or two figures below one (a timeout cut to the time left)."""
    return f"{value:.0f}" if value >= 1 else f"{value:.2g}"


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _is_truncation(exc: BaseException) -> bool:
    return isinstance(exc, IncompleteRead) or any(isinstance(arg, IncompleteRead) for arg in exc.args)


def _connection_problem(exc: BaseException) -> str:
    """The innermost cause of a connection failure, in a few words (no URL, which the caller names)."""
    text = str(exc)
    for needle, words in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("Connection reset", "connection reset by the server"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
        ("Connection aborted", "connection aborted"),
        ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate did not verify"),
    ):
        if needle in text:
            return words
    return type(exc).__name__
