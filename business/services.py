"""Writes of the business app: a user's account and the settings kept on it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from business.models import Account
from domain.exceptions import ErrorCode, IsoMixError


def account_get_or_create(*, user: AbstractBaseUser) -> Account:
    """The user's account, created with the defaults the first time it is asked for.

    Two first requests of one user at once both try to create it: the one that loses the
    race reads the winner's row instead of failing on the unique user.
    """
    account = Account.objects.filter(user=user).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = Account(user=user)
            # The database's unique user decides the race (a uniqueness query here could not).
            account.full_clean(validate_unique=False)
            account.save()
            return account
    except IntegrityError:
        return Account.objects.get(user=user)


def language_check(*, language: str) -> str:
    """``language`` when it is a code of ``settings.LANGUAGES`` or ``""`` (follow the browser);
    anything else raises ``invalid_input``."""
    codes = [code for code, _name in settings.LANGUAGES]
    if language not in codes and language != "":
        raise IsoMixError(
            _("“%(language)s” is not a language of the studio.") % {"language": language[:20]},
            code=ErrorCode.INVALID_INPUT,
            extra={"choices": codes},
        )
    return language


def account_language_set(*, user: AbstractBaseUser, language: str) -> Account:
    """Save the language the user reads the studio in (see :func:`language_check`); a refused
    language changes nothing."""
    language_check(language=language)
    account = account_get_or_create(user=user)
    if account.language != language:
        account.language = language
        account.full_clean()
        account.save(update_fields=["language", "updated_at"])
    return account
