"""The forms of the operators' admin for plans and accounts (``business.admin`` uses them)."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from business.models import ENGINE_CHOICES, EXPORT_CHOICES, Plan

#: The longest grant the admin takes (ten years): a typo of a few zeros is refused, not granted.
GRANT_DAYS_MAX = 3650

_EXPORT_LABELS = {
    "mp3": _("MP3"),
    "wav": _("WAV"),
    "flac": _("FLAC"),
    "zip": _("Zip of the stems"),
}


class PlanAdminForm(forms.ModelForm):
    """A plan with its engines and export formats as checkboxes, not JSON typed by hand.

    The one default and the one paid plan are database constraints; a second one is refused
    here with a message that names the plan to change first.
    """

    engines = forms.MultipleChoiceField(
        label=capfirst(Plan._meta.get_field("engines").verbose_name),
        choices=[(name, name) for name in ENGINE_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        help_text=Plan._meta.get_field("engines").help_text,
    )
    export_formats = forms.MultipleChoiceField(
        label=capfirst(Plan._meta.get_field("export_formats").verbose_name),
        choices=[(name, _EXPORT_LABELS[name]) for name in EXPORT_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every plan exports MP3."),
    )

    class Meta:
        model = Plan
        fields = [
            "name", "slug", "order", "is_default", "is_paid", "monthly_price_cents", "yearly_price_cents",
            "currency", "max_upload_mb", "max_duration_min", "uploads_per_day", "separation_minutes_per_month",
            "engines", "export_formats", "mp3_max_kbps", "retention_days", "lyrics_per_month", "remixes_per_month",
            "concurrent_jobs", "priority",
        ]  # fmt: skip

    def _other(self, **flag: bool) -> Plan | None:
        return Plan.objects.filter(**flag).exclude(pk=self.instance.pk).first()

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("is_default") and (other := self._other(is_default=True)) is not None:
            self.add_error(
                "is_default",
                _("“%(plan)s” is the default plan: untick it there first (one plan is the default).")
                % {"plan": other.display_name},
            )
        if cleaned.get("is_paid") and (other := self._other(is_paid=True)) is not None:
            self.add_error(
                "is_paid",
                _("“%(plan)s” is the paid plan: untick it there first (one plan is the paid one).")
                % {"plan": other.display_name},
            )
        return cleaned


class PlanGrantForm(forms.Form):
    """The number of days of the admin's "Grant Pro for N days" action."""

    days = forms.IntegerField(
        label=_("Days"),
        min_value=1,
        max_value=GRANT_DAYS_MAX,
        initial=30,
        help_text=_("From now; then the account falls back to its subscription's plan or the default plan."),
    )
