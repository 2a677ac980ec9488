"""What the command line prints: transcripts, tables and live progress, drawn with rich.

On a terminal, styles (none with `NO_COLOR` or `--color never`; `--color always` styles a pipe too) and lines redrawn in
place; anywhere else (a pipe, a log file, the tests' captured output) plain text, never
wrapped, and a progress line every few seconds instead of a redrawn one. The TUI renders
with Textual; this is for the headless commands. The command line is the only part of the
core that imports rich, and it does so when it draws, so a command that prints JSON never
loads it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from turnloom.core.batch.progress import BatchProgress
from turnloom.core.models import ChatMessage, Role, Session

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.table import Table
    from rich.text import Text

_STYLES = {Role.USER: "cyan", Role.ASSISTANT: "green", Role.TOOL: "yellow", Role.SYSTEM: "magenta"}
_MAX_RESULT = 600
_INDENT = " " * 14
_PLAIN_WIDTH = 10_000  # off a terminal nothing is wrapped: a table takes the width it needs


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def console(stream: TextIO | None = None, terminal: bool | None = None) -> Console:
    """A rich console on `stream` (default stdout) that takes text as it is: no markup, no highlighting.

    Args:
        stream: where to print.
        terminal: force terminal mode on or off (default: whether `stream` is a terminal).
    """
    from rich.console import Console

    from turnloom.core.cli.usage import color_mode

    stream = sys.stdout if stream is None else stream
    terminal = is_terminal(stream) if terminal is None else terminal
    mode = color_mode()
    return Console(
        file=stream,
        force_terminal=terminal or mode == "always",
        color_system=None if mode == "never" else ("truecolor" if mode == "always" and not terminal else "auto"),
        width=None if terminal else _PLAIN_WIDTH,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=True,
    )


def print_table(table: Table, stream: TextIO | None = None) -> None:
    stream = sys.stdout if stream is None else stream
    if is_terminal(stream):
        console(stream).print(table, soft_wrap=False)
    else:
        stream.write(table_text(table) + "\n")


def table_text(table: Table) -> str:
    """`table` as plain text, without the padding rich leaves at the end of its lines."""
    from io import StringIO

    out = StringIO()
    console(out, terminal=False).print(table, soft_wrap=False)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def new_table(*columns: str, right: tuple[str, ...] = ()) -> Table:
    """A borderless table with a header underline; the columns named in `right` are right-aligned."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left")
    return table


def _clean(text: str) -> str:
    # model text must never drive the terminal: drop control characters but newlines and tabs
    return "".join(ch for ch in text if ch in "\n\t" or (ch >= " " and not "\x7f" <= ch <= "\x9f"))


def badge(message: ChatMessage) -> str:
    meta = message.meta
    parts = [str(meta.provenance)]
    if meta.task_index is not None:
        parts.append(f"task {meta.task_index + 1}")
    if meta.goal_done:
        parts.append("all done")
    elif meta.task_done and meta.task_index:
        parts.append(f"task {meta.task_index} done")
    if meta.tool_error:
        parts.append("error")
    if meta.violations:
        parts.append("violations: " + ", ".join(v.rule_id for v in meta.violations))
    return "[" + " · ".join(parts) + "]"


def message_text(index: int, message: ChatMessage, provenance: bool = True) -> Text:
    """One message as a few lines: index and role (in the role's colour), its badge (dimmed), the body."""
    from rich.text import Text

    lines: list[str] = []
    if message.role is Role.ASSISTANT and message.tool_calls:
        if message.content:
            lines.append(_clean(message.content))
        for call in message.tool_calls:
            lines.append(f"→ {call.name}({_clean(_compact(call.arguments))})")
    elif message.role is Role.TOOL:
        text = _clean(message.content or "")
        if len(text) > _MAX_RESULT:
            text = text[:_MAX_RESULT] + f" … ({len(message.content or '')} chars)"
        lines.append(f"← {message.name or ''} {text}")
    else:
        lines.append(_clean(message.content or ""))
    body = "\n".join(lines).replace("\n", "\n" + _INDENT)
    drawn = Text().append(f"{index:>3} {message.role.value:<9}", style=_STYLES.get(message.role, ""))
    if provenance:
        drawn.append(" ").append(badge(message), style="dim")
    return drawn.append(f"\n{_INDENT}{body}")


