"""Pilot specification of the quality verdict in the TUI: the messages a failed check points at are
marked in the transcript, and selecting one shows the check's reason."""

from __future__ import annotations

import sys
from pathlib import Path

from _tui_helpers import main_screen, screen_text

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))  # the clean dialogues the quality tests share

from _clean_dialogues import clean_session  # noqa: E402
from _mutations import reasked_request  # noqa: E402

from turnloom.core.lifecycle.live_session import LiveSession  # noqa: E402
from turnloom.core.models import Role  # noqa: E402
from turnloom.core.storage.snapshot import save_session  # noqa: E402


async def test_a_failed_check_marks_its_messages_and_selecting_one_shows_the_reason(make_app, sessions_dir):
    session = clean_session("retail", seed=1)
    at = next(i for i, m in enumerate(session.messages) if m.role is Role.USER and i > 0)
    session.messages[at] = session.messages[at].model_copy(update={"content": "That's not quite what I asked."})
    sessions_dir.mkdir(parents=True, exist_ok=True)
    path = sessions_dir / "complaint.session.json"
    save_session(session, path)
    app = make_app(workbench=LiveSession.open(path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        transcript = screen.transcript
        assert [check for check, _ in transcript.quality_at(at)] == ["feedback"]
        assert transcript.quality_at(1) == []
        assert any("Quality verdict" in (n.title or "") for n in app._notifications)
        transcript.focus()
        await pilot.press("home")  # a session opens at its end; the marked turn is near the top
        await pilot.pause()
        assert "✗ feedback" in screen_text(transcript)
        for _ in range(at):
            await pilot.press("down")
        await pilot.pause()
        assert transcript.selected == at
        shown = [n.message for n in app._notifications if n.title == f"Quality: message {at}"]
        assert shown and "complains" in shown[-1] and "was served" in shown[-1]


async def test_a_request_asked_again_after_it_was_answered_is_marked_reask_at_the_user_turn(make_app, sessions_dir):

    session = reasked_request(clean_session("clinic", seed=1))
    assert session is not None
    at = next(i for i, m in enumerate(session.messages) if m.text.startswith("Sorry, one more time"))
    sessions_dir.mkdir(parents=True, exist_ok=True)
    path = sessions_dir / "reask.session.json"
    save_session(session, path)
    app = make_app(workbench=LiveSession.open(path))
    async with app.run_test(size=(120, 40)) as pilot:
        transcript = main_screen(app).transcript
        assert "reask" in [check for check, _ in transcript.quality_at(at)]
        transcript.focus()
        await pilot.press("home")
        for _ in range(at):
            await pilot.press("down")
        await pilot.pause()
        shown = [n.message for n in app._notifications if n.title == f"Quality: message {at}"]
        assert shown and "asks again" in shown[-1]
