from django.apps import AppConfig


class ApplicationConfig(AppConfig):
    name = "application"
    verbose_name = "Studio front end"
