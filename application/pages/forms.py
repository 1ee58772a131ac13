"""The forms of the account pages: sign-up with an email, email change, account deletion.

They validate what a person typed (a password typed again is checked here); the writes are the
business services', called by :meth:`save`, which turns a service's refusal into an error shown
on the form instead of a page of its own.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from application.login_guard import client_address, password_confirm
from business.selectors import email_taken
from business.services import account_delete, account_email_set
from domain.exceptions import IsoMixError, TooManyAttempts


class SignupForm(UserCreationForm):
    """Django's sign-up (username, the password twice) with an email address: required, valid and
    no other account's, so that a forgotten password can be reset by email."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("For resetting a forgotten password. Never shown to anyone."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    field_order = ["username", "email", "password1", "password2"]

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"].strip())
        if email_taken(email=email):
            raise forms.ValidationError(_("Another account uses this email address."), code="unique")
        return email


class PasswordCheckMixin:
    """A field ``password``: the signed-in user's current password, typed again, checked through
    the login guard (failures count as failed logins of the account and the address)."""

    user: AbstractBaseUser
    request: HttpRequest | None

    def __init__(self, *args, user: AbstractBaseUser, request: HttpRequest | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.request = user, request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        try:
            confirmed = password_confirm(request=self.request, user=self.user, password=password)
        except TooManyAttempts as exc:
            raise forms.ValidationError(exc.message, code="throttled") from exc
        if not confirmed:
            raise forms.ValidationError(_("That is not your current password."), code="password_incorrect")
        return password


class EmailChangeForm(PasswordCheckMixin, forms.Form):
    """A new email address, confirmed with the current password (``business.services.account_email_set``)."""

    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    email = forms.EmailField(
        label=_("New email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["email"].initial = self.user.email

    def save(self) -> bool:
        """Change the address; ``False`` (with the reason on the email field) when it is refused."""
        try:
            account_email_set(user=self.user, email=self.cleaned_data["email"])
        except IsoMixError as exc:
            self.add_error("email", exc.message)
            return False
        return True


class AccountDeleteForm(PasswordCheckMixin, forms.Form):
    """The password typed again and a ticked box: ``business.services.account_delete``."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my songs, stems and exports are deleted for good."),
        error_messages={"required": _("Tick the box to confirm.")},
    )

    def save(self) -> bool:
        """Delete the account; ``False`` (with the reason on the form) when it could not be done,
        e.g. Stripe could not cancel the subscription (then nothing was deleted)."""
        try:
            account_delete(user=self.user)
        except IsoMixError as exc:
            self.add_error(None, exc.message)
            return False
        return True


#: Reset emails a target address, and a client address, get within an hour; past that the form
#: still says an email is on its way (it never tells whether an address has an account) and none goes.
RESET_EMAILS_PER_ADDRESS = 3
RESET_REQUESTS_PER_CLIENT = 20
RESET_WINDOW_S = 60 * 60


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, with a cap on the emails it sends: a stranger cannot flood someone's
    inbox with reset links, or a mail server with requests, from the reset page."""

    request: HttpRequest | None = None

    def save(self, *args, request: HttpRequest | None = None, **kwargs) -> None:
        email = self.cleaned_data["email"].strip().casefold()
        counters = [
            (f"isomix:reset:email:{hashlib.sha256(email.encode()).hexdigest()}", RESET_EMAILS_PER_ADDRESS),
            (f"isomix:reset:client:{client_address(request)}", RESET_REQUESTS_PER_CLIENT),
        ]
        over = False
        for key, limit in counters:
            cache.add(key, 0, timeout=RESET_WINDOW_S)
            over |= cache.incr(key) > limit
        if not over:
            super().save(*args, request=request, **kwargs)
