"""HTTP access to Acuity Scheduling API v1: Basic auth, dlt's retrying session, a shared rate limiter and
per-request accounting for the run row.

Retries (429 with or without Retry-After, 5xx, timeouts, dropped connections) are dlt's: the session comes from
``dlt.sources.helpers.requests.Client``, configured by the usual ``RUNTIME__REQUEST_*`` settings. What is left here is
what dlt cannot know: which failures are permanent for Acuity and how to say so in one line without the key.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dlt.common import json
from dlt.sources.helpers.requests import Client, Response

from extract.errors import AcuityAuthError, AcuityError, AcuityNotFoundError, AcuityResponseError
from extract.ratelimit import ACUITY_LIMITER, RateLimiter

DEFAULT_BASE_URL = "https://acuityscheduling.com/api/v1"


@dataclass
class RequestStats:
    """What the run row reports about HTTP: every attempt (retries included) is counted by status."""

    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    last_status: dict[str, int] = field(default_factory=dict)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    bytes_received: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, endpoint: str, status: int, size: int) -> None:
        with self._lock:
            self.requests += 1
            self.statuses[str(status)] += 1
            self.last_status[endpoint] = status
            self.by_endpoint[endpoint] += 1
            self.bytes_received += size


class AcuityClient:
    """A thin, retrying JSON client for one Acuity account."""

    def __init__(
        self,
        base_url: str,
        user_id: str,
        api_key: str,
        *,
        limiter: RateLimiter = ACUITY_LIMITER,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_id = str(user_id)
        self.stats = RequestStats()
        self._limiter = limiter
        self._endpoint = threading.local()
        self._http = Client(
            raise_for_status=False,
            retry_condition=_body_is_not_json,
            session_attrs={"auth": (self.user_id, api_key), "hooks": {"response": [self._on_response]}},
        )

    def get(self, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``endpoint`` (e.g. ``/appointments``) and return its decoded JSON, or raise a one-line error."""
        url = f"{self.base_url}{endpoint}"
        self._endpoint.name = endpoint
        started = time.perf_counter()
        self._limiter.acquire()
        try:
            response = self._http.get(url, params=params)
        except Exception as exc:  # connection errors after dlt's retries are exhausted
            raise AcuityError(f"Acuity at {self.base_url} is unreachable: {type(exc).__name__}") from None
        finally:
            self.stats.seconds += time.perf_counter() - started
        self._raise_for_status(endpoint, response)
        if hasattr(response, _PARSED):
            return getattr(response, _PARSED)
        raise AcuityResponseError(
            f"Acuity kept returning a body that is not JSON for GET {endpoint} (HTTP {response.status_code},"
            f" {len(response.content)} bytes) after retries"
        )

    def _on_response(self, response: Response, *args: Any, **kwargs: Any) -> Response:
        """requests hook: runs for every attempt, so retried 429/5xx show up in the run's status counts."""
        self.stats.record(getattr(self._endpoint, "name", "?"), response.status_code, len(response.content))
        return response

    def _raise_for_status(self, endpoint: str, response: Response) -> None:
        status = response.status_code
        if status < 400:
            return
        message = _error_message(response)
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
        raise AcuityError(f"{where} failed with HTTP {status} ({message}) after retries")


_PARSED = "_acuity_json"


def _body_is_not_json(response: Response | None, exception: BaseException | None) -> bool:
    """Retry predicate: a 200 whose body does not parse (truncated, malformed) is retried like a 5xx.

    The decoded body is kept on the response, so a good answer is parsed exactly once (with dlt's orjson-backed
    decoder, several times faster than the standard library's on large lists).
    """
    if response is None or response.status_code >= 300:
        return False
    try:
        setattr(response, _PARSED, json.loadb(response.content))
    except ValueError:
        return True
    return False


def _error_message(response: Response) -> str:
    """Acuity's error body is ``{status_code, message, error}``; fall back to the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no message"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or response.reason)
    return response.reason or "no message"
