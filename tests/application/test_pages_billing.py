"""Pages of plans and the account: pricing, the account page (plan, meters, subscription, a
downgrade's notice), email change, account deletion, password reset and change, sign-up with an
email, and the plan's limits in the mixer's export panel."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import formats, timezone, translation

from application.pages.billing import money, number
from business.models import Account, Plan, Subscription, UsageRecord
from business.periods import day_period, month_period
from business.services import account_get_or_create, account_plan_sync, plan_grant
from domain.models import Project
from tests.factories import PASSWORD, pro_user_create, project_create_ready, user_create, user_make_pro
from tests.helpers import stored_files
from tests.stripe_standin import stripe_standin_fixture  # noqa: F401  (the stripe_standin fixture)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
COUNTED = "Song minutes × stems: a 4-minute song split into 4 stems uses 16."


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _by_testid(html: str, testid: str, tag: str = r"\w+") -> str:
    """The element marked ``data-testid=testid`` (its text, tags removed), or fail."""
    match = re.search(rf'<({tag})\b[^>]*data-testid="{re.escape(testid)}"[^>]*>(.*?)</\1>', html, re.DOTALL)
    assert match, f"no {testid} in the page"
    return _text(match.group(2))


def _plan_card(html: str, slug: str) -> str:
    match = re.search(rf'<article[^>]*data-testid="plan-{slug}".*?</article>', html, re.DOTALL)
    assert match, f"no card for {slug}"
    return match.group(0)


def _features(card: str) -> dict[str, str]:
    return {key: _text(body) for key, body in re.findall(r'<li data-feature="(\w+)">(.*?)</li>', card, re.DOTALL)}


def _billing_on(settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_pages"
    settings.ISOMIX_STRIPE_PRICE_PRO_MONTHLY = "price_month"
    settings.ISOMIX_STRIPE_PRICE_PRO_YEARLY = "price_year"


def _used(user, **amounts) -> None:
    account = account_get_or_create(user=user)
    for metric, amount in amounts.items():
        UsageRecord.objects.create(
            account=account, metric=metric, amount=amount, state=UsageRecord.State.COMMITTED, created_at=timezone.now()
        )


def _subscribe(user, **fields) -> Subscription:
    """A Stripe subscription of ``user`` as the webhooks would have recorded it (active, monthly)."""
    values = {
        "stripe_customer_id": "cus_pages",
        "stripe_subscription_id": "sub_pages",
        "status": Subscription.Status.ACTIVE,
        "interval": Subscription.Interval.MONTH,
        "current_period_start": datetime(2026, 1, 10, tzinfo=UTC),
        "current_period_end": datetime(2099, 2, 10, tzinfo=UTC),
        **fields,
    }
    subscription = Subscription.objects.create(account=account_get_or_create(user=user), **values)
    account_plan_sync(account=Account.objects.get(pk=subscription.account_id))
    return subscription


# ---------------------------------------------------------------- pricing


def test_pricing_is_public_and_says_every_limit_in_plain_words():
    # When a visitor who is not signed in opens the pricing page
    response = Client().get("/pricing/", **EN)
    html = response.content.decode()

    # Then every plan is there, its limits in words a musician reads
    assert response.status_code == 200
    free, pro = _plan_card(html, "free"), _plan_card(html, "pro")
    assert _features(free) == {
        "upload": "Songs up to 50 MB and 10 minutes long",
        "uploads": "5 uploads a day",
        "separation": f"60 separation minutes a month {COUNTED}",
        "jobs": "2 jobs at a time",
        "engines": "Separation: Fast separation (built in), Demucs, high quality",
        "exports": "Exports: MP3 up to 192 kbps",
        "retention": "Songs kept 7 days",
        "lyrics": "Karaoke lyrics for 3 songs a month",
        "remixes": "3 remixes a month",
        "priority": "Standard queue",
    }
    assert _features(pro) == {
        "upload": "Songs up to 200 MB and 20 minutes long",
        "uploads": "100 uploads a day",
        "separation": f"3,000 separation minutes a month {COUNTED}",
        "jobs": "5 jobs at a time",
        "engines": "Separation: Fast separation (built in), Demucs, high quality, Demucs fine-tuned, best quality, "
        "Demucs, 6 stems (with guitar and piano)",
        "exports": "Exports: MP3 up to 320 kbps, WAV, FLAC",
        "zip": "All the stems in one zip",
        "retention": "Songs kept 90 days",
        "lyrics": "Karaoke lyrics for 100 songs a month",
        "remixes": "100 remixes a month",
        "priority": "Priority queue: your songs are separated first",
    }
    # And the prices, monthly and yearly
    assert _by_testid(free, "price-monthly") == "No cost"
    assert _by_testid(pro, "price-monthly") == "$9"
    assert _by_testid(pro, "price-yearly") == "or $90 a year ($7.50 a month)"
    # And billing is off here (no Stripe keys): the page says who assigns plans, and offers sign-up
    assert _by_testid(html, "billing-off") == "Billing is off on this server: an operator assigns plans."
    assert _by_testid(free, "plan-signup", "a") == "Sign up free"
    assert _by_testid(pro, "plan-signup", "a") == "Sign up to subscribe"
    assert "data-billing-checkout" not in html and "data-billing-portal" not in html
    assert 'data-testid="plan-current"' not in html


def test_prices_and_counts_are_written_as_the_language_writes_numbers():
    with translation.override("pt-br"):
        assert money(cents=750, currency="usd").endswith("7,50")
        assert money(cents=900, currency="brl") == "R$9" or money(cents=900, currency="brl") == "R$ 9"
        assert number(3000) == "3.000"
    with translation.override("en"):
        assert money(cents=750, currency="usd") == "$7.50"
        assert money(cents=123456, currency="chf") == "1,234.56 CHF"
        assert number(3000) == "3,000"


def test_pricing_marks_the_users_plan_and_with_billing_off_offers_no_button():
    html = _client_for(user_create()).get("/pricing/", **EN).content.decode()

    free, pro = _plan_card(html, "free"), _plan_card(html, "pro")
    assert 'data-current="true"' in free and 'data-testid="plan-current"' in free
    assert 'data-current="false"' in pro
    assert 'data-testid="billing-off"' in html
    assert "data-billing-checkout" not in html and 'data-testid="plan-signup"' not in html
    assert '<a class="btn btn-block" href="/account/" data-testid="plan-account">See your usage</a>' in free


def test_pricing_with_billing_on_offers_a_free_user_pro_monthly_and_yearly(settings):
    _billing_on(settings)

    html = _client_for(user_create()).get("/pricing/", **EN).content.decode()

    pro = _plan_card(html, "pro")
    month = " ".join(re.search(r"<button[^>]*data-testid=\"subscribe-month\"[^>]*>", pro).group(0).split())
    year = " ".join(re.search(r"<button[^>]*data-testid=\"subscribe-year\"[^>]*>", pro).group(0).split())
    assert 'data-billing-checkout data-interval="month" data-url="/api/v1/billing/checkout/"' in month
    assert 'data-billing-checkout data-interval="year" data-url="/api/v1/billing/checkout/"' in year
    assert _by_testid(pro, "subscribe-month", "button") == "Subscribe for $9 a month"
    assert _by_testid(pro, "subscribe-year", "button") == "Subscribe for $90 a year"
    assert 'data-testid="billing-off"' not in html
    assert '<script type="module" src="/static/js/billing.js"></script>' in html
    assert "data-billing-portal" not in html


def test_a_subscriber_is_offered_the_portal_instead_of_subscribing(settings):
    _billing_on(settings)
    user = user_create()
    _subscribe(user)

    html = _client_for(user).get("/pricing/", **EN).content.decode()

    pro = _plan_card(html, "pro")
    assert 'data-testid="plan-current"' in pro
    assert 'data-billing-portal data-url="/api/v1/billing/portal/"' in pro
    assert _by_testid(pro, "manage-subscription", "button") == "Manage subscription"
    assert "data-billing-checkout" not in html


def test_pro_given_by_an_operator_is_marked_with_nothing_to_buy_or_manage(settings):
    _billing_on(settings)

    html = _client_for(pro_user_create()).get("/pricing/", **EN).content.decode()

    pro = _plan_card(html, "pro")
    assert 'data-testid="plan-current"' in pro
    assert "data-billing-checkout" not in html and "data-billing-portal" not in html


def test_every_page_links_the_pricing_and_a_signed_in_user_their_account():
    html = _client_for(user_create(username="lia")).get("/projects/", **EN).content.decode()
    visitor = Client().get("/accounts/login/", **EN).content.decode()

    assert re.search(r'<a href="/pricing/" class="nav-link[^"]*" data-testid="nav-pricing">Pricing</a>', html)
    account_link = re.search(r'<a href="/account/" class="nav-user" data-testid="nav-user".*?</a>', html, re.DOTALL)
    assert _text(account_link.group(0)) == "Your account: lia"
    assert 'data-testid="nav-pricing"' in visitor


# ---------------------------------------------------------------- the account page


def _meter(html: str, key: str) -> dict[str, str]:
    row = re.search(rf'<li class="meter-row[^"]*" data-testid="meter-{key}".*?</li>', html, re.DOTALL).group(0)
    attrs = dict(re.findall(r'\s(max|value)="(\d+)"', re.search(r"<meter[^>]*>", row, re.DOTALL).group(0)))
    return {
        "value": _by_testid(row, f"meter-{key}-value"),
        "meter": f"max={attrs['max']} value={attrs['value']}",
        "resets": _by_testid(row, f"meter-{key}-resets"),
    }


def test_the_account_page_needs_a_login():
    response = Client().get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/"


def test_the_account_page_shows_a_free_users_plan_and_meters_with_their_reset_dates():
    # Given a Free user who uploaded 2 songs today, separated 150 s of stems and made one lyrics
    user = user_create()
    _used(user, uploads=2, separation_s=150, lyrics=1)

    # When they open their account page
    response = _client_for(user).get("/account/", **EN)
    html = response.content.decode()

    # Then it says their plan, with the way up
    assert response.status_code == 200
    assert _by_testid(html, "plan-name", "span") == "Free"
    assert 'data-testid="plan-until"' not in html
    assert '<a class="btn btn-primary" href="/pricing/" data-testid="account-upgrade">Upgrade to Pro</a>' in html
    assert 'data-testid="subscription"' not in html and "data-billing-portal" not in html
    # And each allowance used, of how much, and when it resets (separation in minutes, rounded up)
    now = timezone.now()
    tomorrow, next_month = day_period(now=now).end, month_period(now=now).end
    with translation.override("en"):
        daily = f"Resets {formats.date_format(timezone.localtime(tomorrow), 'DATETIME_FORMAT')}"
        monthly = f"Resets on {formats.date_format(timezone.localtime(next_month), 'DATE_FORMAT')}"
    assert _meter(html, "uploads") == {"value": "2 of 5", "meter": "max=5 value=2", "resets": daily}
    assert _meter(html, "separation") == {"value": "3 of 60", "meter": "max=60 value=3", "resets": monthly}
    assert _meter(html, "lyrics") == {"value": "1 of 3", "meter": "max=3 value=1", "resets": monthly}
    assert _meter(html, "remixes") == {"value": "0 of 3", "meter": "max=3 value=0", "resets": monthly}
    assert 'data-testid="downgrade-notice"' not in html and 'data-testid="checkout-done"' not in html


def test_pro_given_by_an_operator_says_until_when():
    # Given a user an operator gave Pro for 30 days
    user = user_create()
    plan_grant(account=account_get_or_create(user=user), plan=Plan.objects.get(slug="pro"), days=30)
    until = Account.objects.get(user=user).plan_until

    # When they open their account page
    html = _client_for(user).get("/account/", **EN).content.decode()

    # Then it says Pro, until that day, with Pro's allowances
    with translation.override("en"):
        assert _by_testid(html, "plan-until", "span") == f"until {formats.date_format(until, 'DATE_FORMAT')}"
    assert _by_testid(html, "plan-name", "span") == "Pro"
    assert _meter(html, "separation")["value"] == "0 of 3,000"
    assert _meter(html, "uploads")["value"] == "0 of 100"
    assert 'data-testid="account-upgrade"' not in html


def test_a_subscription_shows_its_state_renewal_and_the_portal(settings):
    _billing_on(settings)
    user = user_create()
    _subscribe(user)

    html = _client_for(user).get("/account/", **EN).content.decode()

    assert _by_testid(html, "plan-name", "span") == "Pro"
    assert _by_testid(html, "subscription-status", "dd") == "Active"
    assert _by_testid(html, "subscription-interval", "dd") == "Monthly"
    assert _by_testid(html, "subscription-renews", "dd") == "Feb. 10, 2099"
    assert 'data-billing-portal data-url="/api/v1/billing/portal/"' in html
    assert _by_testid(html, "manage-subscription", "button") == "Manage subscription and invoices"


def test_a_subscription_that_cancels_says_on_which_day(settings):
    _billing_on(settings)
    user = user_create()
    _subscribe(user, cancel_at_period_end=True, interval=Subscription.Interval.YEAR)

    html = _client_for(user).get("/account/", **EN).content.decode()

    assert _by_testid(html, "subscription-cancels", "dd") == "Cancels on Feb. 10, 2099"
    assert _by_testid(html, "subscription-interval", "dd") == "Yearly"
    assert 'data-testid="subscription-renews"' not in html


def test_a_failed_payment_says_until_when_pro_stays():
    user = user_create()
    grace = timezone.now() + timedelta(days=5)
    _subscribe(user, status=Subscription.Status.PAST_DUE, grace_until=grace)

    html = _client_for(user).get("/account/", **EN).content.decode()

    with translation.override("en"):
        day = formats.date_format(grace, "DATE_FORMAT")
    grace_text = f"Payment failed: Pro until {day}. Update your card to keep it."
    assert _by_testid(html, "subscription-grace", "dd") == grace_text
    assert _by_testid(html, "subscription-status", "dd") == "Payment overdue"
    assert _by_testid(html, "plan-name", "span") == "Pro"
    # Billing is off here: the portal cannot be opened, so it is not offered
    assert "data-billing-portal" not in html


def test_after_the_grace_period_a_failed_payment_only_shows_its_status():
    user = user_create()
    _subscribe(user, status=Subscription.Status.PAST_DUE, grace_until=timezone.now() - timedelta(hours=1))

    html = _client_for(user).get("/account/", **EN).content.decode()

    assert 'data-testid="subscription-grace"' not in html
    assert _by_testid(html, "subscription-status", "dd") == "Payment overdue"
    assert _by_testid(html, "plan-name", "span") == "Free"


def test_once_the_kept_songs_are_gone_the_downgrade_notice_goes_too():
    user = pro_user_create()
    account = Account.objects.get(user=user)
    account.plan = None
    account.save()
    account_plan_sync(account=account)
    Account.objects.filter(user=user).update(downgraded_at=timezone.now() - timedelta(days=8))

    html = _client_for(user).get("/account/", **EN).content.decode()

    assert 'data-testid="downgrade-notice"' not in html


def test_after_a_downgrade_the_page_says_until_when_the_songs_are_kept():
    # Given a Pro user with a song, who falls back to Free
    user = pro_user_create()
    project = project_create_ready(owner=user, duration_s=0.5)
    account = Account.objects.get(user=user)
    account.plan = None
    account.save()
    account_plan_sync(account=account)
    kept = Project.objects.get(id=project.id).expires_at

    # When they open their account page
    html = _client_for(user).get("/account/", **EN).content.decode()

    # Then it says the plan is Free, and until when their songs stay
    with translation.override("en"):
        day = formats.date_format(kept, "DATE_FORMAT")
    assert Account.objects.get(user=user).downgraded_at is not None
    assert _by_testid(html, "downgrade-notice", "p") == (
        f"Your plan is now Free. Your songs are kept until {day} (Free keeps songs 7 days)."
    )


def test_after_a_downgrade_without_songs_the_date_counts_from_the_downgrade():
    user = pro_user_create()
    account = Account.objects.get(user=user)
    account.plan = None
    account.save()
    account_plan_sync(account=account)
    downgraded = Account.objects.get(user=user).downgraded_at

    html = _client_for(user).get("/account/", **EN).content.decode()

    with translation.override("en"):
        day = formats.date_format(downgraded + timedelta(days=7), "DATE_FORMAT")
    assert f"Your songs are kept until {day}" in _by_testid(html, "downgrade-notice", "p")


def test_back_from_checkout_the_page_thanks_the_user():
    html = _client_for(user_create()).get("/account/?checkout=done", **EN).content.decode()

    assert _by_testid(html, "checkout-done", "p").startswith("Thank you for subscribing!")


# ---------------------------------------------------------------- email change


def _with_email(email: str, **kwargs):
    user = user_create(**kwargs)
    user.email = email
    user.save()
    return user


def test_the_email_changes_with_the_current_password():
    user = _with_email("old@example.com")
    client = _client_for(user)

    response = client.post("/account/email/", {"password": PASSWORD, "email": "New@Example.COM"}, follow=True, **EN)

    assert response.redirect_chain == [("/account/", 302)]
    user.refresh_from_db()
    assert user.email == "New@example.com"
    assert "Your email address is now New@example.com." in _text(response.content.decode())


def test_a_wrong_password_changes_no_email():
    user = _with_email("old@example.com")

    response = _client_for(user).post("/account/email/", {"password": "not-it", "email": "new@example.com"}, **EN)

    assert response.status_code == 200
    html = response.content.decode()
    assert "That is not your current password." in _by_testid(html, "email-form", "form")
    user.refresh_from_db()
    assert user.email == "old@example.com"


def test_an_email_another_account_uses_is_refused_whatever_its_case():
    _with_email("taken@example.com")
    user = _with_email("mine@example.com")

    response = _client_for(user).post("/account/email/", {"password": PASSWORD, "email": "TAKEN@example.com"}, **EN)

    assert response.status_code == 200
    assert "Another account uses this email address." in _by_testid(response.content.decode(), "email-form", "form")
    user.refresh_from_db()
    assert user.email == "mine@example.com"


def test_an_invalid_email_is_refused():
    user = _with_email("mine@example.com")

    response = _client_for(user).post("/account/email/", {"password": PASSWORD, "email": "not an email"}, **EN)

    assert "Enter a valid email address." in _by_testid(response.content.decode(), "email-form", "form")
    user.refresh_from_db()
    assert user.email == "mine@example.com"


def test_a_get_of_the_email_form_goes_back_to_the_account_page():
    response = _client_for(user_create()).get("/account/email/")

    assert (response.status_code, response["Location"]) == (302, "/account/")


# ---------------------------------------------------------------- account deletion


def test_deleting_the_account_deletes_its_songs_files_and_user(media, django_capture_on_commit_callbacks):
    # Given a user with two songs (their files stored) and another user's song
    user = user_create()
    for _ in range(2):
        project_create_ready(owner=user, duration_s=0.5)
    other = project_create_ready(owner=user_create(), duration_s=0.5)
    others_files = {f for f in stored_files(media) if str(other.id) in f}
    client = _client_for(user)

    # When they delete their account with their password and the box ticked
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"}, follow=True, **EN)

    # Then they are logged out on the login page, which says it is done
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert not response.context["user"].is_authenticated
    assert "Your account was deleted, with every song, stem and export in it." in _text(response.content.decode())
    # And the user, their account and songs are gone, with their files; the other user's stay
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert not Account.objects.filter(user_id=user.pk).exists()
    assert list(Project.objects.values_list("id", flat=True)) == [other.id]
    assert set(stored_files(media)) == others_files


@pytest.mark.parametrize(
    "form", [{"password": "not-it", "confirm": "on"}, {"password": PASSWORD}], ids=["wrong password", "not ticked"]
)
def test_an_account_deletion_not_confirmed_deletes_nothing(media, form, django_capture_on_commit_callbacks):
    user = user_create()
    project = project_create_ready(owner=user, duration_s=0.5)
    before = stored_files(media)
    client = _client_for(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/delete/", form, **EN)

    assert response.status_code == 200
    errors = _by_testid(response.content.decode(), "delete-form", "form")
    assert ("That is not your current password." in errors) is (form["password"] == "not-it")
    assert ("Tick the box to confirm." in errors) is ("confirm" not in form)
    assert get_user_model().objects.filter(pk=user.pk).exists()
    assert Project.objects.filter(id=project.id).exists()
    assert stored_files(media) == before
    assert client.get("/account/").status_code == 200  # still signed in


def test_deleting_the_account_cancels_the_subscription_in_stripe(stripe_standin, django_capture_on_commit_callbacks):
    user = user_create()
    _subscribe(user, stripe_subscription_id="sub_todelete")

    with django_capture_on_commit_callbacks(execute=True):
        response = _client_for(user).post("/account/delete/", {"password": PASSWORD, "confirm": "on"})

    assert response.status_code == 302
    assert [r.path for r in stripe_standin.requests if r.method == "DELETE"] == ["/v1/subscriptions/sub_todelete"]
    assert not get_user_model().objects.filter(pk=user.pk).exists()


def test_when_stripe_cannot_cancel_nothing_is_deleted_and_the_form_says_so(media, stripe_standin):
    user = user_create()
    project = project_create_ready(owner=user, duration_s=0.5)
    _subscribe(user, stripe_subscription_id="sub_stuck")
    before = stored_files(media)
    stripe_standin.fail(status=500)

    response = _client_for(user).post("/account/delete/", {"password": PASSWORD, "confirm": "on"}, **EN)

    assert response.status_code == 200
    assert re.search(r'<div class="alert alert-error" role="alert">\s*<p>.+</p>', response.content.decode())
    assert get_user_model().objects.filter(pk=user.pk).exists()
    assert Project.objects.filter(id=project.id).exists()
    assert Subscription.objects.filter(stripe_subscription_id="sub_stuck").exists()
    assert stored_files(media) == before


# ---------------------------------------------------------------- password reset and change, sign-up


def test_the_login_page_links_the_password_reset():
    html = Client().get("/accounts/login/", **EN).content.decode()

    assert '<a href="/accounts/password/reset/" data-testid="password-reset-link">Forgot your password?</a>' in html


def test_a_password_reset_email_carries_a_link_that_sets_a_new_password():
    # Given a user with an email address
    user = _with_email("reset@example.com", username="rita")
    client = Client()

    # When they ask for a reset with their address (in another case)
    response = client.post("/accounts/password/reset/", {"email": "RESET@example.com"}, **EN)

    # Then one email goes to them, with a link to choose a new password
    assert (response.status_code, response["Location"]) == (302, "/accounts/password/reset/sent/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reset@example.com"]
    assert message.subject == "Reset your IsoMix Studio password"
    assert "Hello rita," in message.body
    link = re.search(r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)", message.body).group(1)

    # When they open it and type a new password twice
    opened = client.get(link, **EN)
    assert opened.status_code == 302  # Django hides the token behind a set-password URL
    form_url = opened["Location"]
    assert 'data-testid="password-reset-confirm-form"' in client.get(form_url, **EN).content.decode()
    new = "a-brand-new-passphrase-7"
    done = client.post(form_url, {"new_password1": new, "new_password2": new}, **EN)

    # Then the password is changed, the link is spent, and the new password logs in
    assert (done.status_code, done["Location"]) == (302, "/accounts/password/reset/done/")
    assert "Your password is changed" in client.get(done["Location"], **EN).content.decode()
    user.refresh_from_db()
    assert user.check_password(new)
    assert 'data-testid="password-reset-invalid"' in client.get(link, follow=True, **EN).content.decode()
    assert Client().post("/accounts/login/", {"username": "rita", "password": new}).status_code == 302


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same():
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True, **EN)

    assert mail.outbox == []
    assert _by_testid(response.content.decode(), "password-reset-done", "section").startswith("Check your email")


def test_the_password_changes_with_the_current_one():
    user = user_create()
    client = _client_for(user)
    new = "another-long-passphrase-9"

    page = client.get("/accounts/password/change/", **EN)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
        **EN,
    )

    assert 'data-testid="password-change-form"' in page.content.decode()
    assert response.redirect_chain == [("/accounts/password/change/done/", 302)]
    user.refresh_from_db()
    assert user.check_password(new)
    assert client.get("/account/").status_code == 200  # still signed in here


def _signup(**fields):
    data = {"username": "nia", "password1": PASSWORD, "password2": PASSWORD, **fields}
    return Client().post("/accounts/signup/", data, **EN)


def test_sign_up_asks_for_an_email():
    html = Client().get("/accounts/signup/", **EN).content.decode()

    form = re.search(r'<form[^>]*data-testid="signup-form".*?</form>', html, re.DOTALL).group(0)
    fields = re.findall(r'<input type="(\w+)" name="(\w+)"', form)
    assert [name for _type, name in fields if name != "csrfmiddlewaretoken"] == [
        "username",
        "email",
        "password1",
        "password2",
    ]
    assert ("email", "email") in fields


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "This field is required."),
        ("not-an-email", "Enter a valid email address."),
        ("TAKEN@Example.com", "Another account uses this email address."),
    ],
    ids=["missing", "invalid", "taken"],
)
def test_sign_up_without_a_valid_unused_email_makes_no_account(email, error):
    _with_email("taken@example.com", username="first")

    response = _signup(email=email)

    assert response.status_code == 200
    assert error in _text(response.content.decode())
    assert not get_user_model().objects.filter(username="nia").exists()


# ---------------------------------------------------------------- the plan in the export panel


def _options(html: str, select_id: str) -> list[tuple[str, bool, str]]:
    select = re.search(rf'<select id="{select_id}".*?</select>', html, re.DOTALL).group(0)
    return [
        (value, " disabled" in attrs, _text(label))
        for value, attrs, label in re.findall(r'<option value="(\w+)"([^>]*)>(.*?)</option>', select, re.DOTALL)
    ]


def test_a_free_mixer_shows_what_pro_exports_disabled_with_the_way_up():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)

    html = _client_for(owner).get(f"/projects/{project.id}/", **EN).content.decode()

    assert _options(html, "export-format") == [
        ("mp3", False, "MP3"),
        ("wav", True, "WAV · Pro"),
        ("flac", True, "FLAC · Pro"),
    ]
    assert _options(html, "export-bitrate") == [
        ("128", False, "128 kbps"),
        ("192", False, "192 kbps"),
        ("256", True, "256 kbps · Pro"),
        ("320", True, "320 kbps · Pro"),
    ]
    assert re.search(r'<option value="192" selected>', html)
    assert _by_testid(html, "export-plan-note", "p") == "Pro WAV, FLAC, MP3 at 256 / 320 kbps: with Pro. Upgrade"
    assert '<a href="/pricing/" data-testid="export-plan-upgrade">Upgrade</a>' in html
    # The zip of every stem is shown, but is no link (the archive API answers 402 on Free)
    zip_button = re.search(r'<(\w+)[^>]*data-testid="stems-archive"[^>]*>', html).group(0)
    assert zip_button.startswith("<span") and 'aria-disabled="true"' in zip_button
    assert f"/api/v1/projects/{project.id}/stems/archive/" not in html
    assert 'data-testid="stems-archive-upgrade"' in html
    assert 'data-upgrade-url="/pricing/"' in html


def test_a_pro_mixer_offers_every_format_rate_and_the_zip():
    owner = pro_user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)

    html = _client_for(owner).get(f"/projects/{project.id}/", **EN).content.decode()

    assert [disabled for _v, disabled, _l in _options(html, "export-format")] == [False, False, False]
    assert [disabled for _v, disabled, _l in _options(html, "export-bitrate")] == [False, False, False, False]
    assert 'data-testid="export-plan-note"' not in html
    assert re.search(
        rf'<a class="btn" href="/api/v1/projects/{project.id}/stems/archive/" download data-stems-archive', html
    )
    assert 'data-upgrade-url=""' in html


def test_a_user_made_pro_after_an_upload_gets_the_pro_panel_at_once():
    owner = user_create()
    project = project_create_ready(owner=owner, duration_s=0.5)
    user_make_pro(owner)

    html = _client_for(owner).get(f"/projects/{project.id}/", **EN).content.decode()

    assert ("wav", False, "WAV") in _options(html, "export-format")


def test_reset_emails_to_one_address_are_capped_and_the_page_never_tells(settings):
    from django.core import mail
    from django.core.cache import cache
    from django.test import Client

    from application.pages.forms import RESET_EMAILS_PER_ADDRESS

    cache.clear()
    user = user_create()
    user.email = "lia@example.com"
    user.save()
    client = Client()

    answers = [client.post("/accounts/password/reset/", {"email": "Lia@example.com"}) for _ in range(5)]
    cache.clear()

    assert [a.status_code for a in answers] == [302] * 5  # "sent", every time
    assert {a["Location"] for a in answers} == {"/accounts/password/reset/sent/"}
    assert len(mail.outbox) == RESET_EMAILS_PER_ADDRESS == 3
