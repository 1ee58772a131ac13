"""Pages of plans and the account: pricing, the account page, email change, account deletion.

- ``/pricing/`` (public): every plan with its limits in plain words and its prices, the
  visitor's plan marked. Subscribe and "Manage subscription" are buttons that
  static/js/billing.js turns into a POST to the billing API, then a redirect to Stripe; with
  billing off (no Stripe keys, the embedded default) there are none, and the page says that an
  operator assigns plans.
- ``/account/``: the plan, the usage meters with their reset dates, the subscription's state,
  a notice after a downgrade (until when the songs are kept), the email change form, the link
  to the password change, and the account deletion form.
- ``/account/email/`` and ``/account/delete/`` take those two forms' POSTs; a refused form
  shows the account page again with its errors (a GET goes back to the account page).

The plain words of a plan's limits are made here too (:func:`plan_features`, :func:`money`),
for the library's upload box and the mixer's export panel as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from application.pages.forms import AccountDeleteForm, EmailChangeForm
from business.exceptions import upgrade_url
from business.models import Account, Plan, Subscription
from business.selectors import (
    Meter,
    billing_enabled,
    plan_and_usage_for_user,
    plan_for_user,
    plan_list,
    subscription_for_user,
    subscription_in_grace,
    subscription_is_paid,
)
from domain.models import ENGINE_MODELS, MODEL_LABELS
from domain.selectors import project_list_for_user

# ---------------------------------------------------------------- plain words of a plan

#: Currency symbols the studio knows; another currency is written with its code after the amount.
CURRENCY_SYMBOLS = {
    # pt-BR writes the US dollar "US$": translatable, like the amount's layout below.
    "usd": pgettext_lazy("currency symbol of the US dollar", "$"),
    "eur": "€",
    "gbp": "£",
    "brl": "R$",
}


def number(value: int | Decimal, *, decimals: int | None = None) -> str:
    """``value`` as the page's language writes numbers (grouping included: 3,000 / 3.000)."""
    return formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def money(*, cents: int, currency: str) -> str:
    """A price as the page's language writes it: ``$9``, ``$7.50``, ``US$ 9,00`` in pt-BR."""
    decimals = 0 if cents % 100 == 0 else 2
    amount = number(Decimal(cents) / 100, decimals=decimals)
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    if symbol is None:
        return f"{amount} {currency.upper()}"
    return pgettext("a price: currency symbol, then the amount", "%(symbol)s%(amount)s") % {
        "symbol": symbol,
        "amount": amount,
    }


def engine_names(engines: list[str] | tuple[str, ...]) -> list[str]:
    """The plan's engines in plain words, in the plan's order (test-only models left out)."""
    return [str(MODEL_LABELS[ENGINE_MODELS[e]]) for e in engines if e in ENGINE_MODELS and e != "demucs_unittest"]


def export_words(*, formats_: list[str] | tuple[str, ...], mp3_max_kbps: int) -> str:
    """What a plan exports: ``MP3 up to 192 kbps`` or ``MP3 up to 320 kbps, WAV, FLAC``."""
    parts = [_("MP3 up to %(kbps)s kbps") % {"kbps": mp3_max_kbps}]
    parts += [f.upper() for f in formats_ if f not in ("mp3", "zip")]
    return ", ".join(parts)


@dataclass(frozen=True)
class Feature:
    """One line of a plan's card: what it allows, and (optionally) how it is counted."""

    key: str
    text: str
    detail: str = ""


