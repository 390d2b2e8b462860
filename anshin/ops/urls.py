from django.urls import path

from anshin.ops import views

app_name = "ops"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("queue/", views.queue, name="queue_all"),
    path("queue/<slug:kind>/", views.queue, name="queue"),
    path("items/<int:item_id>/", views.item, name="item"),
    path("items/<int:item_id>/assign/", views.item_assign, name="item_assign"),
    path("items/<int:item_id>/close/", views.item_close, name="item_close"),
    path("items/<int:item_id>/permit/", views.item_permit, name="item_permit"),
    path("items/<int:item_id>/resolve/", views.item_resolve, name="item_resolve"),
    path("items/<int:item_id>/message/", views.item_message, name="item_message"),
    path("items/<int:item_id>/pay/", views.item_pay, name="item_pay"),
    path("items/<int:item_id>/reverse/", views.item_reverse, name="item_reverse"),
    path("withdrawals/", views.withdrawals, name="withdrawals"),
    path("users/<int:user_id>/", views.user, name="user"),
    path("users/<int:user_id>/actions/", views.user_action, name="user_action"),
    path("audit/", views.audit_log, name="audit"),
]
