from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "anshin.ops"
    label = "ops"