def plan_features(plan: Plan) -> list[Feature]:
    """Every limit of ``plan`` in plain words, in the order a musician asks about them."""
    n = plan.separation_minutes_per_month
    exports = export_words(formats_=plan.export_formats, mp3_max_kbps=plan.mp3_max_kbps)
    features = [
        Feature(
            "upload",
            _("Songs up to %(mb)s MB and %(minutes)s minutes long")
            % {"mb": number(plan.max_upload_mb), "minutes": number(plan.max_duration_min)},
        ),
        Feature(
            "uploads",
            ngettext("%(count)s upload a day", "%(count)s uploads a day", plan.uploads_per_day)
            % {"count": number(plan.uploads_per_day)},
        ),
        Feature(
            "separation",
            ngettext("%(count)s separation minute a month", "%(count)s separation minutes a month", n)
            % {"count": number(n)},
            _("Song minutes × stems: a 4-minute song split into 4 stems uses 16."),
        ),
        Feature(
            "jobs",
            ngettext("%(count)s job at a time", "%(count)s jobs at a time", plan.concurrent_jobs)
            % {"count": number(plan.concurrent_jobs)},
        ),
        Feature("engines", _("Separation: %(engines)s") % {"engines": ", ".join(engine_names(plan.engines))}),
        Feature(
            "exports",
            _("Exports: %(formats)s") % {"formats": exports},
        ),
    ]
    if "zip" in plan.export_formats:
        features.append(Feature("zip", _("All the stems in one zip")))
    days = plan.retention_days
    retention = (
        _("Songs kept until you delete them")
        if days <= 0
        else ngettext("Songs kept %(count)s day", "Songs kept %(count)s days", days) % {"count": number(days)}
    )
    features += [
        Feature("retention", retention),
        Feature(
            "lyrics",
            ngettext(
                "Karaoke lyrics for %(count)s song a month",
                "Karaoke lyrics for %(count)s songs a month",
                plan.lyrics_per_month,
            )
            % {"count": number(plan.lyrics_per_month)},
        ),
        Feature(
            "remixes",
            ngettext("%(count)s remix a month", "%(count)s remixes a month", plan.remixes_per_month)
            % {"count": number(plan.remixes_per_month)},
        ),
        Feature(
            "priority",
            _("Priority queue: your songs are separated first") if plan.priority else _("Standard queue"),
        ),
    ]
    return features


# ---------------------------------------------------------------- pricing


@dataclass(frozen=True)
class PlanCard:
    plan: Plan
    name: str
    free: bool
    monthly: str
    yearly: str
    #: The yearly price per month ("$7.50"), when the plan has both prices.
    yearly_per_month: str
    features: list[Feature]
    current: bool


def plan_card(plan: Plan, *, current: Plan | None) -> PlanCard:
    cents_m, cents_y = plan.monthly_price_cents, plan.yearly_price_cents
    return PlanCard(
        plan=plan,
        name=plan.display_name,
        free=not plan.is_paid and cents_m == 0 and cents_y == 0,
        monthly=money(cents=cents_m, currency=plan.currency) if cents_m else "",
        yearly=money(cents=cents_y, currency=plan.currency) if cents_y else "",
        yearly_per_month=money(cents=round(cents_y / 12), currency=plan.currency) if cents_y and cents_m else "",
        features=plan_features(plan),
        current=current is not None and current.pk is not None and current.pk == plan.pk,
    )


def pricing(request: HttpRequest) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    current = plan_for_user(user=user) if user is not None else None
    subscription = subscription_for_user(user=user) if user is not None else None
    return render(
        request,
        "accounts/pricing.html",
        {
            "cards": [plan_card(plan, current=current) for plan in plan_list()],
            "billing_enabled": billing_enabled(),
            # A customer Stripe knows manages (or cancels) the subscription in its portal.
            "subscribed": subscription is not None and subscription_is_paid(subscription),
            "checkout_url": reverse("api:billing-checkout"),
            "portal_url": reverse("api:billing-portal"),
        },
    )


# ---------------------------------------------------------------- the account page


@dataclass(frozen=True)
class MeterView:
    """A usage meter as the account page shows it (separation in minutes: the ledger counts seconds)."""

    key: str
    label: str
    used: int
    limit: int
    resets_at: datetime
    daily: bool

    @property
    def used_text(self) -> str:
        return number(self.used)

    @property
    def limit_text(self) -> str:
        return number(self.limit)

    @property
    def meter_max(self) -> int:
        """``<meter max>`` (a meter needs max > min, even for an allowance of 0)."""
        return max(1, self.limit)

    @property
    def meter_high(self) -> int:
        """From here the meter turns to its warning colour: 80 % of the allowance."""
        return math.ceil(0.8 * self.meter_max)


