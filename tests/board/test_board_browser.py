"""The board in a real browser: headless Chromium from Debian's packages driven by Playwright (never a
downloaded browser). A train job (reader -> psi -> coordinated_lr -> evaluation) runs at two nodes while
its page is open: task states arrive over the live stream with no reload until every task is green;
then the finished job's page is opened afresh and the evaluation task's ROC curve is drawn.

Screenshots are kept under the test's tmp_path (the path is printed).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fate_grpc.common.v1 import common_pb2
from tests.board.support import board_client, chromium_binary, wait_script
from tests.support.nodes import DAGS, federation

GUEST, HOST = "9999", "10000"
TASKS = ("reader_0", "psi_0", "lr_0", "evaluation_0")
GREEN = "#2e9d5b"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def browser_page() -> AsyncIterator[Any]:
    binary = chromium_binary()
    async_api = pytest.importorskip(
        "playwright.async_api", reason="Playwright for Python is a test dependency: pip install -e '.[dev]'"
    )
    async with async_api.async_playwright() as playwright:
        # --no-sandbox: containers and root users have no user namespaces for Chromium's sandbox.
        browser = await playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 1100})
            yield await context.new_page()
        finally:
            await browser.close()


async def wait_until(page: Any, condition: str, timeout_ms: int = 30_000) -> None:
    await page.evaluate(wait_script(condition, timeout_ms))


async def screenshot(page: Any, directory: Path, name: str) -> None:
    path = directory / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"board screenshot: {path}")


async def test_a_train_job_seen_live_then_its_roc_curve(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with (
        federation(tmp_path / "nodes", [GUEST, HOST]) as fed,
        board_client(fed.nodes[GUEST]) as board,
        board_client(fed.nodes[HOST]) as host_board,
    ):
        await fed.upload_breast()
        job_id = await fed.submit(GUEST, (DAGS / "coordinated_lr.yaml").read_text())
        base = str(board.make_url("/board/"))

        # The arbiter's training task, at its own party's board, follows the job too: its loss curve
        # grows to every epoch without a reload.
        arbiter = await page.context.new_page()
        await arbiter.goto(f"{host_board.make_url('/board/')}#/job/{job_id}/task/lr_0/arbiter/{HOST}")
        await arbiter.evaluate("window.loadedOnce = true")

        # Live: the page of the running job, never reloaded, turns every task green.
        await page.goto(f"{base}#/job/{job_id}")
        await wait_until(page, "window.board.dag !== null")
        await page.evaluate("window.loadedOnce = true")
        first = await page.evaluate("JSON.stringify(window.board.states)")
        await wait_until(
            page,
            "Object.keys(window.board.states).length === 4"
            " && Object.values(window.board.states).every((v) => v === 'success')",
            timeout_ms=240_000,
        )
        assert await page.evaluate("window.loadedOnce") is True  # the same document: no reload
        assert (await fed.wait_job(GUEST, job_id)).status == common_pb2.JOB_STATUS_SUCCESS
        print(f"task states when the page opened: {first}")
        # The page opened before the end (training takes seconds), so the green came over the stream.
        assert set(json.loads(first).values()) != {"success"}
        await screenshot(page, shots, "job_live_done")
        loss_points = "window.board.charts.loss.getOption().series[0].data.length"
        await wait_until(arbiter, f"window.board.charts.loss !== undefined && {loss_points} === 10")
        assert await arbiter.evaluate("window.loadedOnce") is True
        await screenshot(arbiter, shots, "arbiter_loss")

        # The finished job opened afresh: the DAG is drawn with every task green.
        await page.goto("about:blank")
        await page.goto(f"{base}#/job/{job_id}")
        await wait_until(page, "window.board.dag !== null && window.board.live === 'ended'")
        nodes = await page.evaluate(
            "window.board.dag.getOption().series[0].data.filter((d) => !d.name.startsWith('port:'))"
            ".map((d) => [d.name, d.value, d.itemStyle.color])"
        )
        assert sorted(nodes) == sorted([name, "success", GREEN] for name in TASKS)
        assert await page.locator("#dag canvas").count() >= 1
        await screenshot(page, shots, "job_finished")

        # The evaluation task at the guest: the ROC curve is drawn from the evaluation's metric.
        await page.click(f'#tasks-table a[href$="/task/evaluation_0/guest/{GUEST}"]')
        roc = "roc:lr_0.train_set"
        await wait_until(page, f"window.board.charts[{roc!r}] !== undefined")
        series = await page.evaluate(
            f"window.board.charts[{roc!r}].getOption().series.map((s) => [s.name, s.data.length])"
        )
        assert series[0][0] == "ROC" and series[0][1] > 10 and series[1] == ["chance", 2]
        canvas = page.locator(f'[data-chart="{roc}"] canvas')
        box = await canvas.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
        assert await _canvas_has_ink(page, roc)
        assert await page.locator("#task-title").text_content() == "evaluation_0 (evaluation) at guest 9999"
        await page.locator(f'[data-chart="{roc}"]').scroll_into_view_if_needed()
        await screenshot(page, shots, "evaluation_roc")


async def _canvas_has_ink(page: Any, chart_id: str) -> bool:
    """Whether the chart's canvas holds drawn pixels (not a blank surface)."""
    return bool(
        await page.evaluate(
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
