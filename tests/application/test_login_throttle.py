"""Brute-force protection on the login page, the admin's login and the API token endpoint."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpResponse
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from application import login_guard
from tests.factories import PASSWORD, user_create

pytestmark = pytest.mark.django_db

ACCOUNT_LIMIT = 3
ADDRESS_LIMIT = 6
LOCKOUT_S = 600
WRONG = "not-the-password"
HERE = "10.0.0.1"
ELSEWHERE = "10.0.0.2"


@dataclass(frozen=True)
class Endpoint:
    path: str
    api: bool
    #: What a wrong password gets before any lock-out.
    wrong_status: int
    #: What the right password gets.
    ok_status: int

    def post(self, *, username: str, password: str, address: str = HERE) -> HttpResponse:
        # A fresh client each time: a signed-in session would skip the login form altogether.
        client = APIClient() if self.api else Client()
        return client.post(self.path, {"username": username, "password": password}, REMOTE_ADDR=address)

    def signed_in(self, response: HttpResponse) -> bool:
        if self.api:
            return response.status_code == 200 and set(response.json()) == {"token"}
        return SESSION_KEY in response.client.session


ENDPOINTS = [
    Endpoint("/accounts/login/", api=False, wrong_status=200, ok_status=302),
    Endpoint("/admin/login/", api=False, wrong_status=200, ok_status=302),
    Endpoint("/api/v1/auth/token/", api=True, wrong_status=400, ok_status=200),
]


class FrozenClock:
    """The guard's clock, standing still until a test moves it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def guard(settings) -> None:
    settings.ISOMIX_LOGIN_ACCOUNT_FAILURES = ACCOUNT_LIMIT
    settings.ISOMIX_LOGIN_ADDRESS_FAILURES = ADDRESS_LIMIT
    settings.ISOMIX_LOGIN_WINDOW_S = 900
    settings.ISOMIX_LOGIN_LOCKOUT_S = LOCKOUT_S
    # An empty cache for every test: a key space of its own, on LocMem and on the Redis of
    # `make test-production` alike, where a FLUSHDB would also empty the broker's queues.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr(login_guard, "clock", frozen)
    return frozen


@pytest.fixture(params=ENDPOINTS, ids=["login-page", "admin-login", "api-token"])
def endpoint(request) -> Endpoint:
    return request.param


def account() -> AbstractBaseUser:
    # Staff, so that the admin's login accepts it too; the other endpoints ignore the flag.
    user = user_create()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def fail(endpoint: Endpoint, user: AbstractBaseUser, *, times: int, address: str = HERE) -> list[int]:
    return [endpoint.post(username=user.username, password=WRONG, address=address).status_code for _ in range(times)]


def assert_locked_out(endpoint: Endpoint, response: HttpResponse, *, retry_after_s: int, message: str) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after_s)
    assert not endpoint.signed_in(response)
    if endpoint.api:
        assert response.json() == {
            "code": "too_many_attempts",
            "message": message,
            "extra": {"retry_after_s": retry_after_s},
        }
    else:
        assert message in response.content.decode()


def test_the_right_password_after_too_many_wrong_ones_is_refused(endpoint):
    user = account()

    statuses = fail(endpoint, user, times=ACCOUNT_LIMIT)
    response = endpoint.post(username=user.username, password=PASSWORD)

    assert statuses == [endpoint.wrong_status] * (ACCOUNT_LIMIT - 1) + [429]
    assert_locked_out(
        endpoint, response, retry_after_s=LOCKOUT_S, message="Too many failed login attempts. Try again in 10 minutes."
    )
    assert Token.objects.count() == 0


def test_the_lock_is_per_account(endpoint):
    locked, other = account(), account()
    fail(endpoint, locked, times=ACCOUNT_LIMIT)

    other_here = endpoint.post(username=other.username, password=PASSWORD)
    locked_elsewhere = endpoint.post(username=locked.username, password=PASSWORD, address=ELSEWHERE)

    assert other_here.status_code == endpoint.ok_status
    assert endpoint.signed_in(other_here)
    assert locked_elsewhere.status_code == 429


