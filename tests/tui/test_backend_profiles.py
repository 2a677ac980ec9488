"""Pilot specification of a session on a backend profile: the fake OpenAI server plays the roles, text streams live."""

from __future__ import annotations

from _tui_helpers import idle, main_screen, screen_text, status_text, wait_for
from textual.widgets import Select
from tui_support import FAKE_KEY, FAKE_KEY_ENV

from turnloom.core.config import Profile
from turnloom.core.engine.engine import ProposalDelta
from turnloom.core.models import Role
from turnloom.tui.screens.new_session import NewSessionScreen


def _profile(server) -> Profile:
    return Profile(
        base_url=server.base_url,
        model="fake-model",
        api_key_env=FAKE_KEY_ENV,
        timeout=2.0,
        max_retries=1,
        retry_backoff=0.01,
    )


async def test_a_new_session_on_a_profile_streams_its_turns_live_and_commits_them(make_app, fake_openai):
    app = make_app(profiles={"fake": _profile(fake_openai)})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewSessionScreen))
        profiles = app.screen.query_one("#profile", Select)
        assert [value for _, value in profiles._options] == ["offline", "fake"]  # names from the config, no keys
        profiles.value = "fake"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen and screen.bench.backends is not None)
        session = screen.bench.session
        assert set(session.config.roles.values()) == {"fake"}
        assert "all roles: fake" in status_text(screen)

        seen: list[tuple[Role, str]] = []  # what the pending proposal showed at each streamed fragment

        def watch(event) -> None:
            if isinstance(event, ProposalDelta):
                pending = screen.transcript.pending
                seen.append((event.role, pending.content if pending is not None else ""))

        screen.bench.engine.subscribe(watch)
        screen.transcript.focus()
        for _ in range(4):
            await pilot.press("n")
            await idle(pilot)
        messages = session.messages
        assert len(messages) == 4 and messages[0].role is Role.USER
        assert all(m.meta.backend == "fake" for m in messages if m.role in (Role.USER, Role.ASSISTANT))
        assert {r.role for r in fake_openai.requests} >= {"task", "user", "assistant"}
        # the user turn streamed: the pending proposal grew fragment by fragment into the committed text
        user_stream = [text for role, text in seen if role is Role.USER]
        assert len(user_stream) > 2 and len(set(user_stream)) > 2
        assert all(messages[0].content.startswith(text) for text in user_stream)
        assert messages[0].content in screen_text(screen.transcript) or len(messages[0].content) > 80
        assert screen.transcript.pending is None and screen.transcript.message_count == 4

        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = screen.bench.path.read_text(encoding="utf-8")
        assert '"fake"' in saved and FAKE_KEY not in saved and FAKE_KEY_ENV not in saved
        exchanges = screen.bench.path.with_name(screen.bench.path.name.replace(".session.json", ".llm.jsonl"))
        assert exchanges.exists() and FAKE_KEY not in exchanges.read_text(encoding="utf-8")


async def test_a_session_mapped_to_an_undefined_profile_opens_with_a_notice_and_its_turns_name_the_profile(
    make_app, sessions_dir
):
    from turnloom.core.lifecycle.dialogue import create_session, open_engine
    from turnloom.core.storage.snapshot import save_session

    session = create_session(domain="retail", seed=3, tasks=1)
    engine = open_engine(session)
    while len(session.messages) < 2 or engine.next_role() is not Role.USER:
        await engine.step()  # offline, up to the user's next turn
    engine.environment.close()
    kept = len(session.messages)
    session.config.roles = {"user": "gone", "task": "gone"}
    path = sessions_dir / "mapped.session.json"
    sessions_dir.mkdir(parents=True)
    save_session(session, path)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        before = screen.bench
        screen._open_file(path)
        await wait_for(pilot, lambda: screen.bench is not before)
        assert len(screen.bench.session.messages) == kept
        assert screen.transcript.message_count == kept
        await wait_for(
            pilot,
            lambda: any("user → gone" in n.message and "does not define" in n.message for n in app._notifications),
        )
        await pilot.press("n")
        await idle(pilot)
        await wait_for(pilot, lambda: any("no [profiles.gone]" in n.message for n in app._notifications))
        assert len(screen.bench.session.messages) == kept  # nothing committed


async def test_a_session_a_backend_error_stopped_shows_its_cause_on_open_and_on_step(make_app, sessions_dir):
    from turnloom.core.lifecycle.dialogue import create_session
    from turnloom.core.models import FinishReason
    from turnloom.core.storage.snapshot import save_session

    cause = "profile 'fake' (http://127.0.0.1:9/v1, model m): HTTP 401 Incorrect API key provided; check the key"
    session = create_session(domain="retail", seed=4)
    session.finish_reason, session.finish_detail = FinishReason.BACKEND_ERROR, cause
    path = sessions_dir / "stopped.session.json"
    sessions_dir.mkdir(parents=True)
    save_session(session, path)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        screen._open_file(path)
        await wait_for(pilot, lambda: any(n.message == cause for n in app._notifications))
        app.clear_notifications()
        await pilot.press("n")
        await wait_for(pilot, lambda: any(f"backend_error: {cause}" in n.message for n in app._notifications))
