from django.urls import path

from anshin.reviews import views

app_name = "reviews"
urlpatterns = [
    path("reviews/<int:window_id>/", views.window, name="window"),
    path("reviews/items/<int:review_id>/reply/", views.reply, name="reply"),
]
