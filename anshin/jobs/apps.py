from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "anshin.jobs"
    label = "jobs"

    def ready(self):
        from anshin.jobs import services  # noqa: F401  registers the job and test-task timers with `tick`
