"""What belongs to a user's account rather than to a song: for now, the language of the studio.

Part 6 adds the plan and the billing here (``Account`` is the row a subscription hangs on).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return str(self.user)
