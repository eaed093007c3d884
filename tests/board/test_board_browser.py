"""The board in a real browser: headless Chromium from Debian's packages driven by Playwright (never a
downloaded browser), against node processes with an HTTP port. A train job (reader -> psi ->
coordinated_lr -> evaluation) runs while its page is open: task states arrive over the live stream,
with no reload, until every task is green; then the finished job's page is opened afresh and the
evaluation task's ROC curve is drawn.

Screenshots are kept under the test's tmp_path (the path is printed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from tests.board.support import chromium_binary, wait_script
from tests.e2e.test_outputs_e2e import GUEST, HOST, Flow, upload_breast
from tests.support.nodes import DAGS

TASKS = ("reader_0", "psi_0", "lr_0", "evaluation_0")
GREEN = "#2e9d5b"
HTTP_CONF = {"http": {"listen": "127.0.0.1:0"}}
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    binary = chromium_binary()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is a test dependency: pip install -e '.[dev]'"
    )
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: containers and root users have no user namespaces for Chromium's sandbox.
        browser = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        try:
            yield browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        finally:
            browser.close()


def wait_until(page: Any, condition: str, timeout_ms: int = 30_000) -> None:
    page.evaluate(wait_script(condition, timeout_ms))


def screenshot(page: Any, directory: Path, name: str) -> None:
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"board screenshot: {path}")


def http_address(cluster: LocalCluster, party_id: str) -> str:
    """The node's HTTP port, from its start-up line (port 0 picked a free one)."""
    log_text = (cluster.parties[party_id].data_dir / "logs" / "node.log").read_text()
    [address] = re.findall(r"HTTP on ([0-9.]+:[0-9]+)", log_text)
    return address


def test_a_train_job_seen_live_then_its_roc_curve(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with LocalCluster(tmp_path / "nodes", [GUEST, HOST], extra_conf=HTTP_CONF) as cluster:
        flow = Flow(cluster)
        upload_breast(flow)
        board = f"http://{http_address(cluster, GUEST)}/board/"
        job_id = flow.ok("job", "submit", "-c", str(DAGS / "coordinated_lr.yaml"))["job_id"]

        # The arbiter's training task, at its own party's board, follows the job too: its loss curve
        # grows to every epoch without a reload.
        arbiter = page.context.new_page()
        arbiter.goto(f"http://{http_address(cluster, HOST)}/board/#/job/{job_id}/task/lr_0/arbiter/{HOST}")
        arbiter.evaluate("window.loadedOnce = true")

        # Live: the page of the running job, never reloaded, turns every task green.
        page.goto(f"{board}#/job/{job_id}")
        wait_until(page, "window.board.dag !== null")
        page.evaluate("window.loadedOnce = true")
        first = page.evaluate("JSON.stringify(window.board.states)")
        wait_until(
            page,
            "Object.keys(window.board.states).length === 4"
            " && Object.values(window.board.states).every((v) => v === 'success')",
            timeout_ms=240_000,
        )
        assert page.evaluate("window.loadedOnce") is True  # the same document: no reload
        print(f"task states when the page opened: {first}")
        # The page opened before the end (training takes seconds), so the green came over the stream.
        assert set(json.loads(first).values()) != {"success"}
        assert flow.ok("job", "query", "-j", job_id)["data"][0]["status"] == "success"
        screenshot(page, shots, "job_live_done")
        loss_points = "window.board.charts.loss.getOption().series[0].data.length"
        wait_until(arbiter, f"window.board.charts.loss !== undefined && {loss_points} === 10")
        assert arbiter.evaluate("window.loadedOnce") is True
        screenshot(arbiter, shots, "arbiter_loss")

        # The finished job opened afresh: the DAG is drawn with every task green.
        page.goto("about:blank")
        page.goto(f"{board}#/job/{job_id}")
        wait_until(page, "window.board.dag !== null && window.board.live === 'ended'")
        nodes = page.evaluate(
            "window.board.dag.getOption().series[0].data.filter((d) => !d.name.startsWith('port:'))"
            ".map((d) => [d.name, d.value, d.itemStyle.color])"
        )
        assert sorted(nodes) == sorted([name, "success", GREEN] for name in TASKS)
        assert page.locator("#dag canvas").count() >= 1
        screenshot(page, shots, "job_finished")

        # The evaluation task at the guest: the ROC curve is drawn from the evaluation's metric.
        page.click(f'#tasks-table a[href$="/task/evaluation_0/guest/{GUEST}"]')
        roc = "roc:lr_0.train_set"
        wait_until(page, f"window.board.charts[{roc!r}] !== undefined")
        series = page.evaluate(
            f"window.board.charts[{roc!r}].getOption().series.map((s) => [s.name, s.data.length])"
        )
        assert series[0][0] == "ROC" and series[0][1] > 10 and series[1] == ["chance", 2]
        box = page.locator(f'[data-chart="{roc}"] canvas').bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
        assert canvas_has_ink(page, roc)
        assert page.locator("#task-title").text_content() == f"evaluation_0 (evaluation) at guest {GUEST}"
        page.locator(f'[data-chart="{roc}"]').scroll_into_view_if_needed()
        screenshot(page, shots, "evaluation_roc")


def canvas_has_ink(page: Any, chart_id: str) -> bool:
    """Whether the chart's canvas holds drawn pixels (not a blank surface)."""
    return bool(
        page.evaluate(
            """(id) => {
                const canvas = document.querySelector(`[data-chart="${id}"] canvas`);
                const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let inked = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) inked++;
                return inked > 1000;
            }""",
            chart_id,
        )
    )
