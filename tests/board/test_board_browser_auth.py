"""The board in Chromium at a node that requires credentials: the page loads, asks for a token, and
shows the node's jobs as that token's user; a wrong token is refused in the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fate_grpc import __version__
from fate_grpc.node.config import ClientAuthSettings
from fate_grpc.security.identity import hash_token, new_token
from fate_grpc.store.records import TokenRecord
from tests.board.support import board_client, chromium_binary, wait_script
from tests.support.nodes import federation

GUEST = "9999"
pytestmark = pytest.mark.timeout(120)


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
            yield await browser.new_page()
        finally:
            await browser.close()


async def test_the_page_asks_for_a_token_and_then_shows_jobs(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    async with federation(tmp_path, [GUEST], client_auth=ClientAuthSettings(mode="required")) as fed:
        token = new_token()
        await fed.nodes[GUEST].store.put_token(
            TokenRecord(token_hash=hash_token(token), name="ann", is_admin=False)
        )
        async with board_client(fed.nodes[GUEST]) as board:
            await page.goto(str(board.make_url("/board/")))
            await page.evaluate(wait_script("!document.getElementById('token-form').hidden", 20_000))
            assert "needs a client certificate of the party or a token" in await page.inner_text("#message")

            await page.fill("#token-input", "fgt_not-a-token")
            await page.click("#token-form button")
            await page.evaluate(
                wait_script("document.getElementById('message').textContent.includes('unknown')", 20_000)
            )
            assert await page.inner_text("#message") == "unknown or expired token"

            await page.fill("#token-input", token)
            await page.click("#token-form button")
            await page.evaluate(
                wait_script("document.getElementById('page-info').textContent === 'no jobs'", 20_000)
            )
            assert await page.inner_text("#node-info") == f"party 9999 · ann (token) · v{__version__}"
            assert await page.is_hidden("#message")
            # The token stays in this tab's session storage only, never in the address or a cookie.
            assert token not in page.url and not await page.context.cookies()
