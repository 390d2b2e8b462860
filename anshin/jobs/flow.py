"""Job and application flows (PRODUCT.md §1)."""

from anshin.core.flows import Actor, Flow, T

C, W, O = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR

JOB_FLOW = Flow(
    name="job",
    states={"open": "募集中", "closed": "募集終了"},
    transitions=[
        T("close", ("open",), "closed", (C, O), "募集を終了する", "secondary"),
        T("reopen", ("closed",), "open", (C, O), "募集を再開する", "secondary"),
    ],
)

APPLICATION_FLOW = Flow(
    name="application",
    states={
        "applied": "応募中",
        "shortlisted": "候補",
        "offered": "契約オファー済み",
        "declined": "見送り",
        "withdrawn": "辞退",
    },
    transitions=[
        T("shortlist", ("applied",), "shortlisted", (C, O), "候補に入れる", "secondary"),
        T("unshortlist", ("shortlisted",), "applied", (C, O), "候補から外す", "secondary"),
        T("decline", ("applied", "shortlisted"), "declined", (C, O), "見送る", "danger"),
        T("offer", ("applied", "shortlisted"), "offered", (C, O), "契約をオファーする"),
        T("withdraw", ("applied", "shortlisted"), "withdrawn", (W, O), "応募を辞退する", "danger"),
    ],
    terminal=frozenset({"offered", "declined", "withdrawn"}),  # after an offer, the contract carries the story
)
