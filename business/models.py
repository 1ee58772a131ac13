"""Who may do what, and what it costs: plans, accounts, subscriptions, the usage ledger.

- ``Plan`` is data: every limit and allowance an operator can change in the admin. Free and
  Pro come from a data migration; one plan is the default (what an account without anything
  else gets) and one is what a paid subscription gives (``Plan.is_paid``).
- ``Account`` is one per user: the language of the studio, and a plan an operator assigned
  (optionally until a date: "grant Pro for 30 days").
- ``Subscription`` mirrors the user's Stripe subscription as the webhook events describe it.
- ``UsageRecord`` is the ledger: one row per unit of work accepted (reserved), then committed
  when the work succeeded or released when it failed, so a failed job costs nothing.
- ``StripeEvent`` is every webhook event received, stored in the same transaction as its
  effect, so each is handled once.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

#: Everything an export can be, as the plan lists it ("zip" is the archive of the stems).
EXPORT_CHOICES = ("mp3", "wav", "flac", "zip")
#: Every separation engine a plan can allow (model.engines.ENGINE_NAMES without "auto").
ENGINE_CHOICES = ("offline", "htdemucs", "htdemucs_ft", "htdemucs_6s", "demucs_unittest")


def _names_check(value, *, choices: tuple[str, ...], what: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("A list of names."))
    unknown = sorted(set(value) - set(choices))
    if unknown:
        raise ValidationError(
            _("Unknown %(what)s: %(names)s. Choose among %(choices)s.")
            % {"what": what, "names": ", ".join(unknown), "choices": ", ".join(choices)}
        )


def validate_export_list(value) -> None:
    _names_check(value, choices=EXPORT_CHOICES, what=_("export formats"))


def validate_engine_list(value) -> None:
    _names_check(value, choices=ENGINE_CHOICES, what=_("engines"))


class Plan(models.Model):
    slug = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0, help_text=_("Place on the pricing page."))
    is_default = models.BooleanField(
        _("default plan"), default=False, help_text=_("The plan of every account without another one (one plan).")
    )
    is_paid = models.BooleanField(
        _("paid plan"), default=False, help_text=_("The plan an active Stripe subscription gives (one plan).")
    )
    monthly_price_cents = models.PositiveIntegerField(_("monthly price (cents)"), default=0)
    yearly_price_cents = models.PositiveIntegerField(_("yearly price (cents)"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="usd")

    max_upload_mb = models.PositiveIntegerField(_("largest upload (MB)"))
    max_duration_min = models.PositiveIntegerField(_("longest song (minutes)"))
    uploads_per_day = models.PositiveIntegerField(_("uploads per day"))
    separation_minutes_per_month = models.PositiveIntegerField(
        _("separation minutes per month"), help_text=_("Metered as song minutes × stems.")
    )
    concurrent_jobs = models.PositiveSmallIntegerField(_("jobs at once"))
    engines = models.JSONField(
        _("separation engines"), default=list, validators=[validate_engine_list],
        help_text=_("Engines the plan may use, where this installation has their weights."),
    )  # fmt: skip
    export_formats = models.JSONField(
        _("export formats"), default=list, validators=[validate_export_list],
        help_text=_("Of mp3, wav, flac and zip (the archive of the stems)."),
    )  # fmt: skip
    mp3_max_kbps = models.PositiveSmallIntegerField(_("best MP3 bit rate (kb/s)"), default=192)
    retention_days = models.PositiveSmallIntegerField(
        _("retention (days)"), help_text=_("How long songs are kept. 0: forever.")
    )
    lyrics_per_month = models.PositiveIntegerField(_("karaoke lyrics per month"))
    remixes_per_month = models.PositiveIntegerField(_("remixes per month"))
    priority = models.BooleanField(_("priority queue"), default=False)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="plan_one_default"
            ),
            models.UniqueConstraint(fields=["is_paid"], condition=models.Q(is_paid=True), name="plan_one_paid"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The plan's name in the reader's language for the plans the studio ships with."""
        known = {"free": _("Free"), "pro": _("Pro")}
        return str(known.get(self.slug, self.name))

    def clean(self) -> None:
        if "mp3" not in self.export_formats and self.export_formats:
            raise ValidationError({"export_formats": _("Every plan exports MP3.")})


class Account(models.Model):
    """One per user, made on demand (``business.services.account_get_or_create``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account", verbose_name=_("user")
    )
    #: A code of ``settings.LANGUAGES``; blank follows the browser (Accept-Language).
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("The language of the studio's pages for this user. Blank: the browser's language."),
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts", verbose_name=_("assigned plan"),
        help_text=_("A plan an operator gave this account. Empty: the default plan (or the subscription's)."),
    )  # fmt: skip
    plan_until = models.DateTimeField(
        _("assigned plan until"), null=True, blank=True, help_text=_("Empty: for as long as it is assigned.")
    )
    #: Bumped by every quota reservation: the first write of its transaction, so that two
    #: reservations of one account run one after the other on SQLite and PostgreSQL alike.
    usage_lock = models.PositiveBigIntegerField(default=0, editable=False)
    #: The plan whose retention the account's songs were last given (business.services.account_plan_sync).
    applied_plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    #: When the account last fell back to a plan with a shorter retention (shown on the account page).
    downgraded_at = models.DateTimeField(_("downgraded at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return str(self.user)


class Subscription(models.Model):
    """The account's Stripe subscription, as the events about it last described it."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("Incomplete")
        INCOMPLETE_EXPIRED = "incomplete_expired", _("Expired before payment")
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment overdue")
        UNPAID = "unpaid", _("Unpaid")
        PAUSED = "paused", _("Paused")
        CANCELED = "canceled", _("Cancelled")

    class Interval(models.TextChoices):
        MONTH = "month", _("Monthly")
        YEAR = "year", _("Yearly")

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="subscription")
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=24, choices=Status.choices, blank=True)
    interval = models.CharField(max_length=8, choices=Interval.choices, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    grace_until = models.DateTimeField(
        null=True, blank=True, help_text=_("Pro stays until then after a failed payment.")
    )
    #: Stripe's ``created`` (seconds) and lifecycle rank of the event that last set the state:
    #: an older event never overwrites it (see business.billing).
    state_at = models.BigIntegerField(default=0)
    state_rank = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return f"{self.account} · {self.status or '-'}"


class UsageRecord(models.Model):
    class Metric(models.TextChoices):
        UPLOADS = "uploads", _("Uploads")
        SEPARATION_SECONDS = "separation_s", _("Separation (song seconds × stems)")
        LYRICS = "lyrics", _("Karaoke lyrics")
        REMIXES = "remixes", _("Remixes")

    class State(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        COMMITTED = "committed", _("Used")
        RELEASED = "released", _("Released")

    COUNTED = (State.RESERVED, State.COMMITTED)

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    amount = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.RESERVED)
    #: The job whose work this is (kept as an id: the project, and with it the job, may be deleted).
    job_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        indexes = [models.Index(fields=["account", "metric", "created_at"])]

    def __str__(self) -> str:
        return f"{self.account} · {self.metric} {self.amount} · {self.state}"


class StripeEvent(models.Model):
    """A webhook event, stored in the transaction that applied it: its id is handled once."""

    id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=64, db_index=True)
    created = models.BigIntegerField(help_text=_("Stripe's timestamp of the event (seconds)."))
    payload = models.JSONField()
    account = models.ForeignKey(Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(auto_now_add=True)
    result = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-handled_at"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self) -> str:
        return f"{self.type} · {self.id}"
