from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "anshin.notifications"
    label = "notifications"
