from django.urls import path

from anshin.trust import views

app_name = "trust"
urlpatterns = [
    path("users/<int:user_id>/block/", views.block, name="block"),
    path("users/<int:user_id>/unblock/", views.unblock, name="unblock"),
    path("settings/blocks/", views.block_list, name="blocks"),
    path("reports/new/", views.report_new, name="report_new"),
]
