from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "anshin.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from django.db.models import Field, ForeignObject

        from anshin.core.lookups import FieldArrayIn, RelatedArrayIn

        Field.register_lookup(FieldArrayIn)  # `__in` as one array parameter on PostgreSQL (core/lookups.py)
        ForeignObject.register_lookup(RelatedArrayIn)
