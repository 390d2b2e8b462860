from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "anshin.accounts"
    label = "accounts"
