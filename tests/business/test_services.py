"""The account: made on demand, one per user, and the language saved on it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from django.test import Client

from business.models import Account
from business.selectors import account_language_for_user
from business.services import account_get_or_create, account_language_set, language_check
from domain.exceptions import ErrorCode, IsoMixError
from tests.factories import user_create

pytestmark = pytest.mark.django_db


def test_the_account_is_made_once_with_the_browser_language():
    user = user_create()

    first = account_get_or_create(user=user)
    second = account_get_or_create(user=user)

    assert first.pk == second.pk
    assert first.language == ""
    assert Account.objects.filter(user=user).count() == 1


def test_a_race_for_the_first_account_reads_the_winners_row(monkeypatch):
    # Given another request that creates the account between our read and our insert
    user = user_create()
    winner = Account.objects.create(user=user, language="pt-br")
    real_filter = Account.objects.filter
    calls = []

    def filter_missing_once(*args, **kwargs):
        calls.append(kwargs)
        queryset = real_filter(*args, **kwargs)
        return queryset.none() if len(calls) == 1 else queryset

    monkeypatch.setattr(Account.objects, "filter", filter_missing_once)

    # When we ask for it, then we get that row, not an error
    assert account_get_or_create(user=user).pk == winner.pk
    assert real_filter(user=user).count() == 1


def test_the_unique_user_is_enforced_by_the_database():
    user = user_create()
    Account.objects.create(user=user)

    with pytest.raises(IntegrityError):
        Account.objects.create(user=user)


@pytest.mark.parametrize("language", ["en", "pt-br", ""])
def test_a_language_of_the_studio_is_saved(language):
    user = user_create()

    account = account_language_set(user=user, language=language)

    assert account.language == language
    assert account_language_for_user(user=user) == language


@pytest.mark.parametrize("language", ["pt_BR", "PT-BR", "es", "en-us", " en"])
def test_any_other_language_is_refused_and_nothing_is_saved(language):
    user = user_create()

    with pytest.raises(IsoMixError) as refused:
        account_language_set(user=user, language=language)

    assert refused.value.code == ErrorCode.INVALID_INPUT
    assert refused.value.extra == {"choices": ["en", "pt-br"]}
    assert not Account.objects.exists()


def test_the_refusal_quotes_at_most_a_short_piece_of_what_was_sent():
    with pytest.raises(IsoMixError) as refused:
        language_check(language="z" * 10_000)

    assert refused.value.message == f"“{'z' * 20}” is not a language of the studio."


def test_a_user_without_an_account_follows_the_browser():
    assert account_language_for_user(user=user_create()) == ""


def test_operators_see_accounts_in_the_admin():
    admin = user_create()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    account_language_set(user=user_create(), language="pt-br")
    client = Client()
    client.force_login(admin)

    listing = client.get("/admin/business/account/?language__exact=pt-br")

    assert listing.status_code == 200
    assert len(listing.context["cl"].result_list) == 1
