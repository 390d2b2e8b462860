from django.urls import path, re_path

from anshin.jobs import views
from anshin.jobs.flow import APPLICATION_FLOW

# Application transitions from the flow table, except `offer`: /applications/<id>/offer/ is the contract offer
# form (contracts app).
ACTIONS = "|".join(sorted({t.action for t in APPLICATION_FLOW.transitions} - {"offer"}))

app_name = "jobs"
urlpatterns = [
    path("jobs/new/", views.job_create, name="create"),
    path("jobs/<int:job_id>/", views.job_detail, name="detail"),
    path("jobs/<int:job_id>/edit/", views.job_edit, name="edit"),
    path("jobs/<int:job_id>/apply/", views.job_apply, name="apply"),
    path("jobs/<int:job_id>/applicants/", views.job_applicants, name="applicants"),
    path("jobs/<int:job_id>/state/<slug:action>/", views.job_transition, name="transition"),
    path("applications/", views.my_applications, name="my_applications"),
    path("applications/<int:application_id>/", views.application_detail, name="application"),
    path("applications/<int:application_id>/test-task/", views.test_task_send, name="test_task_send"),
    path("applications/<int:application_id>/test-task/<slug:word>/", views.test_task_action,
         name="test_task_action"),
    path("scouts/", views.scout_list, name="scouts"),
    path("scouts/sent/", views.scout_sent_list, name="scouts_sent"),
    path("scouts/new/", views.scout_send, name="scout_send"),
    path("scouts/<int:scout_id>/decline/", views.scout_decline, name="scout_decline"),
    re_path(
        rf"^applications/(?P<application_id>[0-9]+)/(?P<action>{ACTIONS})/$",
        views.application_action,
        name="application_action",
    ),
]
