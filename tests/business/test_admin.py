"""The operators' admin: plans with every limit, accounts with their usage and the grant action,
subscriptions, the ledger and Stripe's events read-only, and a user's plan and usage on their page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from business.models import Account, Plan, StripeEvent, Subscription, UsageRecord
from business.selectors import plan_for_account
from business.services import account_get_or_create
from domain.models import Project
from tests.factories import project_create_ready, user_create
from tests.helpers import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> Client:
    admin = user_create(username="operator")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _records(account: Account, metric: str, *amounts: int, state: str = UsageRecord.State.COMMITTED) -> None:
    now = timezone.now()
    UsageRecord.objects.bulk_create(
        UsageRecord(account=account, metric=metric, amount=a, state=state, created_at=now) for a in amounts
    )


def _subscribed_account() -> Account:
    account = account_get_or_create(user=user_create(username="subscriber"))
    Subscription.objects.create(
        account=account, stripe_customer_id="cus_admin1", stripe_subscription_id="sub_admin1", status="active",
        interval="month", current_period_start=timezone.now(), current_period_end=timezone.now() + timedelta(days=30),
    )  # fmt: skip
    return account


def test_every_page_of_the_business_admin_loads_for_a_superuser(operator):
    # Given one row of each model
    account = _subscribed_account()
    _records(account, UsageRecord.Metric.UPLOADS, 1)
    StripeEvent.objects.create(id="evt_admin1", type="invoice.paid", created=1_780_000_000,
                               payload={"id": "evt_admin1"}, account=account, result="paid")  # fmt: skip
    record = UsageRecord.objects.get()
    pages = {
        "plan": Plan.objects.get(slug="pro").pk,
        "account": account.pk,
        "subscription": account.subscription.pk,
        "usagerecord": record.pk,
        "stripeevent": "evt_admin1",
    }

    # When an operator opens each list and each row, then every page answers 200
    for model, pk in pages.items():
        assert operator.get(f"/admin/business/{model}/").status_code == 200, model
        assert operator.get(f"/admin/business/{model}/{pk}/change/").status_code == 200, model
    assert operator.get("/admin/business/plan/add/").status_code == 200
    assert operator.get("/admin/business/account/add/").status_code == 200
    assert operator.get("/admin/auth/user/").status_code == 200
    assert operator.get(f"/admin/auth/user/{account.user_id}/change/").status_code == 200
    assert operator.get("/admin/auth/user/add/").status_code == 200


def test_the_account_list_shows_the_plan_in_force():
    # Given a subscriber (Pro through Stripe) and a user with nothing (Free)
    client = Client()
    admin = user_create(username="op2")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    subscriber = _subscribed_account()
    plain = account_get_or_create(user=user_create(username="plain"))

    response = client.get("/admin/business/account/")

    rows = {row.pk: row for row in response.context["cl"].result_list}
    admin_view = response.context["cl"].model_admin
    assert admin_view.plan_now(rows[subscriber.pk]) == "Pro"
    assert admin_view.plan_now(rows[plain.pk]) == "Free"


def test_the_plan_form_edits_every_limit(operator):
    free = Plan.objects.get(slug="free")
    form = operator.get(f"/admin/business/plan/{free.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(uploads_per_day=3, retention_days=14, engines=["offline"], export_formats=["mp3", "zip"],
                lyrics_per_month=9, priority="on")  # fmt: skip
    data.pop("is_paid")
    data["is_default"] = "on"

    response = operator.post(f"/admin/business/plan/{free.pk}/change/", data)

    assert response.status_code == 302
    free.refresh_from_db()
    assert (free.uploads_per_day, free.retention_days, free.lyrics_per_month) == (3, 14, 9)
    assert free.engines == ["offline"] and free.export_formats == ["mp3", "zip"] and free.priority


def test_a_second_default_plan_is_refused_with_the_plan_to_change(operator):
    pro = Plan.objects.get(slug="pro")
    form = operator.get(f"/admin/business/plan/{pro.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(is_default="on", is_paid="on")

    response = operator.post(f"/admin/business/plan/{pro.pk}/change/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["is_default"] == [
        "“Free” is the default plan: untick it there first (one plan is the default)."
    ]
    pro.refresh_from_db()
    assert pro.is_default is False


def _team_plan() -> Plan:
    pro = Plan.objects.get(slug="pro")
    pro.pk, pro.slug, pro.name, pro.is_paid = None, "team", "Team", False
    pro.save()
    return pro


def test_deleting_a_plan_an_account_is_on_is_refused_and_says_why(operator):
    # Given a plan an operator assigned to an account
    team = _team_plan()
    account = account_get_or_create(user=user_create())
    account.plan = team
    account.save()

    # When the operator asks to delete it (the page, then a forged confirmation)
    page = operator.get(f"/admin/business/plan/{team.pk}/delete/")
    post = operator.post(f"/admin/business/plan/{team.pk}/delete/", {"post": "yes"})

    # Then both land on the plan's page with the reason, and the plan is still there
    assert page.status_code == 302 and page.url == f"/admin/business/plan/{team.pk}/change/"
    assert post.status_code == 302
    assert (
        _messages(post)
        == ["The plan “Team” cannot be deleted: 1 account is on it. Assign that account another plan first."] * 2
    )
    assert Plan.objects.filter(pk=team.pk).exists()
    account.refresh_from_db()
    assert account.plan_id == team.pk


def test_the_default_plan_cannot_be_deleted_even_with_no_account_assigned(operator):
    free = Plan.objects.get(slug="free")

    response = operator.post(f"/admin/business/plan/{free.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert _messages(response)[0].startswith("The plan “Free” cannot be deleted: it is the default plan")
    assert Plan.objects.filter(slug="free").exists()


def test_a_plan_nobody_is_on_is_deleted():
    team = _team_plan()
    client = Client()
    admin = user_create()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)

    response = client.post(f"/admin/business/plan/{team.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Plan.objects.filter(slug="team").exists()


def _grant(operator: Client, accounts: list[Account], **extra) -> object:
    return operator.post(
        "/admin/business/account/",
        {"action": "grant_paid_plan", "_selected_action": [str(a.pk) for a in accounts], **extra},
    )


def test_the_grant_action_asks_for_the_days_first(operator):
    accounts = [account_get_or_create(user=user_create()) for _ in range(2)]

    response = _grant(operator, accounts)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/business/account/grant_plan.html"
    assert "Give the Pro plan to these 2 accounts for a number of days:" in response.content.decode()
    assert list(Account.objects.filter(plan__isnull=False)) == []


def test_the_grant_action_gives_pro_for_n_days_then_free(operator):
    # Given two accounts on Free
    accounts = [account_get_or_create(user=user_create()) for _ in range(2)]
    before = timezone.now()

    # When the operator grants Pro for 10 days
    response = _grant(operator, accounts, apply="Grant", days="10")

    # Then both are Pro now and Free after the 10 days, and the operator is told
    assert response.status_code == 302
    assert _messages(response) == ["Granted Pro for 10 days to 2 accounts."]
    for account in Account.objects.filter(pk__in=[a.pk for a in accounts]):
        assert plan_for_account(account).slug == "pro"
        assert plan_for_account(account, now=before + timedelta(days=9, hours=23)).slug == "pro"
        assert plan_for_account(account, now=timezone.now() + timedelta(days=10, seconds=1)).slug == "free"
        assert account.applied_plan.slug == "pro"


@pytest.mark.parametrize("days", ["0", "3651", "-5", "ten", ""])
def test_a_bad_number_of_days_shows_the_form_again_and_grants_nothing(operator, days):
    account = account_get_or_create(user=user_create())

    response = _grant(operator, [account], apply="Grant", days=days)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/business/account/grant_plan.html"
    assert response.context["form"].errors["days"]
    assert _messages(response) == []
    account.refresh_from_db()
    assert (account.plan_id, account.plan_until, account.applied_plan.slug) == (None, None, "free")


def test_the_account_page_shows_usage_and_recent_records(operator):
    # Given an account with 2 uploads today and 150 s of separation this month
    account = account_get_or_create(user=user_create())
    _records(account, UsageRecord.Metric.UPLOADS, 1, 1)
    _records(account, UsageRecord.Metric.SEPARATION_SECONDS, 150)
    _records(account, UsageRecord.Metric.UPLOADS, 1, state=UsageRecord.State.RELEASED)  # costs nothing

    response = operator.get(f"/admin/business/account/{account.pk}/change/")

    html = response.content.decode()
    assert "<tr><td>Uploads today</td><td>2</td><td>5</td>" in html
    assert "<tr><td>Separation minutes (song minutes × stems) this month</td><td>3</td><td>60</td>" in html
    inline = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is UsageRecord)
    assert len(inline.formset.forms) == 4


def test_the_recent_records_inline_stops_at_the_newest_twenty(operator):
    account = account_get_or_create(user=user_create())
    _records(account, UsageRecord.Metric.LYRICS, *([1] * 25))

    response = operator.get(f"/admin/business/account/{account.pk}/change/")

    inline = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is UsageRecord)
    assert len(inline.formset.forms) == 20


def test_assigning_a_plan_on_the_account_page_applies_it_at_once(operator):
    account = account_get_or_create(user=user_create())
    pro = Plan.objects.get(slug="pro")

    response = operator.post(f"/admin/business/account/{account.pk}/change/", {
        "language": "", "plan": str(pro.pk), "plan_until_0": "", "plan_until_1": "",
        "usage-TOTAL_FORMS": "0", "usage-INITIAL_FORMS": "0", "usage-MIN_NUM_FORMS": "0", "usage-MAX_NUM_FORMS": "0",
    })  # fmt: skip

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.plan_id == pro.pk and account.applied_plan_id == pro.pk


def test_the_users_own_admin_page_shows_their_plan_and_usage(operator):
    # Given a Free user with 3 uploads today who never had an account page opened
    user = user_create(username="singer")
    _records(account_get_or_create(user=user), UsageRecord.Metric.UPLOADS, 1, 1, 1)

    response = operator.get(f"/admin/auth/user/{user.pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Plan and usage" in html
    assert "<tr><td>Uploads today</td><td>3</td><td>5</td>" in html
    assert f'href="/admin/business/account/{user.account.pk}/change/"' in html


def test_a_user_without_an_account_gets_one_made_on_their_admin_page(operator):
    user = user_create()

    response = operator.get(f"/admin/auth/user/{user.pk}/change/")

    assert response.status_code == 200
    assert "<tr><td>Uploads today</td><td>0</td><td>5</td>" in response.content.decode()
    assert Account.objects.filter(user=user).count() == 1


def test_the_user_admin_still_saves_the_user(operator):
    # Django's UserAdmin behaviour is kept: the read-only summary does not get in the way of a change
    user = user_create(username="renamed-not")
    operator.get(f"/admin/auth/user/{user.pk}/change/")
    form = operator.get(f"/admin/auth/user/{user.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value not in (None, "") and name != "password"}
    data.pop("last_login", None)
    joined = timezone.localtime(user.date_joined)
    data.update(email="new@example.com", date_joined_0=joined.strftime("%Y-%m-%d"),
                date_joined_1=joined.strftime("%H:%M:%S"), groups=[], user_permissions=[], is_active="on",
                **{"account-TOTAL_FORMS": "1", "account-INITIAL_FORMS": "1", "account-MIN_NUM_FORMS": "0",
                   "account-MAX_NUM_FORMS": "1", "account-0-id": str(user.account.pk),
                   "account-0-user": str(user.pk)})  # fmt: skip
    data.pop("date_joined", None)

    response = operator.post(f"/admin/auth/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert Account.objects.filter(user=user).count() == 1


def test_subscriptions_are_read_only_and_say_stripe_is_the_source(operator):
    account = _subscribed_account()
    subscription = account.subscription

    page = operator.get(f"/admin/business/subscription/{subscription.pk}/change/")
    post = operator.post(f"/admin/business/subscription/{subscription.pk}/change/", {"status": "canceled"})
    found = operator.get("/admin/business/subscription/?q=cus_admin1")

    html = page.content.decode()
    assert "Stripe is the source of these fields" in html
    assert 'name="_save"' not in html
    assert post.status_code == 403
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert list(found.context["cl"].result_list) == [subscription]
    assert operator.get("/admin/business/subscription/add/").status_code == 403


def test_usage_records_are_filtered_and_searched_read_only(operator):
    account = account_get_or_create(user=user_create(username="searchme"))
    other = account_get_or_create(user=user_create())
    _records(account, UsageRecord.Metric.UPLOADS, 1)
    _records(account, UsageRecord.Metric.LYRICS, 1)
    _records(other, UsageRecord.Metric.UPLOADS, 1)

    by_metric = operator.get("/admin/business/usagerecord/?metric__exact=uploads&q=searchme")
    record = UsageRecord.objects.get(account=account, metric="uploads")
    delete = operator.post(f"/admin/business/usagerecord/{record.pk}/delete/", {"post": "yes"})

    assert list(by_metric.context["cl"].result_list) == [record]
    assert delete.status_code == 403
    assert UsageRecord.objects.count() == 3


def test_a_stripe_event_shows_its_payload_pretty_printed_and_cannot_be_changed(operator):
    payload = {"id": "evt_pretty", "type": "invoice.paid", "data": {"object": {"customer": "cus_9"}}}
    StripeEvent.objects.create(id="evt_pretty", type="invoice.paid", created=1_780_000_000, payload=payload,
                               result="paid")  # fmt: skip

    page = operator.get("/admin/business/stripeevent/evt_pretty/change/")
    listing = operator.get("/admin/business/stripeevent/")

    html = page.content.decode()
    assert "<pre>{\n  &quot;data&quot;: {\n    &quot;object&quot;: {\n      &quot;customer&quot;" in html
    assert 'name="_save"' not in html
    assert listing.context["cl"].model_admin.created_date(StripeEvent.objects.get()) != "1780000000"
    assert operator.get("/admin/business/stripeevent/add/").status_code == 403
    assert operator.post("/admin/business/stripeevent/evt_pretty/delete/", {"post": "yes"}).status_code == 403
    assert StripeEvent.objects.count() == 1


def test_deleting_a_user_in_the_admin_deletes_their_projects_files_and_usage(
    operator, media, django_capture_on_commit_callbacks
):
    # Given a user with a ready project (files in storage) and usage records
    user = user_create()
    project_create_ready(owner=user, duration_s=0.5)
    _records(account_get_or_create(user=user), UsageRecord.Metric.UPLOADS, 1)
    assert stored_files(media) != []

    # When an operator deletes the user: the confirmation page, then yes
    page = operator.get(f"/admin/auth/user/{user.pk}/delete/")
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})

    # Then nothing of theirs is left: no permission was lacking for the ledger or the account
    assert page.context["perms_lacking"] == set()
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert (Account.objects.filter(user_id=user.pk).count(), UsageRecord.objects.count()) == (0, 0)
    assert not Project.objects.exists()
    assert stored_files(media) == []


def test_an_account_alone_cannot_be_deleted(operator):
    account = account_get_or_create(user=user_create())
    _records(account, UsageRecord.Metric.UPLOADS, 1)

    response = operator.post(f"/admin/business/account/{account.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Account.objects.filter(pk=account.pk).exists() and UsageRecord.objects.count() == 1


def test_a_user_whose_subscription_stripe_would_not_cancel_is_not_deleted(operator, monkeypatch):
    from business import billing
    from business.exceptions import BillingError

    account = _subscribed_account()

    def refuse(*, account):
        raise BillingError("Stripe could not be reached. Nothing was changed; please try again in a moment.")

    monkeypatch.setattr(billing, "subscription_cancel_for_account", refuse)

    response = operator.post(f"/admin/auth/user/{account.user_id}/delete/", {"post": "yes"})

    assert response.status_code == 302 and response.url == f"/admin/auth/user/{account.user_id}/change/"
    assert _messages(response) == ["Stripe could not be reached. Nothing was changed; please try again in a moment."]
    assert get_user_model().objects.filter(pk=account.user_id).exists()
    assert Subscription.objects.filter(account=account).exists()
