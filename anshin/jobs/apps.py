from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "anshin.jobs"
    label = "jobs"
