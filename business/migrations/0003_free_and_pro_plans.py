"""The two plans IsoMix ships with; operators edit their limits in the admin afterwards."""

from django.db import migrations

FREE = {
    "slug": "free", "name": "Free", "order": 0, "is_default": True, "is_paid": False,
    "monthly_price_cents": 0, "yearly_price_cents": 0, "currency": "usd",
    "max_upload_mb": 50, "max_duration_min": 10, "uploads_per_day": 5, "separation_minutes_per_month": 60,
    "concurrent_jobs": 2, "engines": ["offline", "htdemucs"], "export_formats": ["mp3"], "mp3_max_kbps": 192,
    "retention_days": 7, "lyrics_per_month": 3, "remixes_per_month": 3, "priority": False,
}  # fmt: skip
PRO = {
    "slug": "pro", "name": "Pro", "order": 1, "is_default": False, "is_paid": True,
    "monthly_price_cents": 900, "yearly_price_cents": 9000, "currency": "usd",
    "max_upload_mb": 200, "max_duration_min": 20, "uploads_per_day": 100, "separation_minutes_per_month": 3000,
    "concurrent_jobs": 5, "engines": ["offline", "htdemucs", "htdemucs_ft", "htdemucs_6s"],
    "export_formats": ["mp3", "wav", "flac", "zip"], "mp3_max_kbps": 320,
    "retention_days": 90, "lyrics_per_month": 100, "remixes_per_month": 100, "priority": True,
}  # fmt: skip


def plans_create(apps, schema_editor):
    Plan = apps.get_model("business", "Plan")
    Account = apps.get_model("business", "Account")
    free, _ = Plan.objects.get_or_create(slug="free", defaults=FREE)
    Plan.objects.get_or_create(slug="pro", defaults=PRO)
    Account.objects.filter(applied_plan=None).update(applied_plan=free)


def plans_delete(apps, schema_editor):
    Plan = apps.get_model("business", "Plan")
    Account = apps.get_model("business", "Account")
    Account.objects.update(applied_plan=None, plan=None)
    Plan.objects.filter(slug__in=["free", "pro"]).delete()


class Migration(migrations.Migration):
    dependencies = [("business", "0002_plans_billing_usage")]

    operations = [migrations.RunPython(plans_create, plans_delete)]
