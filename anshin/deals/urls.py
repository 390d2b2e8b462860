from django.urls import path

from anshin.deals import views

app_name = "deals"
urlpatterns = [
    path(
        "deals/date-changes/<slug:deal_kind>/<int:deal_id>/propose/",
        views.date_change_propose,
        name="date_change_propose",
    ),
    path("deals/date-changes/<int:request_id>/<slug:action>/", views.date_change_answer, name="date_change_answer"),
]