def _compact(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False)
    except json.JSONDecodeError:
        return arguments


def header_line(session: Session) -> str:
    config = session.config
    return (
        f"# turnloom · {session.domain} · {config.mode} · {config.execution} · seed {config.seed} · "
        f"{config.tasks} task(s) · session {session.id}"
    )


def print_header(session: Session, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(header_line(session) + "\n")


def print_transcript(
    session: Session, stream: TextIO | None = None, upto: int | None = None, provenance: bool = True
) -> None:
    out = console(stream)
    for index, message in enumerate(session.messages[:upto]):
        out.print(message_text(index, message, provenance))


class LiveLine:
    """One line redrawn in place on a terminal, with lines printed above it (a rich `Live`).

    Nothing is redrawn by a thread: the line changes when `show` is called.
    """

    def __init__(self, out: Console) -> None:
        self.console = out
        self._live: Live | None = None

    def show(self, renderable: RenderableType) -> None:
        if self._live is None:
            from rich.live import Live

            self._live = Live(
                renderable,
                console=self.console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        self._live.update(renderable, refresh=True)

    def print(self, renderable: RenderableType) -> None:
        """A line above the live one, which stays below it."""
        self.console.print(renderable)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


class ProgressLine:
    """Draws a batch's counts (`batch.progress.ProgressReport`): a bar and the counts redrawn in
    place on a terminal, a plain line every `log_interval` seconds otherwise.

    Args:
        stream: where to draw (default stderr, so stdout stays for results).
        tty: force terminal mode on or off (default: whether the stream is a terminal).
        log_interval: seconds between plain lines when not on a terminal.
    """

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None, log_interval: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = is_terminal(self.stream) if tty is None else tty
        self.log_interval = log_interval
        self._last_log = 0.0
        self._live = LiveLine(console(self.stream, terminal=True)) if self.tty else None

    def _drawing(self, progress: BatchProgress) -> RenderableType:
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 1))
        finished = progress.done + progress.failed
        bar = ProgressBar(total=max(progress.total, 1), completed=finished, width=24)
        grid.add_row(bar, Text(progress.line(), no_wrap=True, overflow="ellipsis"))  # one line, cut to fit
        return grid

    def update(self, progress: BatchProgress) -> None:
        """Redraw (on a terminal) or log a line if the interval has passed."""
        if self._live is not None:
            self._live.show(self._drawing(progress))
        elif time.monotonic() - self._last_log >= self.log_interval:
            self._last_log = time.monotonic()
            self.stream.write(progress.line() + "\n")
            self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line of text without garbling the progress line."""
        if self._live is not None:
            self._live.print(text)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self, progress: BatchProgress) -> None:
        """Draw the final state and end the line."""
        if self._live is not None:
            self._live.stop()
            self._live.print(self._drawing(progress))
        else:
            self.stream.write(progress.line() + "\n")
            self.stream.flush()


class StageLines:
    """Lines of a long command's stages on stderr: on a terminal, passing updates (`final=False`)
    replace each other on one line; elsewhere only the final ones are printed.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self._live = LiveLine(console(self.stream)) if is_terminal(self.stream) else None

    def __call__(self, line: str, final: bool = True) -> None:
        if self._live is None:
            if final:
                self.stream.write(f"# {line}\n")
                self.stream.flush()
        elif final:
            self._live.stop()
            self._live.print(f"# {line}")
        else:
            self._live.show(f"# {line}")


def finish_text(session: Session) -> str:
    """How the dialogue ended, with the cause when the reason alone does not say it."""
    if session.finish_reason is None:
        return "not finished"
    if session.finish_detail:
        return f"{session.finish_reason}: {_clean(session.finish_detail)}"
    return str(session.finish_reason)