def meter_views(meters: dict[str, Meter]) -> list[MeterView]:
    shown = [
        ("uploads", _("Uploads today"), meters["uploads"], True),
        ("separation", _("Separation minutes this month"), meters["separation_s"].in_minutes(), False),
        ("lyrics", _("Karaoke lyrics this month"), meters["lyrics"], False),
        ("remixes", _("Remixes this month"), meters["remixes"], False),
    ]
    return [MeterView(key, label, m.used, m.limit, m.resets_at, daily=daily) for key, label, m, daily in shown]


def _account_of(user: AbstractBaseUser) -> Account | None:
    """The user's account row (made on their first upload or setting), or ``None`` before that."""
    try:
        return user.account
    except ObjectDoesNotExist:
        return None


def _songs_kept_until(*, user: AbstractBaseUser, account: Account, retention_days: int) -> datetime | None:
    """After a downgrade: when the first of the user's songs goes (the earliest ``expires_at``),
    else the downgrade plus the plan's retention; ``None`` when the plan keeps songs for ever."""
    if retention_days <= 0:
        return None
    first = (
        project_list_for_user(user=user)
        .exclude(expires_at=None)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    return first or account.downgraded_at + timedelta(days=retention_days)


def _subscription_state(subscription: Subscription | None, *, now: datetime) -> dict[str, Any]:
    if subscription is None:
        return {}
    # Pro stays after a failed payment until the grace period ends; after that, only the status.
    in_grace = subscription_in_grace(subscription, now=now)
    return {
        "status": subscription.get_status_display(),
        "status_code": subscription.status,
        "interval": subscription.get_interval_display() if subscription.interval else "",
        "renews_at": None if subscription.cancel_at_period_end else subscription.current_period_end,
        "cancels_at": subscription.current_period_end if subscription.cancel_at_period_end else None,
        "grace_until": subscription.grace_until if in_grace else None,
        "ended": subscription.status in (Subscription.Status.CANCELED, Subscription.Status.INCOMPLETE_EXPIRED),
    }


def account_context(
    request: HttpRequest, *, email_form: EmailChangeForm | None = None, delete_form: AccountDeleteForm | None = None
) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    plan, meters = plan_and_usage_for_user(user=user, now=now)
    account = _account_of(user)
    subscription = subscription_for_user(user=user)
    assigned_until = None
    if account is not None and account.plan_id is not None and account.plan_id == plan.pk:
        assigned_until = account.plan_until
    kept_until = None
    if account is not None and account.downgraded_at is not None and not plan.is_paid:
        kept_until = _songs_kept_until(user=user, account=account, retention_days=plan.retention_days)
        if kept_until is not None and kept_until <= now:
            kept_until = None  # those songs are gone: nothing left to warn about
    return {
        "plan": plan,
        "plan_name": plan.display_name,
        "assigned_until": assigned_until,
        "meters": meter_views(meters),
        "subscription": _subscription_state(subscription, now=now),
        "billing_enabled": billing_enabled(),
        "portal_url": reverse("api:billing-portal"),
        "upgrade_url": upgrade_url(),
        "kept_until": kept_until,
        "retention_days": plan.retention_days,
        "checkout_done": request.GET.get("checkout") == "done",
        "email_form": email_form or EmailChangeForm(user=user),
        "delete_form": delete_form or AccountDeleteForm(user=user),
    }


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html", account_context(request))


@login_required
def account_email(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("account")
    form = EmailChangeForm(request.POST, user=request.user, request=request)
    if form.is_valid() and form.save():
        messages.success(request, _("Your email address is now %(email)s.") % {"email": request.user.email})
        return redirect("account")
    return render(request, "accounts/account.html", account_context(request, email_form=form))


@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("account")
    form = AccountDeleteForm(request.POST, user=request.user, request=request)
    if form.is_valid() and form.save():
        logout(request)
        messages.success(request, _("Your account was deleted, with every song, stem and export in it."))
        return redirect("login")
    return render(request, "accounts/account.html", account_context(request, delete_form=form))
