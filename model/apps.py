from django.apps import AppConfig


class ModelConfig(AppConfig):
    name = "model"
    label = "processing"
    verbose_name = "Processing"

    def ready(self) -> None:
        # The broker must exist before the actors declare themselves on it.
        from model.broker import broker_setup

        broker_setup()
        from model import actors  # noqa: F401
