from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "anshin.messaging"
    label = "messaging"

    def ready(self):
        from anshin.messaging import services  # noqa: F401  registers the nudge escalation timer with `tick`
