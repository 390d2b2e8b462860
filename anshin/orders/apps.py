from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "anshin.orders"
    label = "orders"

    def ready(self):
        from anshin.orders import services  # noqa: F401  registers the order and キャンセル申請 timers with `tick`
