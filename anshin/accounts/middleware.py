from anshin.accounts.presence import presence_touch


class PresenceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            presence_touch(user, request.session)
        return self.get_response(request)
