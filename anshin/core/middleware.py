from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    """Japanese for everyone unless they chose another language with the switcher (a cookie). Unlike Django's
    LocaleMiddleware this ignores the browser's Accept-Language: a Japanese marketplace should not turn
    English because a laptop was bought abroad."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = dict(settings.LANGUAGES)

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.languages:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
