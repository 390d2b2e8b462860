from django.urls import path

from anshin.contracts import views

app_name = "contracts"
urlpatterns = [
    path("contracts/", views.contract_list, name="list"),
    path("contracts/<int:contract_id>/", views.detail, name="detail"),
    path("contracts/<int:contract_id>/actions/<slug:action>/", views.action, name="action"),
    path("contracts/<int:contract_id>/termination/", views.termination_request, name="termination_request"),
    path("contracts/<int:contract_id>/termination/preview/", views.termination_preview, name="termination_preview"),
    path("contracts/termination/<int:request_id>/<slug:action>/", views.termination_answer, name="termination_answer"),
    path("applications/<int:application_id>/offer/", views.offer, name="offer"),
]
