"""Pilot specification of the review list (`turnloom review DIR`): the rows, filters, sort, search,
labels, a dialogue opened from the list, fixes saved back, and the open screen's folder case."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from _tui_helpers import wait_for
from textual.widgets import OptionList, Static

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))  # the generated folder the review tests share

from _review_helpers import generated_folder, spoil  # noqa: E402

from turnloom.core.review.index import load_index  # noqa: E402
from turnloom.core.storage.snapshot import load_session  # noqa: E402
from turnloom.tui.review.app import build_review_app  # noqa: E402
from turnloom.tui.review.dialogue import ReviewDialogueScreen  # noqa: E402
from turnloom.tui.review.screen import ReviewScreen  # noqa: E402
from turnloom.tui.screens.dialogs import ErrorScreen  # noqa: E402

SIZE = (140, 40)


@pytest.fixture
def folder(tmp_path_factory, tmp_path) -> Path:
    """A generated batch of six retail sessions, the first one spoiled so `feedback` rejects it."""
    made = generated_folder(tmp_path_factory.getbasetemp() / "review-made", tmp_path / "batch")
    first = sorted(made.glob("*.session.json"))[0]
    spoil(first)
    return made


def review_app(folder: Path, tmp_path: Path):
    return build_review_app(folder, theme_dirs=[tmp_path / "no-user-themes"])


async def loaded(pilot) -> ReviewScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.loaded)
    return app.screen


async def labels_saved(pilot, screen: ReviewScreen) -> None:
    """Wait until every label given is written to its session file (a worker thread writes them)."""
    await wait_for(pilot, lambda: screen.pending_labels == 0)


def line(screen: ReviewScreen, y: int) -> str:
    return screen.row_list.render_line(y).text


async def test_the_list_shows_every_session_with_its_verdict_failed_checks_and_label(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert len(screen.row_list.rows) == 6
        first = line(screen, 0)
        assert first.startswith("seed-0000000") and "rejected" in first and "feedback" in first
        assert "accepted" in line(screen, 1)
        assert "labelled 0/6" in screen.progress_text()
        header = str(screen.query_one("#review-header").render())
        for title in ("session", "domain", "mode", "len", "tasks", "verdict", "failed checks", "label"):
            assert title in header


async def test_filters_narrow_the_list_and_going_back_from_a_dialogue_keeps_them_and_the_cursor(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("v")
        assert [row.accepted for row in screen.row_list.rows] == [False]
        await pilot.press("v", "c")
        assert screen.filter.check == "feedback" and len(screen.row_list.rows) == 1
        await pilot.press("c", "d")
        assert screen.filter.check is None and screen.filter.domain == "retail"
        assert len(screen.row_list.rows) == 6
        await pilot.press("down", "down", "1", "u")  # label one: unlabelled only hides it
        await labels_saved(pilot, screen)
        assert screen.filter.unlabelled and len(screen.row_list.rows) == 5
        cursor_path = screen.row_list.row.path
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReviewDialogueScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is screen)
        assert screen.filter.unlabelled and screen.filter.domain == "retail"
        assert screen.row_list.row.path == cursor_path and len(screen.row_list.rows) == 5


async def test_a_key_or_a_click_on_a_column_title_sorts_and_a_second_click_reverses(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        paths = [row.path for row in screen.row_list.rows]
        assert paths == sorted(paths)
        await pilot.press("s")
        assert screen.sort_key == "domain"
        header = screen.query_one("#review-header")
        x = str(header.render()).index("len")
        await pilot.click("#review-header", offset=(x, 0))
        lengths = [row.messages for row in screen.row_list.rows]
        assert screen.sort_key == "messages" and lengths == sorted(lengths)
        await pilot.click("#review-header", offset=(x, 0))
        assert [row.messages for row in screen.row_list.rows] == sorted(lengths, reverse=True)
        assert "len▼" in str(header.render())


async def test_the_text_search_finds_the_sessions_whose_messages_hold_the_text(folder, tmp_path):
    rows = load_index(folder)
    target = rows[3]

    def searched(path: str) -> str:
        """What the search reads of a session: texts, reasoning, tool names and arguments."""
        parts = []
        for message in load_session(folder / path).messages:
            parts += [message.text, message.reasoning or "", message.name or ""]
            parts += [f"{call.name} {call.arguments}" for call in message.tool_calls]
        return " ".join(parts).casefold()

    held = {row.path: searched(row.path) for row in rows}
    candidates = {token for token in held[target.path].replace('"', " ").split() if len(token) > 5 and token.isalpha()}
    # the target's rarest word: the rows holding it anywhere (even inside a longer word) are what the search must find
    word = min(sorted(candidates), key=lambda w: sum(w in text for text in held.values()))
    expected = sorted(path for path, text in held.items() if word in text)
    assert target.path in expected and len(expected) < len(rows)
    word = word.upper()  # found whatever its case
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("slash", *word)
        await wait_for(pilot, lambda: screen.filter.text == word)
        assert sorted(row.path for row in screen.row_list.rows) == expected
        await pilot.press("enter")
        assert screen.focused is screen.row_list
        await pilot.press("slash", *["backspace"] * len(word))  # clearing the box shows every row again
        await wait_for(pilot, lambda: len(screen.row_list.rows) == 6)


async def test_label_keys_save_in_the_session_file_at_once_and_move_on(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        first, second = screen.row_list.rows[0], screen.row_list.rows[1]
        await pilot.press("1")
        assert screen.row_list.row.path == second.path  # at once, before the file is written
        await labels_saved(pilot, screen)
        assert load_session(folder / first.path).label.kind == "keep"
        await pilot.press("3")
        await labels_saved(pilot, screen)
        assert load_session(folder / second.path).label.kind == "needs-fix"
        assert "labelled 2/6 (keep 1 · drop 0 · needs-fix 1)" in screen.progress_text()
        assert "keep" in line(screen, 0)
        await pilot.press("home", "right_square_bracket")  # the next unlabelled one
        assert screen.row_list.cursor == 2
        await pilot.press("left_square_bracket")
        assert "No unlabelled session above" in list(pilot.app._notifications)[-1].message
        await pilot.press("home", "0")
        await labels_saved(pilot, screen)
        assert load_session(folder / first.path).label is None
        assert {row.path for row in load_index(folder) if row.label} == {second.path}


async def test_the_reason_and_tags_dialog_saves_them_with_the_label(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        path = screen.row_list.row.path
        await pilot.press("w")
        await pilot.press(*"rude", "tab", *"tone, #tone feedback")
        await pilot.press("enter")
        await labels_saved(pilot, screen)
        label = load_session(folder / path).label
        assert label.kind == "needs-fix" and label.reason == "rude"
        assert label.tags == ["tone", "feedback"]
        assert "needs-fix: rude #tone #feedback" in line(screen, 0)
        await pilot.press("2")  # another kind keeps what was written
        await labels_saved(pilot, screen)
        label = load_session(folder / path).label
        assert label.kind == "drop" and label.reason == "rude" and label.tags == ["tone", "feedback"]


async def test_a_rejected_session_opens_in_the_workbench_panes_with_its_failed_checks_marked(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReviewDialogueScreen))
        dialogue = pilot.app.screen
        session = dialogue.bench.session
        marked = [i for i in range(len(session.messages)) if dialogue.transcript.quality_at(i)]
        assert marked and all(check == "feedback" for i in marked for check, _ in dialogue.transcript.quality_at(i))
        summary = str(dialogue.query_one("#review-summary").render())
        assert f"✗ feedback (messages {', '.join(map(str, marked))}): message {marked[-1]} complains" in summary
        assert "Review 0/6 labelled" in summary


async def test_labels_work_with_a_dialogue_open_and_the_next_unlabelled_opens_in_its_place(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        first, second = screen.row_list.rows[0], screen.row_list.rows[1]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReviewDialogueScreen))
        dialogue = pilot.app.screen
        await pilot.press("2")
        await labels_saved(pilot, screen)
        assert load_session(folder / first.path).label.kind == "drop"
        assert "Review 1/6 labelled" in str(dialogue.query_one("#review-summary").render())
        assert "drop" in line(screen, 0)
        await pilot.press("right_square_bracket")
        assert dialogue.row.path == second.path and dialogue.bench.path == folder / second.path
        assert screen.row_list.row.path == second.path
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is screen)
        assert screen.row_list.row.path == second.path


async def test_a_fix_in_review_writes_the_same_file_back_judged_again_and_refreshes_its_row(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        row = screen.row_list.rows[0]
        assert row.accepted is False
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReviewDialogueScreen))
        dialogue = pilot.app.screen
        complaint = max(i for i in range(len(dialogue.bench.session.messages)) if dialogue.transcript.quality_at(i))
        dialogue.transcript.select(complaint)
        await pilot.press("delete")  # cut from the complaint on …
        await pilot.press("y")  # … once confirmed
        await wait_for(pilot, lambda: len(dialogue.bench.session.messages) == complaint)
        await pilot.press("a")  # and let the simulator go on from there
        await wait_for(pilot, lambda: dialogue.bench.session.finish_reason is not None and not dialogue.busy(), 30)
        await pilot.press("ctrl+s")
        saved = load_session(folder / row.path)
        assert [b.action for b in saved.dropped_branches] == ["truncate"]
        assert saved.dropped_branches[0].at == complaint
        assert saved.verdict is not None and saved.verdict.accepted
        assert screen.rows[0].accepted is True and "accepted" in line(screen, 0)
        assert "✓ accepted" in str(dialogue.query_one("#review-summary").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is screen)
        assert not list(folder.glob("*.journal"))  # everything is in the file: the journal is gone with the dialogue


async def test_going_back_saves_a_changed_session_and_quitting_asks_first(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        row = screen.row_list.rows[1]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReviewDialogueScreen))
        dialogue = pilot.app.screen
        before = len(dialogue.bench.session.messages)
        await pilot.press("end", "delete", "y")
        await wait_for(pilot, lambda: len(dialogue.bench.session.messages) == before - 1)
        await pilot.press("q")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "id", None) == "quit-question")
        await pilot.press("c")
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is screen)
        assert len(load_session(folder / row.path).messages) == before - 1
        assert screen.rows[1].messages == before - 1


async def test_the_workbench_open_screen_lists_a_batch_folder_and_opens_it_in_review(folder, make_app, sessions_dir):
    sessions_dir.mkdir(parents=True)
    batch = folder.rename(sessions_dir / "batch")
    plain = sessions_dir / "plain"
    plain.mkdir()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("tab", *str(plain), "enter")  # a folder with no manifest is refused, saying why
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert "has no manifest.json" in str(app.screen.query_one(".dialog-text", Static).render())
        await pilot.press("escape")
        await pilot.press("ctrl+o")
        await pilot.pause()
        picker = app.screen.query_one(OptionList)
        assert "batch/" in str(picker.get_option_at_index(0).prompt)
        await pilot.press("enter")
        review = await loaded(pilot)
        assert review.closable and review.folder == batch and len(review.row_list.rows) == 6
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main_screen


def test_turnloom_review_dir_hands_the_folder_and_the_config_to_the_review_view(folder, tmp_path, monkeypatch):
    from turnloom.tui import launch, review

    opened: list[tuple[Path, str | None]] = []
    monkeypatch.setattr(review, "launch", lambda where, config_path=None: opened.append((where, config_path)) or 0)
    config = tmp_path / "turnloom.toml"
    config.write_text('theme = "turnloom-light"\n')
    assert launch.main(["--config", str(config), "review", str(folder)]) == 0
    assert opened == [(folder, str(config))]
    assert launch.main(["review", str(tmp_path / "missing")]) == 2  # a usage error, before any TUI
    assert len(opened) == 1


async def test_a_label_that_cannot_be_saved_is_taken_back_and_says_why(folder, tmp_path):
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        gone = screen.row_list.rows[1]
        (folder / gone.path).unlink()  # removed behind the list's back
        await pilot.press("down", "1")
        await labels_saved(pilot, screen)
        assert isinstance(pilot.app.screen, ErrorScreen)
        assert "no such session file" in str(pilot.app.screen.query_one(".dialog-text", Static).render())
        assert next(row for row in screen.rows if row.path == gone.path).label is None
        assert "labelled 0/6" in screen.progress_text()


async def test_a_session_changed_since_the_index_was_written_shows_as_it_is_now(folder, tmp_path):
    rows = load_index(folder)  # the index file now says every session but the first is accepted
    changed = rows[2]
    spoil(folder / changed.path)
    async with review_app(folder, tmp_path).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        row = next(row for row in screen.rows if row.path == changed.path)
        assert row.accepted is False and row.failed_checks == ("feedback",)
        assert "checking the files" not in screen.progress_text()
