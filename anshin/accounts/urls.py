from django.urls import path

from anshin.accounts import views

app_name = "accounts"
urlpatterns = [
    path("users/<int:user_id>/", views.profile, name="profile"),
    path("settings/profile/", views.profile_edit, name="edit"),
    path("balance/", views.balance, name="balance"),
]
