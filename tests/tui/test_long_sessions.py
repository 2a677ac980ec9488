"""A long session opens by rendering one screenful; what scrolling reveals is rendered then, exactly."""

from __future__ import annotations

import gc

from _tui_helpers import main_screen
from textual.app import App

from turnloom.core.lifecycle.live_session import LiveSession
from turnloom.core.models import ChatMessage, MessageMeta, Role, ToolCall


def _long_bench(sessions_dir, count: int) -> LiveSession:
    bench = LiveSession.new(sessions_dir, seed=1)
    messages: list[ChatMessage] = []
    for n in range(count // 4):
        call = ToolCall(id=f"c{n}", name="get_order_by_id", arguments=f'{{"id": {n}}}')
        messages += [
            ChatMessage(role=Role.USER, content=f"question {n} " + "word " * (n % 60), meta=MessageMeta(task_index=0)),
            ChatMessage(role=Role.ASSISTANT, tool_calls=[call]),
            ChatMessage(role=Role.TOOL, tool_call_id=call.id, name=call.name, content="line\n" * (n % 15)),
            ChatMessage(role=Role.ASSISTANT, content=f"answer {n}\n\n" + "detail " * (n % 90)),
        ]
    bench.session.messages.extend(messages)
    return bench


def _painted(transcript) -> list[str]:
    return [transcript.render_line(y).text for y in range(transcript.scrollable_content_region.height)]


async def test_a_long_session_renders_one_screenful_to_open_and_the_rest_as_it_scrolls(make_app, sessions_dir):
    app = make_app(workbench=_long_bench(sessions_dir, 800))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        transcript = main_screen(app).transcript
        entries = transcript._entries
        rendered = [e.index for e in entries if e.strips is not None]
        assert len(entries) == 800
        assert 0 < len(rendered) <= 30  # a screenful or two (the top, where a session opens, and the end)
        transcript.focus()
        await pilot.press("end")
        await pilot.pause()
        assert entries[799].strips is not None and "answer 199" in " ".join(_painted(transcript))
        await pilot.press("home")
        await pilot.pause()
        assert entries[0].strips is not None and transcript.scroll_offset.y == 0
        top = _painted(transcript)
        assert top[0].split()[:2] == ["0", "user"] and "question 0" in top[1]
        # what is painted is what rendering each message whole gives, placed by exact offsets
        width = transcript._width
        expected = [s.text for e in entries[:12] for s in transcript._render_entry(e, width)]
        assert [line.rstrip() for line in top] == [line.rstrip() for line in expected[: len(top)]]
        shown = [e for e in entries if e.strips is not None]
        assert all(len(e.strips) == e.height for e in shown)
        offsets = transcript._offsets
        assert all(offsets[i + 1] - offsets[i] == entries[i].height for i in range(len(entries) - 1))
        for _ in range(30):  # page down through estimated messages: each one selected is rendered
            await pilot.press("pagedown")
        await pilot.pause()
        selected = transcript.selected
        assert selected is not None and entries[selected].strips is not None
        assert f"{selected} " in " ".join(_painted(transcript))


async def test_the_first_session_is_frozen_without_a_full_collection_and_a_switch_collects(make_app, sessions_dir):
    """A full collection at opening walks the whole heap while the first screen paints (~0.1 s at 2,000 messages)."""
    collections: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    first = _long_bench(sessions_dir, 400)
    app = make_app(workbench=first)
    gc.disable()  # only the screen's own collections are counted
    gc.callbacks.append(count)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert collections == [] and gc.get_freeze_count() > 0
            main_screen(app).attach(LiveSession.new(sessions_dir, seed=2))  # the old session may be freed
            await pilot.pause()
            assert collections == [2]
    finally:
        gc.callbacks.remove(count)
        gc.enable()
        gc.unfreeze()


async def test_an_opened_session_shows_its_last_messages_in_the_first_frame(make_app, sessions_dir, monkeypatch):
    """Laying out only on `Resize` (sent after the first frame) painted a blank pane first."""
    first_frame: list[str] = []
    display = App._display

    def probe(self, screen, renderable) -> None:  # Textual's, watched: what its first frame holds
        if renderable is not None and not first_frame:
            transcript = main_screen(self).transcript
            first_frame.extend(transcript.render_line(y).text for y in range(transcript.size.height))
        display(self, screen, renderable)

    monkeypatch.setattr(App, "_display", probe)
    app = make_app(workbench=_long_bench(sessions_dir, 800))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
    assert "answer 199" in " ".join(first_frame)
