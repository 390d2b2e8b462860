"""The kinds of deal a date change (and later other deal tools) can apply to: a contract or a service order.

Both have `delivery_date`, `role_of(user)` (client/buyer → CLIENT, worker/seller → WORKER), a `thread`,
`party_q(user)` for access, a `title`, and a due timer settled by their own service before any action."""

from dataclasses import dataclass

from django.apps import apps
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from anshin.core.errors import NotFound


@dataclass(frozen=True)
class DealKind:
    name: str  # "contract" | "order": in URLs and the API
    model_label: str
    open_states: tuple[str, ...]  # states in which the worker may propose and the client may approve
    client_field: str
    worker_field: str
    settle: str  # dotted path: fn(pk) settling the deal's due timers in their own transaction
    lock: str  # dotted path: fn(pk) locking the deal the way its own services do (same lock order, no deadlock)
    url_name: str
    word: str  # 契約 / 注文
    client_word: str
    worker_word: str

    @property
    def model(self):
        return apps.get_model(self.model_label)

    def settle_due(self, pk: int) -> None:
        import_string(self.settle)(pk)

    def url(self, deal) -> str:
        try:
            return reverse(self.url_name, args=[deal.pk])
        except NoReverseMatch:
            return f"/{self.name}s/{deal.pk}/"

    def client(self, deal):
        return getattr(deal, self.client_field)

    def worker(self, deal):
        return getattr(deal, self.worker_field)


KINDS = {
    "contract": DealKind(
        "contract",
        "contracts.Contract",
        ("funded", "revision_requested"),
        "client",
        "worker",
        "anshin.contracts.services.contract_settle_due",
        "anshin.contracts.services.contract_lock",
        "contracts:detail",
        "契約",
        "発注者",
        "受注者",
    ),
    "order": DealKind(
        "order",
        "orders.Order",
        ("in_progress",),
        "buyer",
        "seller",
        "anshin.orders.services.order_settle_due",
        "anshin.orders.services.order_lock",
        "orders:detail",
        "注文",
        "購入者",
        "出品者",
    ),
}


def kind_by_name(name: str) -> DealKind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound()
    return kind


def kind_of(deal) -> DealKind:
    label = deal._meta.label
    for kind in KINDS.values():
        if kind.model_label == label:
            return kind
    raise ValueError(f"not a deal: {label}")
