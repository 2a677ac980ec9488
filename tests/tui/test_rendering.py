"""Specifications of how the Conversation pane shows hostile or huge content: literally, truncated, quickly."""

from __future__ import annotations

import json
import time

from _tui_helpers import main_screen

from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import ChatMessage, MessageMeta, Role, ToolCall

MARKUP = "[bold]not bold[/] [/] [link=https://evil.example]click[/link] [[unbalanced [red "


def _screen_text(transcript) -> str:
    height = transcript.scrollable_content_region.height
    # wrapped lines joined back: compare words, not line breaks
    return " ".join(" ".join(transcript.render_line(y).text for y in range(height)).split())


def _bench_with(sessions_dir, messages: list[ChatMessage]) -> LiveSession:
    bench = LiveSession.new(sessions_dir, seed=1)
    bench.session.messages.extend(messages)
    return bench


async def test_markup_in_model_text_and_tool_results_is_shown_literally(make_app, sessions_dir):
    messages = [
        ChatMessage(role=Role.USER, content=MARKUP, meta=MessageMeta(task_index=0)),
        ChatMessage(
            role=Role.ASSISTANT,
            tool_calls=[ToolCall(id="c1", name="get_order_by_id", arguments=json.dumps({"id": "[b]1[/b]"}))],
        ),
        ChatMessage(role=Role.TOOL, tool_call_id="c1", name="get_order_by_id", content='{"note": "[/] [link=x]y"}'),
        ChatMessage(role=Role.ASSISTANT, content="\x1b[31mred?\x1b[0m and \x07 bell " + MARKUP),
    ]
    app = make_app(workbench=_bench_with(sessions_dir, messages))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = _screen_text(main_screen(app).transcript)
        assert "[bold]not bold[/] [/] [link=https://evil.example]click[/link] [[unbalanced [red" in text
        assert '"[b]1[/b]"' in text
        assert "[/] [link=x]y" in text
        assert "\x1b" not in text and "\x07" not in text


async def test_a_100kb_message_is_truncated_and_expands_on_request(make_app, sessions_dir):
    big = "\n".join(f"line {i} " + "x" * 90 for i in range(1_000))  # ~100 KB
    app = make_app(workbench=_bench_with(sessions_dir, [ChatMessage(role=Role.USER, content=big)]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        transcript = screen.transcript
        await pilot.pause()
        assert transcript.virtual_size.height < 20
        assert "press x to expand" in _screen_text(transcript)
        started = time.perf_counter()
        await pilot.press("x")
        await pilot.pause()
        assert time.perf_counter() - started < 2.0
        assert transcript.virtual_size.height > 1_000


async def test_a_2000_row_tool_result_stays_responsive(make_app, sessions_dir):
    rows = [{"id": i, "name": f"item [{i}]", "price": i * 1.5} for i in range(2_000)]
    messages = [
        ChatMessage(role=Role.USER, content="List everything."),
        ChatMessage(role=Role.ASSISTANT, tool_calls=[ToolCall(id="c1", name="search_products", arguments="{}")]),
        ChatMessage(role=Role.TOOL, tool_call_id="c1", name="search_products", content=json.dumps(rows)),
    ]
    app = make_app(workbench=_bench_with(sessions_dir, messages))
    async with app.run_test(size=(120, 40)) as pilot:
        transcript = main_screen(app).transcript
        await pilot.pause()
        assert transcript.virtual_size.height < 40
        started = time.perf_counter()
        await pilot.press("x")  # expand the last (selected-or-last) message
        await pilot.pause()
        await pilot.press("up", "down")
        assert time.perf_counter() - started < 3.0


async def test_an_80x24_terminal_shows_all_three_panes_and_the_status_line(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause(0.2)
        screen = main_screen(app)
        for pane in ("#conversation-pane", "#tools", "#rules", "#status"):
            region = screen.query_one(pane).region
            assert region.width > 0 and region.height > 0, pane
        assert screen.query_one("#conversation-pane").region.width >= 40
