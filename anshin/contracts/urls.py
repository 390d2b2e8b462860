from django.urls import path

from anshin.contracts import views

app_name = "contracts"
urlpatterns = [
    path("contracts/", views.contract_list, name="list"),
    path("contracts/<int:contract_id>/", views.detail, name="detail"),
    path("contracts/<int:contract_id>/actions/<slug:action>/", views.action, name="action"),
    path("applications/<int:application_id>/offer/", views.offer, name="offer"),
]
