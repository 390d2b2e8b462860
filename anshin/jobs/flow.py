"""Job and application flows (PRODUCT.md §1)."""

from django.utils.translation import gettext_lazy as _

from anshin.core.flows import Actor, Flow, T

C, W, O = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR

JOB_FLOW = Flow(
    name="job",
    states={"open": _("募集中"), "closed": _("募集終了")},
    transitions=[
        T("close", ("open",), "closed", (C, O), _("募集を終了する"), "secondary"),
        T("reopen", ("closed",), "open", (C, O), _("募集を再開する"), "secondary"),
    ],
)

APPLICATION_FLOW = Flow(
    name="application",
    states={
        "applied": _("応募中"),
        "shortlisted": _("候補"),
        "offered": _("契約オファー済み"),
        "declined": _("見送り"),
        "withdrawn": _("辞退"),
    },
    transitions=[
        T("shortlist", ("applied",), "shortlisted", (C, O), _("候補に入れる"), "secondary"),
        T("unshortlist", ("shortlisted",), "applied", (C, O), _("候補から外す"), "secondary"),
        T("decline", ("applied", "shortlisted"), "declined", (C, O), _("見送る"), "danger"),
        T("offer", ("applied", "shortlisted"), "offered", (C, O), _("契約をオファーする")),
        T("withdraw", ("applied", "shortlisted"), "withdrawn", (W, O), _("応募を辞退する"), "danger"),
    ],
    terminal=frozenset({"offered", "declined", "withdrawn"}),  # after an offer, the contract carries the story
)
