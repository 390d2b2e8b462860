"""The JSON API: every UI action has a twin here calling the same service. OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(title="Anshin API", version="1", urls_namespace="api")
