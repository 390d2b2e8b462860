from django.apps import AppConfig


class DealsConfig(AppConfig):
    """Tools shared by every kind of deal (contracts and service orders): delivery-date changes."""

    name = "anshin.deals"
    label = "deals"
