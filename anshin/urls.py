import os

from django.conf import settings
from django.urls import include, path

from anshin.api import api
from anshin.jobs.views import job_list

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", job_list, name="home"),  # the job list is the top page
    path("", include("anshin.jobs.urls")),
    path("", include("anshin.accounts.urls")),
    path("", include("anshin.contracts.urls")),
    path("", include("anshin.messaging.urls")),
    path("", include("anshin.notifications.urls")),
    path("", include("anshin.orders.urls")),
    path("", include("anshin.deals.urls")),
    path("", include("anshin.trust.urls")),
    path("", include("anshin.reviews.urls")),
    path("", include("anshin.payouts.urls")),
    path("ops/", include("anshin.ops.urls")),
]

# `make bench` only: the SELECT 1 ceiling every endpoint is measured against (bench/ceiling.py).
if os.environ.get("ANSHIN_BENCH") == "1" and not settings.PRODUCTION:
    from bench.ceiling import ceiling

    urlpatterns.append(path("bench/ceiling/", ceiling))
