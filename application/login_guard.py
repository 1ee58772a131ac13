"""Brute-force protection for every way in with a password.

The login page, the admin's login page and the API token endpoint all authenticate through
:func:`login_authenticate`, which counts failures per account and per client address in the
Django cache (Redis in production, so every web process sees the same counts) and refuses
further attempts for a cool-off once either count reaches its limit.

Why our own guard and not django-axes: axes has one failure limit for every parameter (we want
a low one per account and a higher one per address, since many people share an address), it
hooks in through Django's auth signals and an authentication backend plus middleware (the
house keeps signals out of its flows), and its lock-out answer needs a custom callable to
become the house JSON shape with a ``Retry-After``. What we need is three cache keys per
attempt; that is less code than the configuration that bends axes into it.

Settings (read on every call, so tests can change them):

- ``ISOMIX_LOGIN_ACCOUNT_FAILURES``: failures for one username before it is locked.
- ``ISOMIX_LOGIN_ADDRESS_FAILURES``: failures from one address before it is locked.
- ``ISOMIX_LOGIN_WINDOW_S``: how long, in seconds, a failure is remembered.
- ``ISOMIX_LOGIN_LOCKOUT_S``: the cool-off, in seconds, once a limit is reached.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from domain.exceptions import TooManyAttempts

logger = logging.getLogger(__name__)

#: The guard's clock, in seconds since the epoch. Lock-outs are compared against it (not left
#: to cache expiry alone), so tests move time forward by replacing it.
clock: Callable[[], float] = time.time

_PREFIX = "isomix:login"


def _account_key(username: str) -> str:
    # Case-folded so that "Alice" and "alice" share one count whatever the auth backend
    # does with case; hashed so that any string makes a short, safe cache key.
    digest = hashlib.sha256(username.casefold().encode()).hexdigest()
    return f"{_PREFIX}:account:{digest}"


def _address_key(address: str) -> str:
    return f"{_PREFIX}:address:{address}"


def client_address(request: Any) -> str:
    """The address that attempts are counted against: ``REMOTE_ADDR``.

    An IPv6 client owns at least a /64, so an address there is its /64 network: otherwise
    one attacker would get 2**64 fresh counts. The proxy set-up decides what ``REMOTE_ADDR``
    holds; headers a client could forge are not read here.
    """
    raw = (getattr(request, "META", None) or {}).get("REMOTE_ADDR", "") or ""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _message(retry_after_s: int) -> str:
    minutes = max(1, math.ceil(retry_after_s / 60))
    return ngettext(
        "Too many failed login attempts. Try again in %(minutes)d minute.",
        "Too many failed login attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _locked_for(*, keys: list[str], now: float) -> int:
    """Seconds until every one of ``keys`` is unlocked (0: none is locked)."""
    until = max(cache.get_many([f"{key}:locked-until" for key in keys]).values(), default=0.0)
    return max(0, math.ceil(until - now))


def _attempt_count(*, key: str) -> int:
    """Count one attempt against ``key`` (as a failure until it proves right); the new count."""
    failures_key = f"{key}:failures"
    # add + incr: atomic on Redis, so concurrent web processes never lose a count.
    cache.add(failures_key, 0, timeout=settings.ISOMIX_LOGIN_WINDOW_S)
    try:
        return cache.incr(failures_key)
    except ValueError:  # the window ran out between add and incr
        cache.set(failures_key, 1, timeout=settings.ISOMIX_LOGIN_WINDOW_S)
        return 1


def _lock(*, key: str, now: float) -> None:
    lockout_s = settings.ISOMIX_LOGIN_LOCKOUT_S
    cache.set(f"{key}:locked-until", now + lockout_s, timeout=lockout_s)
    # The count is kept through the lock: an attempt already on its way then still counts past
    # the limit. It starts afresh once the cool-off is over (:func:`_cool_off_end`).


def _cool_off_end(*, keys: list[str], now: float) -> None:
    """Forget the count of a key whose lock is over: one more mistake then is not a new lock-out."""
    until = cache.get_many([f"{key}:locked-until" for key in keys])
    over = [name.removesuffix(":locked-until") for name, value in until.items() if value <= now]
    if over:
        cache.delete_many([f"{key}:{part}" for key in over for part in ("failures", "locked-until")])


def _lock_out(*, reached: list[tuple[str, str]], username: str, address: str, now: float) -> TooManyAttempts:
    for _, key in reached:
        _lock(key=key, now=now)
    wait = settings.ISOMIX_LOGIN_LOCKOUT_S
    # %r: a username is whatever the client typed, newlines included.
    logger.warning(
        "Login locked out (%s) for %ds: username=%r address=%r",
        "+".join(name for name, _ in reached),
        wait,
        username,
        address,
    )
    return TooManyAttempts(_message(wait), retry_after_s=wait)


@sensitive_variables("password")
def login_authenticate(*, request: Any, username: str, password: str) -> AbstractBaseUser | None:
    """Authenticate ``username``/``password`` unless the account or the address is locked.

    Returns the user, or None for wrong credentials (counted). Raises
    :class:`~domain.exceptions.TooManyAttempts` while a lock-out lasts, without checking the
    password (so the right one does not get in either), and on the failure that starts one.
    A success resets the account's count, not the address's: a client must not be able to
    clear its address count by logging into an account of its own between guesses.

    Each attempt is counted before its password is checked, so guesses sent all at once
    each take a place in the count, and those past the limit are refused unchecked.
    """
    now = clock()
    account, address = _account_key(username), client_address(request)
    keys = [account, _address_key(address)] if address else [account]
    if wait := _locked_for(keys=keys, now=now):
        raise TooManyAttempts(_message(wait), retry_after_s=wait)
    _cool_off_end(keys=keys, now=now)

    counted = [("account", account, _attempt_count(key=account), settings.ISOMIX_LOGIN_ACCOUNT_FAILURES)]
    if address:
        key = _address_key(address)
        counted.append(("address", key, _attempt_count(key=key), settings.ISOMIX_LOGIN_ADDRESS_FAILURES))
    over = [(name, key) for name, key, count, limit in counted if count > limit]
    if over:  # others reached the limit while this one was on its way: not checked at all
        raise _lock_out(reached=over, username=username, address=address, now=now)

    user = authenticate(request, username=username, password=password)
    if user is not None:
        cache.delete(f"{account}:failures")
        if address:
            try:
                cache.decr(f"{_address_key(address)}:failures")  # a success is not a failure
            except ValueError:
                pass
        return user

    reached = [(name, key) for name, key, count, limit in counted if count >= limit]
    if reached:
        raise _lock_out(reached=reached, username=username, address=address, now=now)
    return None


def password_confirm(*, request: Any, user: AbstractBaseUser, password: str) -> bool:
    """Whether ``password`` is the signed-in ``user``'s, checked through the same guard as a login
    (a password typed again to change the email or delete the account): a stolen session cannot
    guess it without limit. Raises :class:`~domain.exceptions.TooManyAttempts` during a lock-out."""
    checked = login_authenticate(request=request, username=user.get_username(), password=password)
    return checked is not None and checked.pk == user.pk


class GuardedLoginFormMixin:
    """An ``AuthenticationForm`` whose ``clean`` authenticates through the guard.

    After a lock-out the form is invalid with one non-field error, and ``lockout`` holds the
    exception so that :func:`login_throttled` can answer 429 with ``Retry-After``.
    """

    lockout: TooManyAttempts | None = None

    @sensitive_variables()
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = login_authenticate(request=self.request, username=username, password=password)
            except TooManyAttempts as exc:
                self.lockout = exc
                raise ValidationError(exc.message, code=str(exc.code)) from exc
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(GuardedLoginFormMixin, AuthenticationForm):
    pass


class AdminLoginForm(GuardedLoginFormMixin, AdminAuthenticationForm):
    pass


def login_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a Django ``LoginView``-style view: a locked-out form is answered 429 + Retry-After.

    The view must render its form into a ``TemplateResponse`` as ``form`` (Django's
    ``LoginView`` and the admin's ``login`` do), built from a :class:`GuardedLoginFormMixin`.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        lockout = getattr(form, "lockout", None)
        if lockout is not None:
            response.status_code = 429
            response["Retry-After"] = str(lockout.retry_after_s)
        return response

    return wrapped
