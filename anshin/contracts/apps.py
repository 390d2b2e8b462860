from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "anshin.contracts"
    label = "contracts"

    def ready(self):
        from anshin.contracts import services  # noqa: F401  registers the contract timers with `tick`
