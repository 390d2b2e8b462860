from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "anshin.ledger"
    label = "ledger"
