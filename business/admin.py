"""The operators' view of the business app: plans (every limit), accounts and their usage,
subscriptions, the usage ledger and Stripe's webhook events; a user's plan and usage on their
own admin page.

Stripe is the source of subscriptions and events: the admin shows them and changes nothing
there. Plans and an account's assigned plan are the operators' to change; a change of plan is
applied at once (``account_plan_sync``), as the webhook applies Stripe's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from business.admin_forms import PlanAdminForm, PlanGrantForm
from business.exceptions import BillingError
from business.models import Account, Plan, StripeEvent, Subscription, UsageRecord
from business.selectors import plan_for_account, plan_paid, subscription_is_paid, usage_for_user
from business.services import account_delete, account_get_or_create, account_plan_sync, plan_grant

#: Usage records shown on an account's page (the newest; the rest are a link away).
RECENT_USAGE = 20


def _when(moment: datetime | None) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"


def _price(cents: int, currency: str) -> str:
    return f"{cents / 100:.2f} {currency.upper()}"


def _usage_table(user) -> SafeString:
    """The user's meters (used / limit, when each resets) as a small table; separation in minutes."""
    labels = {
        UsageRecord.Metric.UPLOADS: _("Uploads today"),
        UsageRecord.Metric.SEPARATION_SECONDS: _("Separation minutes (song minutes × stems) this month"),
        UsageRecord.Metric.LYRICS: _("Karaoke lyrics this month"),
        UsageRecord.Metric.REMIXES: _("Remixes this month"),
    }
    rows = []
    for metric, meter in usage_for_user(user=user).items():
        used, limit = meter.used, meter.limit
        if metric == UsageRecord.Metric.SEPARATION_SECONDS:
            used, limit = -(-used // 60), limit // 60  # whole minutes, a started one counted
        rows.append((labels.get(metric, metric), used, limit, _when(meter.resets_at)))
    head = format_html(
        "<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>",
        _("Allowance"), _("Used"), _("Limit"), _("Resets"),
    )  # fmt: skip
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return format_html('<table class="isomix-usage">{}<tbody>{}</tbody></table>', head, body)


def _subscription_summary(account: Account) -> str:
    subscription = Subscription.objects.filter(account=account).first()
    if subscription is None or not subscription.stripe_subscription_id:
        return gettext("None")
    status, Status = subscription.get_status_display() or "—", Subscription.Status
    if subscription.status in (Status.CANCELED, Status.INCOMPLETE_EXPIRED):
        return status
    if subscription.status in (Status.PAST_DUE, Status.UNPAID) and subscription.grace_until:
        return gettext("%(status)s: the paid plan until %(when)s") % {
            "status": status, "when": _when(subscription.grace_until),
        }  # fmt: skip
    values = {"status": status, "when": _when(subscription.current_period_end)}
    if subscription.cancel_at_period_end:
        return gettext("%(status)s, cancelled: ends %(when)s") % values
    return gettext("%(status)s, renews %(when)s") % values


def _plan_in_use(plan: Plan) -> str:
    """Why ``plan`` may not be deleted (what uses it), or ``""`` when nothing does."""
    if plan.is_default:
        return gettext("it is the default plan, the plan of every account without another one. Make another "
                       "plan the default first.")  # fmt: skip
    if plan.is_paid:
        return gettext("it is the paid plan, the plan an active subscription gives. Make another plan the paid "
                       "one first.")  # fmt: skip
    accounts = Account.objects.filter(Q(plan=plan) | Q(applied_plan=plan)).count()
    if accounts:
        return ngettext(
            "%(count)d account is on it. Assign that account another plan first.",
            "%(count)d accounts are on it. Assign those accounts another plan first.",
            accounts,
        ) % {"count": accounts}
    return ""


# ---------------------------------------------------------------- plans


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanAdminForm
    list_display = ["display_name", "slug", "is_default", "is_paid", "monthly_price", "yearly_price",
                    "max_upload_mb", "max_duration_min", "uploads_per_day", "separation_minutes_per_month",
                    "concurrent_jobs", "retention_days", "accounts_assigned"]  # fmt: skip
    list_display_links = ["display_name", "slug"]
    search_fields = ["slug", "name"]
    fieldsets = [
        (_("Identity and price"), {"fields": ["name", "slug", "order", "is_default", "is_paid",
                                               "monthly_price_cents", "yearly_price_cents", "currency"]}),
        (_("Uploads"), {"fields": ["max_upload_mb", "max_duration_min", "uploads_per_day"]}),
        (_("Separation"), {"fields": ["separation_minutes_per_month", "engines"]}),
        (_("Exports"), {"fields": ["export_formats", "mp3_max_kbps"]}),
        (_("Retention"), {"fields": ["retention_days"]}),
        (_("Karaoke and remix"), {"fields": ["lyrics_per_month", "remixes_per_month"]}),
        (_("Queue"), {"fields": ["concurrent_jobs", "priority"]}),
    ]  # fmt: skip

    @admin.display(description=_("name"), ordering="name")
    def display_name(self, plan: Plan) -> str:
        return plan.display_name

    @admin.display(description=_("monthly price"), ordering="monthly_price_cents")
    def monthly_price(self, plan: Plan) -> str:
        return _price(plan.monthly_price_cents, plan.currency)

    @admin.display(description=_("yearly price"), ordering="yearly_price_cents")
    def yearly_price(self, plan: Plan) -> str:
        return _price(plan.yearly_price_cents, plan.currency)

    @admin.display(description=_("accounts assigned"))
    def accounts_assigned(self, plan: Plan) -> int:
        return plan.accounts.count()

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the check of delete_view
        return actions

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        """A plan in use is not deleted: the operator is told what uses it, on the plan's page."""
        plan = self.get_object(request, unquote(object_id))
        if plan is not None and (reason := _plan_in_use(plan)):
            message = gettext("The plan “%(plan)s” cannot be deleted: %(reason)s") % {
                "plan": plan.display_name, "reason": reason,
            }  # fmt: skip
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:business_plan_change", args=[plan.pk]))
        return super().delete_view(request, object_id, extra_context)


# ---------------------------------------------------------------- accounts


class RecentUsageFormSet(BaseInlineFormSet):
    """Only the account's newest usage records (a busy account has thousands)."""

    def get_queryset(self) -> QuerySet[UsageRecord]:
        if not hasattr(self, "_recent"):
            queryset = super().get_queryset()
            self._recent = queryset.filter(pk__in=list(queryset.values_list("pk", flat=True)[:RECENT_USAGE]))
        return self._recent


class _ReadOnly:
    """Records another part writes (Stripe's events, the ledger, the summary of an account):
    operators look, nothing more. For model admins and inlines alike."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class _AccountSummary:
    """The read-only fields that sum an account up, for its own page and its user's."""

    @admin.display(description=_("plan now"))
    def plan_now(self, account: Account) -> str:
        return plan_for_account(account).display_name

    @admin.display(description=_("subscription"))
    def subscription_state(self, account: Account) -> str:
        return _subscription_summary(account)

    @admin.display(description=_("usage this period"))
    def usage(self, account: Account) -> SafeString:
        return _usage_table(account.user)


class UsageRecordInline(_ReadOnly, admin.TabularInline):
    model = UsageRecord
    extra = max_num = 0
    formset = RecentUsageFormSet
    verbose_name_plural = _("recent usage records")
    fields = ["metric", "amount", "state", "job_id", "created_at", "settled_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Account)
class AccountAdmin(_AccountSummary, admin.ModelAdmin):
    list_display = ["user", "plan_now", "plan", "plan_until", "language", "created_at"]
    list_filter = ["plan", "language"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user", "plan", "subscription"]
    raw_id_fields = ["user"]
    fieldsets = [
        (None, {"fields": ["user", "language"]}),
        (_("Plan"), {"fields": ["plan_now", "plan", "plan_until", "subscription_state", "downgraded_at"]}),
        (_("Usage"), {"fields": ["usage", "usage_records"]}),
        (_("Dates"), {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = ["plan_now", "subscription_state", "downgraded_at", "usage", "usage_records", "created_at",
                       "updated_at"]  # fmt: skip
    inlines = [UsageRecordInline]
    actions = ["grant_paid_plan"]

    add_fieldsets = [(None, {"fields": ["user", "language", "plan", "plan_until"]})]

    def get_fieldsets(self, request: HttpRequest, obj: Account | None = None):
        return self.fieldsets if obj is not None else self.add_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None):
        # An account belongs to one user for good: the user is chosen when it is made, not changed.
        return [*self.readonly_fields, "user"] if obj is not None else []

    def get_inlines(self, request: HttpRequest, obj: Account | None = None):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        # An account alone is not deleted (the next request would make a fresh one, its usage
        # forgotten): delete its user, which deletes everything.
        return False

    @admin.display(description=_("usage records"))
    def usage_records(self, account: Account) -> SafeString:
        url = reverse("admin:business_usagerecord_changelist") + f"?account__id__exact={account.pk}"
        return format_html('<a href="{}">{}</a>', url, _("All of this account’s usage records"))

    def save_model(self, request: HttpRequest, obj: Account, form, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            account_plan_sync(account=obj)  # the new plan's retention, at once

    @admin.action(description=_("Grant Pro for N days…"))
    def grant_paid_plan(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        """Ask for N on an intermediate page, then give each selected account the paid plan for N days."""
        paid = plan_paid()
        if paid is None:
            self.message_user(request, gettext("No plan is the paid plan: mark one as paid first."), messages.ERROR)
            return None
        form = PlanGrantForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Grant %(plan)s") % {"plan": paid.display_name},
                "opts": self.model._meta,
                "form": form,
                "plan": paid,
                "queryset": queryset,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action_name": "grant_paid_plan",
            }
            return TemplateResponse(request, "admin/business/account/grant_plan.html", context)
        days = form.cleaned_data["days"]
        accounts = list(queryset.select_related("plan", "subscription", "applied_plan"))
        with transaction.atomic():  # all the selected accounts, or none
            for account in accounts:
                plan_grant(account=account, plan=paid, days=days)
        message = ngettext(
            "Granted %(plan)s for %(days)d days to %(count)d account.",
            "Granted %(plan)s for %(days)d days to %(count)d accounts.",
            len(accounts),
        ) % {"plan": paid.display_name, "days": days, "count": len(accounts)}
        self.message_user(request, message, messages.SUCCESS)
        return None


# ---------------------------------------------------------------- a user's own page


class AccountSummaryInline(_ReadOnly, _AccountSummary, admin.StackedInline):
    """The user's plan and usage on their admin page (read-only; the account's page changes it)."""

    model = Account
    verbose_name = verbose_name_plural = _("plan and usage")  # one account: the heading is the singular
    max_num = 1
    fields = ["plan_now", "plan", "plan_until", "subscription_state", "usage", "account_link"]
    readonly_fields = fields

    @admin.display(description=_("account"))
    def account_link(self, account: Account) -> SafeString:
        url = reverse("admin:business_account_change", args=[account.pk])
        return format_html('<a href="{}">{}</a>', url, _("Change the plan, see the usage records"))


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with the user's plan and usage (the account) below; deleting a user
    deletes everything they have, as their own account deletion does (``account_delete``)."""

    inlines = [*DjangoUserAdmin.inlines, AccountSummaryInline]

    def get_inlines(self, request: HttpRequest, obj=None):
        return super().get_inlines(request, obj) if obj is not None else DjangoUserAdmin.inlines

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # The account is made on demand everywhere (business.services.account_get_or_create):
        # the summary then shows for a user who never opened a page since plans came.
        user = self.get_object(request, unquote(object_id))
        if user is not None:
            account_get_or_create(user=user)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_deleted_objects(self, objs, request: HttpRequest):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # The account, its ledger and its subscription go with their user: no operator deletes
        # them alone (their admins are read-only there), so they need no permission of their own.
        with_the_user = {m._meta.verbose_name for m in (Account, Subscription, UsageRecord)}
        return deleted, counts, {p for p in perms_needed if p not in with_the_user}, protected

    def delete_model(self, request: HttpRequest, obj) -> None:
        account_delete(user=obj)  # the subscription cancelled, the projects' files deleted

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            account_delete(user=user)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except BillingError as exc:  # Stripe did not cancel the subscription: nothing was deleted
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[object_id]))


# ---------------------------------------------------------------- Stripe's records and the ledger


@admin.register(Subscription)
class SubscriptionAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["account", "status", "interval", "current_period_end", "cancel_at_period_end", "grace_until",
                    "stripe_customer_id", "stripe_subscription_id", "gives_paid_plan"]  # fmt: skip
    list_filter = ["status", "interval", "cancel_at_period_end"]
    search_fields = ["account__user__username", "account__user__email", "stripe_customer_id",
                     "stripe_subscription_id"]  # fmt: skip
    list_select_related = ["account__user"]
    fieldsets = [
        (None, {
            "fields": ["account", "status", "gives_paid_plan", "interval", "current_period_start",
                       "current_period_end", "cancel_at_period_end", "payment_failed_at", "grace_until"],
            "description": _("Stripe is the source of these fields: the next event about this subscription would "
                             "overwrite a change made here, so none can be. Change a subscription in Stripe’s "
                             "dashboard (or the customer, in the billing portal)."),
        }),
        (_("Stripe"), {"fields": ["stripe_customer_id", "stripe_subscription_id", "state_at", "state_rank"]}),
        (_("Dates"), {"fields": ["created_at", "updated_at"]}),
    ]  # fmt: skip
    readonly_fields = [f.name for f in Subscription._meta.fields] + ["gives_paid_plan"]

    @admin.display(description=_("gives the paid plan"), boolean=True)
    def gives_paid_plan(self, subscription: Subscription) -> bool:
        return subscription_is_paid(subscription)


@admin.register(UsageRecord)
class UsageRecordAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["account", "metric", "amount", "state", "job_id", "created_at", "settled_at"]
    list_filter = ["metric", "state", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["account__user__username"]
    list_select_related = ["account__user"]
    readonly_fields = ["account", "metric", "amount", "state", "job_id", "created_at", "settled_at"]


@admin.register(StripeEvent)
class StripeEventAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["id", "type", "created_date", "account", "handled_at", "result"]
    list_filter = ["type", "handled_at"]
    search_fields = ["id", "type", "account__user__username"]
    list_select_related = ["account__user"]
    fields = ["id", "type", "created_date", "account", "handled_at", "result", "payload_pretty"]
    readonly_fields = fields

    @admin.display(description=_("created"), ordering="created")
    def created_date(self, event: StripeEvent) -> str:
        return _when(datetime.fromtimestamp(event.created, tz=UTC))

    @admin.display(description=_("payload"))
    def payload_pretty(self, event: StripeEvent) -> SafeString:
        text = json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html("<pre>{}</pre>", text)
