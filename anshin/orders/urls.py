from django.urls import path

from anshin.orders import views

app_name = "orders"
urlpatterns = [
    path("services/", views.listing_list, name="listings"),
    path("services/new/", views.listing_create, name="listing_create"),
    path("services/<int:listing_id>/", views.listing_detail, name="listing"),
    path("services/<int:listing_id>/edit/", views.listing_edit, name="listing_edit"),
    path("services/<int:listing_id>/quote/", views.listing_quote, name="listing_quote"),
    path("services/<int:listing_id>/purchase/", views.order_purchase, name="purchase"),
    path("services/<int:listing_id>/state/<slug:action>/", views.listing_action, name="listing_action"),
    path("orders/", views.order_list, name="list"),
    path("orders/<int:order_id>/", views.order_detail, name="detail"),
    path("orders/<int:order_id>/actions/<slug:action>/", views.order_action, name="action"),
    path("orders/<int:order_id>/cancel-request/", views.cancel_request_create, name="cancel_request"),
    path("cancel-requests/<int:request_id>/<slug:action>/", views.cancel_request_answer, name="cancel_answer"),
]
