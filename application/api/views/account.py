"""The account: who the user is, their plan, usage and subscription; the plans (placeholder)."""
