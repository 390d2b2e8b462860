from django.urls import path

from anshin.payouts import views

app_name = "payouts"
urlpatterns = [
    path("payouts/", views.withdrawals, name="list"),
    path("payouts/<int:withdrawal_id>/cancel/", views.cancel, name="cancel"),
    path("payouts/bank-account/", views.bank_account, name="bank_account"),
]
