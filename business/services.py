"""Writes of the business app: a user's account, the settings kept on it, and its plan."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from business.models import Account, Plan
from business.selectors import email_taken, plan_default, plan_for_account
from domain.exceptions import ErrorCode, IsoMixError
from domain.models import Project, StyleSound
from domain.services import project_delete, projects_expiry_cap, projects_expiry_extend, style_delete


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
            default = plan_default()
            account = Account(user=user, applied_plan=default if default.pk is not None else None)
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


def _kept_days(days: int) -> float:
    return float("inf") if days <= 0 else float(days)


def account_plan_sync(*, account: Account, now: datetime | None = None) -> Plan:
    """Give the account's songs the retention of the plan it is on now, once per plan change.

    A plan that keeps songs longer (an upgrade) keeps every song that long from its upload; one
    that keeps them for less (a downgrade) keeps them until its retention, counted from the
    change, runs out, so nothing disappears at once and the account page can say until when.
    Returns the plan the account is on.
    """
    now = now or timezone.now()
    plan = plan_for_account(account, now=now)
    if plan.pk is None or account.applied_plan_id == plan.id:
        return plan
    before = account.applied_plan
    if before is not None:
        if _kept_days(plan.retention_days) < _kept_days(before.retention_days):
            projects_expiry_cap(owner_id=account.user_id, until=now + timedelta(days=plan.retention_days))
            account.downgraded_at = now
        elif _kept_days(plan.retention_days) > _kept_days(before.retention_days):
            projects_expiry_extend(owner_id=account.user_id, retention_days=plan.retention_days)
            account.downgraded_at = None
    account.applied_plan = plan
    account.save(update_fields=["applied_plan", "downgraded_at", "updated_at"])
    return plan


def accounts_plan_sweep(*, now: datetime | None = None) -> int:
    """Apply the plan changes that time alone makes (an operator's grant or a grace period that
    ended); events and the admin apply theirs at once. Returns how many accounts changed plan."""
    now = now or timezone.now()
    changed = 0
    default = plan_default()
    candidates = Account.objects.select_related("plan", "subscription", "applied_plan")
    if default.pk is not None:
        candidates = candidates.exclude(applied_plan=default)
    for account_id in candidates.values_list("id", flat=True):
        with transaction.atomic():
            # Read again under a lock: a webhook applying a payment meanwhile has the last word.
            account = candidates.select_for_update(of=("self",)).get(id=account_id)
            before = account.applied_plan_id
            account_plan_sync(account=account, now=now)
            if account.applied_plan_id != before:
                changed += 1
    return changed


def plan_grant(*, account: Account, plan: Plan, days: int, now: datetime | None = None) -> Account:
    """An operator gives the account ``plan`` for ``days`` days from now (then it falls back)."""
    if days <= 0:
        raise IsoMixError(_("A grant lasts at least one day."), code=ErrorCode.INVALID_INPUT)
    now = now or timezone.now()
    with transaction.atomic():
        account.plan = plan
        account.plan_until = now + timedelta(days=days)
        account.full_clean()
        account.save(update_fields=["plan", "plan_until", "updated_at"])
        account_plan_sync(account=account, now=now)
    return account


def account_email_set(*, user: AbstractBaseUser, email: str) -> AbstractBaseUser:
    """Change the user's email address (the caller has checked their password): a valid address
    no other user has, compared without regard to case."""
    email = get_user_model().objects.normalize_email(email.strip())
    try:
        validate_email(email)
    except ValidationError as exc:
        raise IsoMixError(_("Enter a valid email address."), code=ErrorCode.INVALID_INPUT) from exc
    if email_taken(email=email, exclude_user_id=user.pk):
        raise IsoMixError(_("Another account uses this email address."), code=ErrorCode.INVALID_INPUT)
    user.email = email
    user.save(update_fields=["email"])
    return user


def account_delete(*, user: AbstractBaseUser) -> None:
    """Delete the user with everything they have: the subscription is cancelled in Stripe first
    (a failure there stops here and deletes nothing), then every project and its files, then the
    user, their style sounds and their files, their account, usage and tokens (cascades)."""
    from business.billing import subscription_cancel_for_account

    account = Account.objects.filter(user_id=user.pk).select_related("subscription").first()
    if account is not None:
        subscription_cancel_for_account(account=account)
    with transaction.atomic():  # all of it or none; the files go once it commits
        for project in Project.objects.filter(owner_id=user.pk):
            project_delete(project=project)
        for style in StyleSound.objects.filter(owner_id=user.pk):
            style_delete(style=style)  # the user's own recordings go with them, files and all
        get_user_model().objects.filter(pk=user.pk).delete()
