from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "anshin.messaging"
    label = "messaging"
