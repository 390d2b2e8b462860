from django.urls import path

from anshin.messaging import views

app_name = "messaging"
urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/<int:thread_id>/", views.thread, name="thread"),
    path("messages/<int:thread_id>/poll/", views.poll, name="poll"),
    path("messages/<int:thread_id>/older/", views.older, name="older"),
    path("messages/<int:thread_id>/send/", views.send, name="send"),
    path("messages/<int:thread_id>/progress/", views.progress, name="progress"),
    path("messages/<int:thread_id>/delay/", views.delay, name="delay"),
    path("messages/<int:thread_id>/ack/", views.ack, name="ack"),
    path("messages/<int:thread_id>/nudge/", views.nudge, name="nudge"),
    path("messages/<int:thread_id>/permits/", views.permit_request, name="permit_request"),
    path("messages/<int:thread_id>/permits/<int:permit_id>/withdraw/", views.permit_withdraw,
         name="permit_withdraw"),
    path("files/<str:token>/", views.attachment, name="attachment"),
]
