"""Scenarios: components started from an init-style config, talking through services.

The scenario is examples/scenario: a key-value server and two clients
exchanging requests through the server's shared RAM and signals, one of
them reading a table (a managed dataspace) that the server pages.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from genode_support import ROOT, Build, Capture

from rtcr.abi import Errno
from rtcr.checkpoint import Launch, Outcome, Policy, Services, Session, SessionResult, Strategy
from rtcr.checkpoint.view import component_tree
from rtcr.errors import Denied, NotYet
from rtcr.genode.scenario import ScenarioError, launches, load_scenario
from rtcr.store import Store

EXAMPLE = ROOT / "examples" / "scenario"
CONFIG = EXAMPLE / "scenario.config"
Kv = tuple[list[Launch], Services]


@pytest.fixture(scope="module")
def kv(tmp_path_factory: pytest.TempPathFactory) -> Kv:
    """The example's components, compiled once."""
    return launches(load_scenario(CONFIG), {}, tmp_path_factory.mktemp("kv"))


class Run:
    def __init__(self, session: Session, capture: Capture, result: SessionResult) -> None:
        self.session = session
        self.lines = capture.labelled
        self.result = result
        self.digest = session.memory_digest()
        self.ids = [c.id for c in result.checkpoints]


def _run(kv: Kv, store: Store | None = None, every: int | None = None,
         strategy: Strategy = Strategy.RO_ATTACH, concurrent: Policy | None = None) -> Run:
    capture = Capture()
    session = Session.start_all(kv[0], services=kv[1], store=store, log_sink=capture,
                                strategy=strategy, concurrent=concurrent)
    return Run(session, capture, session.run(every=every))


def _assert_restores_exactly(reference: Run, store: Store, checkpoint: int) -> None:
    capture = Capture()
    session = Session.resume(store, checkpoint, log_sink=capture, checkpoint=False)
    again = Run(session, capture, session.run())
    assert again.lines == reference.lines[session.restored_log_lines:], checkpoint
    assert (again.result.outcome, again.result.exit_code) == (
        reference.result.outcome, reference.result.exit_code), checkpoint
    assert again.result.instructions == reference.result.instructions, checkpoint
    assert again.digest == reference.digest, checkpoint


def test_every_start_node_runs_with_its_log_labelled_by_its_name(kv: Kv) -> None:
    run = _run(kv)
    assert (run.result.outcome, run.result.exit_code) == (Outcome.EXITED, 0)
    assert [c.name for c in run.session.machine.components] == [
        "server", "client-a", "client-b"]
    assert run.lines[0] == "[server] server: announced requests, doorbell and table"
    assert "[client-a] client 0: round 3: key 3 holds 112 (added: 112)" in run.lines
    assert "[client-b] client 1: round 2: key 12 holds 212 (added: 212)" in run.lines
    assert run.lines[-2] == ("[server] server: 23 requests served, 8 table pages paged, "
                             "store sums to 1054")


def test_each_component_gets_its_quota_and_its_own_config(kv: Kv) -> None:
    run = _run(kv)
    server, a, b = run.session.machine.components
    assert (server.pd.ram_quota(), a.pd.ram_quota(), b.pd.ram_quota()) == (
        2 << 20, 1 << 20, 1 << 20)
    assert (server.pd.cap_quota(), a.pd.cap_quota()) == (200, 100)
    # only client-b's config asks for the table
    assert any(line.startswith("[client-b] client 1: table sums to ") for line in run.lines)
    assert not any(line.startswith("[client-a] client 0: table") for line in run.lines)


def test_the_server_pages_the_table_a_client_reads_through_its_managed_dataspace(
        kv: Kv) -> None:
    lines = _run(kv).lines
    paged = [f"[server] server: paged table page {p} (READ fault at {p * 4096:#x})"
             for p in range(8)]
    assert [line for line in lines if line.startswith("[server] server: paged")] == paged
    assert lines.index(paged[-1]) < lines.index("[client-b] client 1: table sums to 238336")


