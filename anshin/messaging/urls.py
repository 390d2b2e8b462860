from django.urls import path

from anshin.messaging import views

app_name = "messaging"
urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/<int:thread_id>/", views.thread, name="thread"),
    path("messages/<int:thread_id>/poll/", views.poll, name="poll"),
    path("messages/<int:thread_id>/send/", views.send, name="send"),
    path("files/<str:token>/", views.attachment, name="attachment"),
]
