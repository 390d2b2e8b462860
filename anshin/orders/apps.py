from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "anshin.orders"
    label = "orders"
