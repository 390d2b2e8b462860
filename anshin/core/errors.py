"""One error type for every refused domain action: a stable code for the API and a Japanese message."""


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if status:
            self.status = status

    def details(self) -> dict:
        """Extra fields of the API error body besides code and message (e.g. the spans of a held message)."""
        return {}


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "見つかりません。"):
        super().__init__("not_found", message)
