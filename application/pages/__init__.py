"""Server-rendered pages, one module per page. They read through selectors and write through services only."""

from application.pages.accounts import home, signup
from application.pages.billing import account, account_delete, account_email, pricing
from application.pages.language import language_set
from application.pages.library import library
from application.pages.project import project_delete, project_detail
from application.pages.remix import project_remix
from application.pages.styles import styles_library

__all__ = [
    "account",
    "account_delete",
    "account_email",
    "home",
    "language_set",
    "library",
    "pricing",
    "project_delete",
    "project_detail",
    "project_remix",
    "signup",
    "styles_library",
]
