"""Profiles (public), profile settings and the worker balance page."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from anshin.accounts import services
from anshin.accounts.figures import figures_of, recent_reviews
from anshin.accounts.forms import ProfileForm
from anshin.core.errors import DomainError
from anshin.jobs.selectors import open_jobs_of
from anshin.ledger import services as ledger
from anshin.ledger.selectors import postings_for

PAGE_SIZE = 20


def profile(request, user_id: int):
    """The public profile with the person's figures (anshin.accounts.figures): a fixed number of queries."""
    person = get_object_or_404(get_user_model().objects.select_related("presence"), pk=user_id, is_active=True)
    return render(
        request,
        "accounts/profile.html",
        {
            "person": person,
            "open_jobs": open_jobs_of(person),
            "is_me": request.user.pk == person.pk,
            "figures": figures_of(person),
            "reviews": recent_reviews(person),
        },
    )


@login_required
def profile_edit(request):
    user = request.user
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=user)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.profile_update(user=user, **{k: form.cleaned_data[k] for k in ProfileForm.Meta.fields})
            except DomainError as error:
                if error.status == 404:
                    raise Http404 from None
                form.add_error(None, error.message)
            else:
                messages.success(request, "プロフィールを更新しました。")
                return redirect("accounts:profile", user.pk)
        user.refresh_from_db()  # a ModelForm writes its cleaned values onto the instance; undo for the header
        return render(request, "accounts/edit.html", {"form": form}, status=400)
    return render(request, "accounts/edit.html", {"form": form})


@login_required
def balance(request):
    code = ledger.worker_code(request.user.pk)
    page = Paginator(postings_for(code), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/balance.html", {"available": ledger.balance(code), "page": page})