@pytest.mark.parametrize(("strategy", "concurrent"), [
    (Strategy.FULL, None), (Strategy.DETACH, None), (Strategy.RO_ATTACH, None),
    (Strategy.RO_ATTACH, Policy.WAIT)], ids=["full", "detach", "ro-attach", "concurrent"])
def test_the_scenario_restores_byte_exact_from_every_checkpoint(
        kv: Kv, tmp_path: Path, strategy: Strategy, concurrent: Policy | None) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(kv, store, every=2999, strategy=strategy, concurrent=concurrent)
    assert len(reference.ids) >= 10
    assert reference.lines == _run(kv).lines  # checkpoints change nothing
    for checkpoint in reference.ids:
        _assert_restores_exactly(reference, store, checkpoint)


def _waiting_for_the_pager(manifest: dict[str, Any]) -> bool:
    """client-b's thread queued on the server's table map."""
    announced = {name: oid for _, name, oid, _ in manifest["runtime"]["services"]["announced"]}
    return any(f["component"] == 2 and f["map"] == announced["table"]
               for f in manifest["faulters"])


def test_a_client_waiting_for_the_server_to_page_still_waits_after_restore(
        kv: Kv, tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(kv, store, every=499)
    waiting = [c for c in reference.ids if _waiting_for_the_pager(store.load(c).manifest)]
    assert waiting
    for checkpoint in waiting:
        _assert_restores_exactly(reference, store, checkpoint)


def test_the_image_holds_who_provides_what_the_routes_and_what_was_announced(
        kv: Kv, tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(kv, store, every=2999)
    services = store.load(reference.ids[-1]).manifest["runtime"]["services"]
    assert services["provides"]["server"] == ["requests", "doorbell", "table"]
    assert ["client-b", "table", "server"] in services["routes"]
    announced = {(p, name): managed for p, name, _, managed in services["announced"]}
    assert announced == {("server", "requests"): 0, ("server", "doorbell"): 0,
                         ("server", "table"): 1, ("client-a", "reply-0"): 0,
                         ("client-b", "reply-1"): 0}


def test_rtcr_show_lists_the_start_nodes_beside_the_target(kv: Kv, tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(kv, store, every=2999)
    checkpoint = reference.ids[len(reference.ids) // 2]
    store.close()
    proc = _rtcr("show", str(tmp_path / "store"), str(checkpoint))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    tree = lines.index("component tree:")
    assert lines[tree + 1] == "  server (the target)"
    assert lines[tree + 2].startswith("  client-a: running, PD ")
    assert lines[tree + 3].startswith("  client-b: running, PD ")


def test_a_service_is_announced_only_by_a_component_that_provides_it() -> None:
    services = Services({"server": ("requests",)}, {})
    with pytest.raises(Denied, match="client may not announce 'requests'"):
        services.announce("client", "requests", object())  # type: ignore[arg-type]


def test_a_request_without_a_route_is_denied() -> None:
    with pytest.raises(Denied, match="client has no route to a service 'requests'"):
        Services({"server": ("requests",)}, {}).request("client", "requests")


def test_a_request_before_the_announcement_says_not_yet() -> None:
    services = Services({"server": ("requests",)}, {("client", "requests"): "server"})
    with pytest.raises(NotYet, match="server has not announced 'requests' yet") as error:
        services.request("client", "requests")
    assert error.value.errno == Errno.EAGAIN


_START = '<start name="client" ram="1M" caps="50">'


@pytest.mark.parametrize(("config", "message"), [
    ("<runtime/>", "the top node is <runtime>, not <config>"),
    ("<config/>", "<config> has no <start> node: nothing to run"),
    ('<config><start ram="1M" caps="5"/></config>', "a <start> node has no name"),
    ('<config><start name="client" caps="50"/></config>',
     "<start name='client'>: no 'ram' attribute (its ram quota)"),
    ('<config><start name="client" ram="lots" caps="50"/></config>',
     "<start name='client'>: ram 'lots' is not a size"),
    (f"<config>{_START}</start>{_START}</start></config>",
     "<start name='client'>: a second start node of that name"),
    (f"<config>{_START}<resources/></start></config>",
     "<start name='client'>: unknown node <resources>"),
    (f'<config>{_START}<route><service name="kv"><child name="server"/></service></route>'
     "</start></config>",
     "<start name='client'>: route of 'kv' names <child name='server'>, which no start node"),
    (f'<config>{_START}<route><service name="kv"><child name="other"/></service></route>'
     '</start><start name="other" ram="1M" caps="5"/></config>',
     "<start name='client'>: route of 'kv': 'other' does not provide it"),
    (f'<config>{_START}<route><service name="ROM" label="x"><child name="other"/></service>'
     "</route></start></config>", "<start name='client'>: ROMs come from the <parent/> only"),
])
def test_a_bad_config_is_one_error_naming_the_node(tmp_path: Path, config: str,
                                                   message: str) -> None:
    path = tmp_path / "bad.config"
    path.write_text(config)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_a_missing_binary_names_its_start_node_and_where_it_was_looked_for(
        tmp_path: Path) -> None:
    path = tmp_path / "s.config"
    path.write_text(f'<config>{_START}<binary name="nowhere"/></start></config>')
    with pytest.raises(ScenarioError, match=r"<start name='client'>: no binary 'nowhere': "
                                            r"give --rom nowhere=FILE"):
        launches(load_scenario(path), {}, tmp_path)


def _rtcr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rtcr", *args], capture_output=True,
                          text=True, timeout=600, check=False)


def test_rtcr_run_of_a_bad_config_is_one_line_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "bad.config"
    path.write_text('<config><start name="client" ram="1M"/></config>')
    proc = _rtcr("run", str(path))
    assert proc.returncode != 0
    assert proc.stderr.strip() == (f"rtcr: error: {path}: <start name='client'>: no 'caps' "
                                   "attribute (its caps quota)")


def test_rtcr_run_of_the_example_compiles_and_runs_every_component() -> None:
    proc = _rtcr("run", str(CONFIG))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "[server] server: announced requests, doorbell and table"
    assert lines[-1] == "[client-b] client 1: goodbye after 23 requests served"


def test_rtcr_inspect_shows_the_components_of_the_newest_checkpoint(kv: Kv,
                                                                    tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    reference = _run(kv, store, every=2999)
    store.close()
    proc = _rtcr("inspect", str(tmp_path / "store"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    at = lines.index(f"components in checkpoint {reference.ids[-1]}:")
    assert lines[at + 1] == "  server (the target)"
    assert lines[at + 2].startswith("  client-a (started by the runtime")
    assert lines[at + 3].startswith("  client-b (started by the runtime")


def test_a_start_node_paging_its_own_child_runs_beside_the_others_and_all_restore(
        kv: Kv, genode_component: Build, tmp_path: Path) -> None:
    modules = {"kv_server": kv[0][0].roms["kv_server"], "kv_client": kv[0][1].roms["kv_client"],
               "tree_pager": genode_component("tree_pager").read_bytes()}
    config = tmp_path / "mixed.config"
    config.write_text(CONFIG.read_text().replace(
        "<config>", '<config><start name="pager" ram="4M" caps="300">'
                    '<binary name="tree_pager"/></start>', 1))
    store = Store.create(tmp_path / "store")
    reference = _run(launches(load_scenario(config), modules, tmp_path), store, every=29989)
    assert (reference.result.outcome, reference.result.exit_code) == (Outcome.EXITED, 0), (
        reference.result.diagnostic)
    assert [c.name for c in reference.session.machine.components][:2] == ["pager", "server"]
    assert "[paged] child: window 2 function returns 15" in reference.lines
    assert "[client-b] client 1: goodbye after 23 requests served" in reference.lines
    tree = component_tree(store.load(reference.ids[len(reference.ids) // 2]).manifest)
    assert [(n["name"], n["depth"], n["creator"]) for n in tree] == [
        ("pager", 0, None), ("paged", 1, "pager"), ("server", 0, None),
        ("client-a", 0, None), ("client-b", 0, None)]
    # the target ends first: the last checkpoints hold it ended, the others running
    assert store.load(reference.ids[-1]).manifest["component"]["exit_code"] == 0
    for checkpoint in reference.ids:
        _assert_restores_exactly(reference, store, checkpoint)
