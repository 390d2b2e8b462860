"""Jobs and applications pages. Each view parses input with a form, calls one service or selector, renders.
Refused actions (DomainError) come back as a Japanese form error, never a 500; non-parties get 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from anshin.accounts.figures import figures_of
from anshin.core import clock
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.jobs import selectors, services
from anshin.jobs.flow import APPLICATION_FLOW, JOB_FLOW, SCOUT_FLOW, TEST_TASK_FLOW
from anshin.jobs.forms import (
    TEST_TASK_FORMS,
    ApplyForm,
    DeclineForm,
    JobForm,
    JobSearchForm,
    ScoutForm,
    TestTaskForm,
    form_errors,
)
from anshin.jobs.models import Application, DeclineReason, Job

PAGE_SIZE = 20
OFFERABLE = ("applied", "shortlisted")


def _page(request, queryset, size=PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _refuse(error: DomainError):
    """404 for NotFound (never reveal other people's deals); otherwise let the caller show the message."""
    if isinstance(error, NotFound) or error.status == 404:
        raise Http404(error.message)


def _next_or(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- jobs -----------------------------------------------------------------------------------------------


def job_list(request):
    form = JobSearchForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # invalid fields are shown and ignored
    page = _page(request, selectors.job_search(**form.search_args()))
    selectors.attach_figures(page, person="client", to="client_figures", compute=False)  # the busiest page
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = (
        "jobs/list.html#results" if getattr(request, "htmx", False) and not request.htmx.boosted else "jobs/list.html"
    )
    return render(request, template, context)


def _own_job_or_404(request, job_id: int) -> Job:
    job = get_object_or_404(Job.objects.select_related("client"), pk=job_id)
    if job.client_id != request.user.pk:
        raise Http404
    return job


def _detail_context(request, job: Job, apply_form=None) -> dict:
    user = request.user
    context = {
        "job": job,
        "is_client": False,
        "application": None,
        "apply_form": None,
        "can_apply": False,
        "transitions": [],
        "applicant_count": job.applications.count(),
        "scout": None,
        "client_figures": figures_of(job.client),
    }
    if not user.is_authenticated:
        return context
    if job.client_id == user.pk:
        context["is_client"] = True
        context["transitions"] = JOB_FLOW.allowed(job.state, [Actor.CLIENT], job)  # no 再開 past the deadline
        return context
    context["application"] = Application.objects.select_related("thread").filter(job=job, worker=user).first()
    context["scout"] = selectors.scout_pending(job=job, user=user)
    context["can_apply"] = (
        context["application"] is None and job.state == "open" and job.application_deadline >= clock.today()
    )
    if context["can_apply"]:
        context["apply_form"] = apply_form or ApplyForm()
    return context


def job_detail(request, job_id: int):
    job = get_object_or_404(Job.objects.select_related("client", "client__presence"), pk=job_id)
    return render(request, "jobs/detail.html", _detail_context(request, job))


@login_required
@require_POST
def job_apply(request, job_id: int):
    job = get_object_or_404(Job.objects.select_related("client", "client__presence"), pk=job_id)
    form = ApplyForm(request.POST)
    if form.is_valid():
        try:
            application = services.application_create(job_id=job.pk, user=request.user, **form.cleaned_data)
        except DomainError as error:
            _refuse(error)
            form.add_error(None, error.message)
        else:
            messages.success(request, "応募しました。発注者からの連絡をお待ちください。")
            return redirect("jobs:application", application.pk)
    context = _detail_context(request, job, apply_form=form)
    if context["apply_form"] is None:  # e.g. already applied or closed: still show why
        context["apply_form"] = form
        context["apply_refused"] = True
    return render(request, "jobs/detail.html", context, status=400)


@login_required
def job_create(request):
    form = JobForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.job_create(user=request.user, **form.service_data())
        except DomainError as error:
            _refuse(error)
            form.add_error(None, error.message)
        else:
            messages.success(request, "仕事を掲載しました。")
            return redirect("jobs:detail", job.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "jobs/form.html", {"form": form, "job": None}, status=status)


@login_required
def job_edit(request, job_id: int):
    job = _own_job_or_404(request, job_id)
    if request.method == "POST":
        form = JobForm(request.POST)
        if form.is_valid():
            try:
                services.job_update(job_id=job.pk, user=request.user, **form.service_data())
            except DomainError as error:
                _refuse(error)
                form.add_error(None, error.message)
            else:
                messages.success(request, "仕事の内容を更新しました。")
                return redirect("jobs:detail", job.pk)
        return render(request, "jobs/form.html", {"form": form, "job": job}, status=400)
    initial = {name: getattr(job, name) for name in JobForm.base_fields}
    return render(request, "jobs/form.html", {"form": JobForm(initial=initial), "job": job})


@login_required
def job_transition(request, job_id: int, action: str):
    if request.method != "POST":
        _own_job_or_404(request, job_id)  # non-parties learn nothing, not even that the URL exists
        return HttpResponseNotAllowed(["POST"])
    try:
        job = services.job_transition(job_id=job_id, user=request.user, action=action)
    except DomainError as error:
        _refuse(error)
        messages.error(request, error.message)
        return redirect("jobs:detail", job_id)
    labels = {"close": "募集を終了しました。", "reopen": "募集を再開しました。"}
    messages.success(request, labels.get(action, "更新しました。"))
    return redirect("jobs:detail", job.pk)


@login_required
def job_applicants(request, job_id: int):
    job = _own_job_or_404(request, job_id)
    applications = selectors.job_applicants(job=job).select_related("contract")
    page = _page(request, applications)
    selectors.attach_figures(page, person="worker", to="worker_figures")
    for application in page:
        application.client_actions = _client_actions(application)
    counts = dict(job.applications.values_list("state").annotate(n=Count("id")))
    return render(
        request,
        "jobs/applicants.html",
        {
            "job": job,
            "page": page,
            "decline_reasons": DeclineReason.choices,
            "counts": [(label, counts.get(state, 0)) for state, label in APPLICATION_FLOW.states.items()],
            "test_states": OFFERABLE,
        },
    )


# --- applications ---------------------------------------------------------------------------------------


def _client_actions(application: Application) -> list:
    """Buttons the client may press, from the flow table; `offer` is a link to the contract offer form."""
    return [
        t
        for t in APPLICATION_FLOW.allowed(application.state, [Actor.CLIENT])
        if t.action != "offer" or application.state in OFFERABLE
    ]


def _contract_of(application: Application):
    try:
        return application.contract
    except ObjectDoesNotExist:
        return None


@login_required
def my_applications(request):
    page = _page(request, selectors.applications_for(user=request.user).select_related("contract"))
    for application in page:
        application.worker_actions = APPLICATION_FLOW.allowed(application.state, [Actor.WORKER])
    return render(request, "jobs/my_applications.html", {"page": page})


@login_required
def application_detail(request, application_id: int):
    try:
        application = selectors.application_get(application_id=application_id, user=request.user)
    except DomainError as error:
        raise Http404(error.message) from None
    is_client = application.job.client_id == request.user.pk
    is_worker = application.worker_id == request.user.pk
    if is_client:
        actions = _client_actions(application)
    elif is_worker:
        actions = APPLICATION_FLOW.allowed(application.state, [Actor.WORKER])
    else:  # an operator looking in
        actions = []
    return render(
        request,
        "jobs/application.html",
        {
            "application": application,
            "is_client": is_client,
            "is_worker": is_worker,
            "actions": actions,
            "contract": _contract_of(application),
            "decline_form": DeclineForm(),
            "decline_reasons": DeclineReason.choices,
            **_test_task_context(application, request.user),
        },
    )


# --- test tasks -----------------------------------------------------------------------------------------

TEST_TASK_ACTIONS = {  # URL word -> flow actions it may take
    "blocker": ("report_blocker",),
    "answer": ("answer_blocker",),
    "submit": ("submit",),
    "evaluate": ("pass", "fail"),
}
TEST_TASK_DONE = {
    "send": "テスト課題を送りました。",
    "blocker": "質問を送りました。回答があるまでテストの時計は止まっています。",
    "answer": "回答を送りました。テストの時計が再開しました。",
    "submit": "テスト課題を提出しました。",
    "evaluate": "評価を送りました。",
}


def _test_task_context(application: Application, user, *, bound: dict | None = None, error: str = "") -> dict:
    """The test task panel: its clock, and the forms this user may fill now (from the flow table)."""
    bound = bound or {}
    task = selectors.test_task_of(application)
    is_client = application.job.client_id == user.pk
    context = {"test_task": task, "test_task_error": error, "test_task_forms": [], "test_send_form": None}
    if task is None:
        if is_client and application.state in OFFERABLE:
            context["test_send_form"] = bound.get("send") or TestTaskForm()
        return context
    role = Actor.CLIENT if is_client else Actor.WORKER if application.worker_id == user.pk else None
    allowed = {t.action for t in TEST_TASK_FLOW.allowed(task.state, [role])} if role else set()
    for word, flow_actions in TEST_TASK_ACTIONS.items():
        if allowed & set(flow_actions):
            context["test_task_forms"].append((word, bound.get(word) or TEST_TASK_FORMS[word]()))
    return context


def _application_or_404(request, application_id: int) -> Application:
    try:
        return selectors.application_get(application_id=application_id, user=request.user)
    except DomainError as error:
        raise Http404(error.message) from None


def _test_task_refused(request, application_id: int, word: str, form, error: DomainError):
    _refuse(error)
    application = _application_or_404(request, application_id)  # fresh: the clock may have settled it
    is_client = application.job.client_id == request.user.pk
    actions = _client_actions(application) if is_client else (
        APPLICATION_FLOW.allowed(application.state, [Actor.WORKER]) if application.worker_id == request.user.pk
        else [])
    context = {
        "application": application,
        "is_client": is_client,
        "is_worker": application.worker_id == request.user.pk,
        "actions": actions,
        "contract": _contract_of(application),
        "decline_reasons": DeclineReason.choices,
        **_test_task_context(application, request.user, bound={word: form} if form else None, error=error.message),
    }
    status = error.status if 400 <= error.status < 500 else 400
    return render(request, "jobs/application.html", context, status=status)


@login_required
def test_task_send(request, application_id: int):
    _application_or_404(request, application_id)  # non-parties learn nothing, whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TestTaskForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        data = form.cleaned_data
        services.test_task_send(application_id=application_id, user=request.user, instructions=data["instructions"],
                                duration=form.duration(), links=data["links"], files=data["files"])
    except DomainError as error:
        return _test_task_refused(request, application_id, "send", form, error)
    messages.success(request, TEST_TASK_DONE["send"])
    return redirect(reverse("jobs:application", args=[application_id]) + "#test-task")


@login_required
def test_task_action(request, application_id: int, word: str):
    _application_or_404(request, application_id)
    if word not in TEST_TASK_ACTIONS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TEST_TASK_FORMS[word](request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        data, user = form.cleaned_data, request.user
        if word == "blocker":
            services.test_task_report_blocker(application_id=application_id, user=user, question=data["question"])
        elif word == "answer":
            services.test_task_answer_blocker(application_id=application_id, user=user, answer=data["answer"])
        elif word == "submit":
            services.test_task_submit(application_id=application_id, user=user, body=data["body"],
                                      links=data["links"], files=data["files"])
        else:
            services.test_task_evaluate(application_id=application_id, user=user, result=data["result"],
                                        comment=data["comment"])
    except DomainError as error:
        return _test_task_refused(request, application_id, word, form, error)
    messages.success(request, TEST_TASK_DONE[word])
    return redirect(reverse("jobs:application", args=[application_id]) + "#test-task")


# --- scouting -------------------------------------------------------------------------------------------


@login_required
def scout_list(request):
    """Scouts I received (worker) — the job, the message, apply or decline."""
    page = _page(request, selectors.scouts_for(user=request.user))
    return render(request, "jobs/scouts.html", {"page": page, "sent": False,
                                                "decline": SCOUT_FLOW.allowed("sent", [Actor.WORKER])})


@login_required
def scout_sent_list(request):
    page = _page(request, selectors.scouts_sent(user=request.user))
    return render(request, "jobs/scouts.html", {"page": page, "sent": True, "decline": []})


@login_required
@require_POST
def scout_send(request):
    form = ScoutForm(request.POST)
    if not form.is_valid():
        worker_id = request.POST.get("worker", "")
        messages.error(request, form_errors(form))
        if worker_id.isdigit() and len(worker_id) < 16:
            return redirect(reverse("accounts:profile", args=[int(worker_id)]) + "#scout")
        return redirect("jobs:scouts_sent")
    data = form.cleaned_data
    try:
        services.scout_send(user=request.user, job_id=data["job"], worker_id=data["worker"], message=data["message"])
    except DomainError as error:
        _refuse(error)
        messages.error(request, error.message)
        return redirect(reverse("accounts:profile", args=[data["worker"]]) + "#scout")
    messages.success(request, "スカウトを送りました。返事はメッセージとお知らせでお伝えします。")
    return redirect("jobs:scouts_sent")


@login_required
def scout_decline(request, scout_id: int):
    try:
        scout = selectors.scout_get(scout_id=scout_id, user=request.user)
    except DomainError as error:
        raise Http404(error.message) from None
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.scout_decline(scout_id=scout.pk, user=request.user)
    except DomainError as error:
        _refuse(error)
        messages.error(request, error.message)
    else:
        messages.success(request, "スカウトを辞退しました。")
    return redirect(_next_or(request, reverse("jobs:scouts")))


@login_required
def application_action(request, application_id: int, action: str):
    if request.method != "POST":
        try:
            selectors.application_get(application_id=application_id, user=request.user)
        except DomainError as error:
            raise Http404(error.message) from None
        return HttpResponseNotAllowed(["POST"])
    default = reverse("jobs:application", args=[application_id])
    try:
        services.application_transition(
            application_id=application_id, user=request.user, action=action, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        _refuse(error)
        messages.error(request, error.message)
        return redirect(_next_or(request, default))
    done = {
        "shortlist": "候補に入れました。",
        "unshortlist": "候補から外しました。",
        "decline": "見送りました。理由は応募者に通知されます。",
        "withdraw": "応募を辞退しました。",
    }
    messages.success(request, done.get(action, "更新しました。"))
    return redirect(_next_or(request, default))
