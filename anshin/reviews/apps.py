from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "anshin.reviews"
    verbose_name = "評価"

    def ready(self):
        from anshin.reviews import services  # noqa: F401  registers the review window timer with `tick`
