from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "anshin.core"
    label = "core"
    verbose_name = "Core"
