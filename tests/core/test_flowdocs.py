import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from anshin.contracts.flow import CONTRACT_FLOW
from anshin.core import flowdocs


def test_committed_flow_docs_match_the_tables():
    """Changing a flow table without `make flowdocs` fails here."""
    committed = flowdocs.output_path().read_text(encoding="utf-8")
    assert committed == flowdocs.render(), "docs/flows.md is stale: run `make flowdocs`"


def test_contract_diagram_draws_every_transition_and_timer():
    diagram = flowdocs.mermaid(CONTRACT_FLOW)
    for t in CONTRACT_FLOW.transitions:
        for source in t.sources:
            assert f"    {source} --> {t.target}: {t.action}（" in diagram
    assert "delivered --> accepted: deem_accept（⏱ 7日）" in diagram
    assert 'state "検収待ち" as delivered' in diagram
    table = flowdocs.table(CONTRACT_FLOW)
    row = ("| `deem_accept` |  | `delivered` | `accepted` | システム "
           "| `delivered` に入って7日後（リマインド: 3日前、1日前） |")
    assert row in table


def test_check_fails_on_a_stale_file(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    with pytest.raises(CommandError, match="stale"):
        call_command("flowdocs", "--check")
    call_command("flowdocs")
    assert (tmp_path / "docs" / "flows.md").read_text(encoding="utf-8") == flowdocs.render()
    call_command("flowdocs", "--check")
    (tmp_path / "docs" / "flows.md").write_text("# old\n", encoding="utf-8")
    with pytest.raises(CommandError, match="stale"):
        call_command("flowdocs", "--check")
