from django.urls import path

from anshin.notifications import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/settings/", views.email_settings, name="settings"),
    path("notifications/read-all/", views.mark_all_read, name="read_all"),
    path("notifications/<int:notification_id>/open/", views.open_notification, name="open"),
]
