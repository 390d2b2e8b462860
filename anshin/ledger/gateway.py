"""Payment gateways. The development gateway approves every card but the test tokens below; the real one
(card processor, bank transfer confirmed by an operator) plugs in behind the same interface."""

from dataclasses import dataclass

DECLINE_TOKEN = "tok_decline"  # demo: a card that the issuer refuses


@dataclass(frozen=True)
class Charge:
    approved: bool
    reference: str
    message: str = ""


class DevGateway:
    def charge(self, *, amount: int, token: str, key: str) -> Charge:
        if token == DECLINE_TOKEN:
            return Charge(False, f"dev-{key}", "カード会社により決済が承認されませんでした。")
        return Charge(True, f"dev-{key}")


def gateway() -> DevGateway:
    return DevGateway()