def test_the_lock_is_per_address(endpoint):
    # Each account stays under its own limit; together they reach the address's.
    users = [account() for _ in range(ADDRESS_LIMIT // (ACCOUNT_LIMIT - 1))]
    statuses = [status for user in users for status in fail(endpoint, user, times=ACCOUNT_LIMIT - 1)]
    fresh = account()

    fresh_here = endpoint.post(username=fresh.username, password=PASSWORD)
    fresh_elsewhere = endpoint.post(username=fresh.username, password=PASSWORD, address=ELSEWHERE)
    guessed_elsewhere = endpoint.post(username=users[0].username, password=PASSWORD, address=ELSEWHERE)

    assert statuses == [endpoint.wrong_status] * (ADDRESS_LIMIT - 1) + [429]
    assert_locked_out(
        endpoint,
        fresh_here,
        retry_after_s=LOCKOUT_S,
        message="Too many failed login attempts. Try again in 10 minutes.",
    )
    assert fresh_elsewhere.status_code == endpoint.ok_status
    assert guessed_elsewhere.status_code == endpoint.ok_status


def test_after_the_cool_off_the_right_password_works(endpoint, clock):
    user = account()
    fail(endpoint, user, times=ACCOUNT_LIMIT)

    clock.advance(LOCKOUT_S - 1)
    last_second = endpoint.post(username=user.username, password=PASSWORD)
    clock.advance(1)
    after = endpoint.post(username=user.username, password=PASSWORD)

    assert_locked_out(
        endpoint, last_second, retry_after_s=1, message="Too many failed login attempts. Try again in 1 minute."
    )
    assert after.status_code == endpoint.ok_status
    assert endpoint.signed_in(after)


def test_after_the_cool_off_the_account_starts_a_fresh_count(endpoint, clock):
    user = account()
    fail(endpoint, user, times=ACCOUNT_LIMIT)
    clock.advance(LOCKOUT_S)

    statuses = fail(endpoint, user, times=ACCOUNT_LIMIT)

    assert statuses == [endpoint.wrong_status] * (ACCOUNT_LIMIT - 1) + [429]


def test_a_lock_out_is_logged_once_without_the_password(endpoint, caplog):
    user = account()

    with caplog.at_level(logging.WARNING, logger="application.login_guard"):
        fail(endpoint, user, times=ACCOUNT_LIMIT)
        endpoint.post(username=user.username, password=PASSWORD)

    records = [r for r in caplog.records if r.name == "application.login_guard"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("WARNING", f"Login locked out (account) for {LOCKOUT_S}s: username='{user.username}' address='{HERE}'")
    ]
    assert WRONG not in caplog.text
    assert PASSWORD not in caplog.text


def test_a_successful_login_resets_the_account_counter(endpoint):
    user = account()

    before = fail(endpoint, user, times=ACCOUNT_LIMIT - 1)
    success = endpoint.post(username=user.username, password=PASSWORD)
    after = fail(endpoint, user, times=ACCOUNT_LIMIT - 1)
    again = endpoint.post(username=user.username, password=PASSWORD)

    assert before == after == [endpoint.wrong_status] * (ACCOUNT_LIMIT - 1)
    assert success.status_code == again.status_code == endpoint.ok_status


def test_a_successful_login_does_not_reset_the_address_counter(endpoint):
    # Otherwise a guesser would clear its address's count by logging into an account of its own.
    own, targets = account(), [account() for _ in range(ADDRESS_LIMIT // (ACCOUNT_LIMIT - 1))]
    wrong, ok = endpoint.wrong_status, endpoint.ok_status

    statuses = []
    for target in targets:
        statuses += fail(endpoint, target, times=ACCOUNT_LIMIT - 1)
        statuses.append(endpoint.post(username=own.username, password=PASSWORD).status_code)

    assert statuses == [wrong, wrong, ok, wrong, wrong, ok, wrong, 429, 429]


def test_usernames_differing_in_case_share_one_count():
    endpoint = ENDPOINTS[2]
    user = account()

    statuses = [
        endpoint.post(username=name, password=WRONG).status_code
        for name in (user.username, user.username.upper(), user.username.title())
    ]

    assert statuses == [400, 400, 429]


def test_an_ipv6_client_is_counted_by_its_64_network():
    def address(remote_addr: str) -> str:
        return login_guard.client_address(type("Request", (), {"META": {"REMOTE_ADDR": remote_addr}})())

    assert address("2001:db8:1:2:aaaa::1") == address("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert address("::ffff:192.0.2.7") == "192.0.2.7"
    assert address("192.0.2.7") == "192.0.2.7"


def test_guesses_sent_all_at_once_check_no_more_passwords_than_the_limit(monkeypatch):
    import threading

    checked = []
    all_sent = threading.Barrier(3 * ACCOUNT_LIMIT, timeout=10)

    def wrong_password(request, **credentials):  # the barrier puts every guess in flight at once
        checked.append(credentials["username"])
        return None

    monkeypatch.setattr(login_guard, "authenticate", wrong_password)
    outcomes = []

    def guess() -> None:
        request = type("Request", (), {"META": {"REMOTE_ADDR": HERE}})()
        try:
            all_sent.wait()
            outcomes.append(login_guard.login_authenticate(request=request, username="ada", password="guess"))
        except login_guard.TooManyAttempts:
            outcomes.append("429")

    threads = [threading.Thread(target=guess) for _ in range(3 * ACCOUNT_LIMIT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # At most the limit's worth of passwords checked (fewer when the address limit, also
    # reached, refused some first); every other guess refused unchecked.
    assert 1 <= len(checked) <= ACCOUNT_LIMIT
    assert len(outcomes) == 3 * ACCOUNT_LIMIT and set(outcomes) <= {None, "429"}
    assert outcomes.count("429") >= 3 * ACCOUNT_LIMIT - len(checked)  # every unchecked guess refused
