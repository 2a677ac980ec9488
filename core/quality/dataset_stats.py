"""Dataset-level statistics: the paper's Table 1 layout and the quality metrics beside it.

Aggregates `metrics.dialogue_stats` and each session's verdict (`verdict.verdict_for`) over many
sessions: Step (per request and per dialogue), Turn (all messages), Task (tasks
completed) and Samples, as mean and max per paradigm/source row; then user
turns, subtasks per user turn, finish reasons, acceptance and counts per quality check
(with every failure, for listing), tool-call validity,
SQL error rate, read/write mix, rule violations, tokens, cost and wall time, and
text histograms. Rendering to text is here too (it is plain text, no UI);
reading files is the caller's business.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from turnloom.core.models import CheckFailure, Session, ToolExecution
from turnloom.core.quality.checks import MAX_MESSAGES
from turnloom.core.quality.metrics import dialogue_stats, session_cost
from turnloom.core.quality.verdict import ALL_CHECKS, verdict_for

# the paper's Table 1 (METHOD.md 5.1): paradigm, source, Step, Turn, Task as (mean, max), samples
PAPER_ROWS = (
    ("task-oriented", "Nemotron", (3.95, 89), (12.84, 178), (1.63, 18), 161_608),
    ("user-oriented", "Nemotron", (3.45, 121), (21.79, 596), (2.48, 20), 177_375),
    ("user-oriented", "Tau2", (3.05, 63), (36.16, 780), (3.02, 20), 4_138),
    ("user-oriented + sql", "Tau2", (2.43, 23), (17.15, 294), (1.6, 10), 2_174),
    ("user-oriented + sql", "SQL", (3.74, 322), (30.85, 680), (1.86, 11), 16_618),
)
PER_DIALOGUE = (
    ("steps_per_request", "Step per request"),
    ("steps", "Step per dialogue"),
    ("turns", "Turn (messages)"),
    ("tasks_done", "Task (completed)"),
    ("user_turns", "User turns"),
    ("subtasks_per_user_turn", "Subtasks per user turn"),
    ("tool_calls", "Tool calls"),
    ("distinct_tools", "Distinct tools"),
    ("tool_errors", "Tool errors"),
    ("violations", "Rule violations (flagged)"),
    ("tokens", "Tokens"),
    ("wall_s", "Wall time (s)"),
)


@dataclass
class DatasetStats:
    """Everything `turnloom stats` reports, ready for text or JSON."""

    samples: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    per_dialogue: dict[str, dict[str, float]] = field(default_factory=dict)
    finish_reasons: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    failed_checks: dict[str, int] = field(default_factory=dict)
    # check -> {"dialogues": rejected (or warned) dialogues, "findings": findings, "warning": bool}
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # one entry per finding of a rejected dialogue: session id, title, check, messages, reason
    failures: list[dict[str, Any]] = field(default_factory=list)
    judged: int = 0  # dialogues the rubric judge ruled on
    # the curator's labels (`Session.label`): counts per kind (and unlabelled), per "kind: reason", per tag,
    # and `kept`: the dialogues a label-aware export keeps (labelled keep, or unlabelled and accepted)
    labels: dict[str, Any] = field(default_factory=dict)
    tool_calls: dict[str, Any] = field(default_factory=dict)
    violations: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, Any] = field(default_factory=dict)
    histograms: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.samples if self.samples else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "table1": self.rows,
            "per_dialogue": self.per_dialogue,
            "finish_reasons": self.finish_reasons,
            "acceptance": {
                "accepted": self.accepted,
                "rate": self.acceptance_rate,
                "failed_checks": self.failed_checks,
                "checks": self.checks,
                "judged": self.judged,
            },
            "failures": self.failures,
            "labels": self.labels,
            "tool_calls": self.tool_calls,
            "rule_violations": self.violations,
            "tokens": self.tokens,
            "histograms": {k: [list(b) for b in v] for k, v in self.histograms.items()},
        }


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "max": 0.0, "median": 0.0}
    return {"mean": statistics.fmean(values), "max": max(values), "median": statistics.median(values)}


def paradigm(session: Session) -> str:
    """The Table 1 paradigm of a session (task-/user-oriented, `+ sql` for real execution)."""
    name = str(session.config.mode)
    return f"{name} + sql" if session.config.execution is ToolExecution.SQL and name == "user-oriented" else name


@dataclass
class DialogueRecord:
    """What `collect` needs of one dialogue: small, so it can be made where the session is read (another process)."""

    session_id: str
    group: tuple[str, str]  # (paradigm, domain): its Table 1 row
    stats: dict[str, Any]
    accepted: bool
    judged: bool
    failures: list[CheckFailure]
    warnings: list[CheckFailure]
    cost: float | None
    rule_violations: list[str]
    sql: bool
    label: str | None = None  # the curator's label kind
    label_reason: str = ""
    label_tags: tuple[str, ...] = ()


def dialogue_record(
    session: Session,
    wall_s: float | None = None,
    prices: Mapping[str, Any] | None = None,
    max_messages: int = MAX_MESSAGES,
) -> DialogueRecord:
    """One dialogue's share of the statistics.

    Args:
        wall_s: its measured wall seconds (a batch manifest's); else its summed message latencies.
        prices: model -> price per million tokens, for cost.
        max_messages: the checks' transcript-length limit.
    """
    stats = dialogue_stats(session)
    stats["wall_s"] = stats["generation_s"] if wall_s is None else wall_s
    verdict = verdict_for(session, max_messages=max_messages)
    return DialogueRecord(
        session_id=session.id,
        group=(paradigm(session), session.domain),
        stats=stats,
        accepted=verdict.accepted,
        judged=verdict.judge is not None,
        failures=list(verdict.failures),
        warnings=list(verdict.warnings),
        cost=session_cost(session, prices or {}),
        rule_violations=[v.rule_id for message in session.messages for v in message.meta.violations],
        sql=session.config.execution is ToolExecution.SQL,
        label=session.label.kind if session.label else None,
        label_reason=session.label.reason if session.label else "",
        label_tags=tuple(session.label.tags) if session.label else (),
    )


def collect(
    sessions: Iterable[Session],
    wall_times: Mapping[str, float] | None = None,
    prices: Mapping[str, Any] | None = None,
    max_messages: int = MAX_MESSAGES,
) -> DatasetStats:
    """Aggregate statistics over `sessions`.

    Args:
        wall_times: session id -> measured wall seconds (a batch manifest's); the
            summed message latencies are used for sessions not in it.
        prices: model -> price per million tokens, for cost.
        max_messages: the checks' transcript-length limit.
    """
    wall_times = wall_times or {}
    return collect_records(dialogue_record(s, wall_times.get(s.id), prices, max_messages) for s in sessions)


def collect_records(records: Iterable[DialogueRecord]) -> DatasetStats:
    """Aggregate statistics over dialogue records (`dialogue_record`), in order."""
    per: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    reasons: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    check_counts: dict[str, dict[str, Any]] = {}
    counted: dict[str, set[str]] = {}
    failures: list[dict[str, Any]] = []
    accepted = judged = 0
    cost: float | None = 0.0
    rule_counts: Counter[str] = Counter()
    sql_calls = sql_errors = 0
    labels = _LabelTally()
    for record in records:
        labels.add(record)
        stats = record.stats
        per.append(stats)
        groups.setdefault(record.group, []).append(stats)
        reasons[stats["finish_reason"] or "unfinished"] += 1
        accepted += record.accepted
        judged += record.judged
        failed.update({f.check for f in record.failures})
        for finding in record.failures + record.warnings:
            entry = check_counts.setdefault(finding.check, {"dialogues": 0, "findings": 0, "warning": finding.warning})
            entry["findings"] += 1
            if finding.check not in counted.setdefault(record.session_id, set()):
                counted[record.session_id].add(finding.check)
                entry["dialogues"] += 1
        failures += [
            {"session": record.session_id, "check": f.check, "messages": f.messages, "reason": f.reason}
            for f in record.failures
        ]
        cost = None if record.cost is None or cost is None else cost + record.cost
        rule_counts.update(record.rule_violations)
        if record.sql:
            sql_calls += stats["tool_calls"]
            sql_errors += stats["tool_errors"]
    out = DatasetStats(
        samples=len(per),
        accepted=accepted,
        finish_reasons=dict(reasons.most_common()),
        failed_checks=dict(failed.most_common()),
        checks={name: check_counts[name] for name in (*ALL_CHECKS, *sorted(check_counts)) if name in check_counts},
        failures=failures,
        judged=judged,
        labels=labels.as_dict(),
    )
    for (name, source), rows in sorted(groups.items()):
        out.rows.append(_row(name, source, rows))
    if len(groups) > 1:
        out.rows.append(_row("all", "all", per))
    out.per_dialogue = {key: _summary([float(s[key]) for s in per]) for key, _ in PER_DIALOGUE}
    calls = sum(s["tool_calls"] for s in per)
    reads, writes = sum(s["read_calls"] for s in per), sum(s["write_calls"] for s in per)
    out.tool_calls = {
        "total": calls,
        "valid_arguments_rate": 1 - sum(s["invalid_arguments"] for s in per) / calls if calls else None,
        "error_rate": sum(s["tool_errors"] for s in per) / calls if calls else None,
        "sql_error_rate": sql_errors / sql_calls if sql_calls else None,
        "reads": reads,
        "writes": writes,
        "write_share": writes / (reads + writes) if reads + writes else None,
        "parallel_steps": sum(s["parallel_steps"] for s in per),
    }
    out.violations = {
        "total": sum(rule_counts.values()),
        "dialogues_with_violations": sum(1 for s in per if s["violations"]),
        "by_rule": dict(rule_counts.most_common()),
    }
    out.tokens = {
        "prompt": sum(s["prompt_tokens"] for s in per),
        "completion": sum(s["completion_tokens"] for s in per),
        "total": sum(s["tokens"] for s in per),
        "cost": cost,
        "wall_s_total": sum(s["wall_s"] for s in per),
    }
    out.histograms = {
        "turns": histogram([s["turns"] for s in per]),
        "tasks": histogram([s["tasks_done"] for s in per], integer=True),
    }
    return out


class _LabelTally:
    """The curator's labels over the dialogues: per kind, per reason, per tag, and what an export keeps."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.tags: Counter[str] = Counter()
        self.kept = 0

    def add(self, record: DialogueRecord) -> None:
        self.kinds[record.label or "unlabelled"] += 1
        if record.label:
            self.reasons[f"{record.label}: {record.label_reason.strip() or '(no reason)'}"] += 1
            self.tags.update(record.label_tags)
        # a label overrides the verdict: keep keeps a rejected dialogue, drop and needs-fix leave out an accepted one
        self.kept += record.label == "keep" or (record.label is None and record.accepted)

    def as_dict(self) -> dict[str, Any]:
        kinds = {kind: self.kinds[kind] for kind in ("keep", "drop", "needs-fix", "unlabelled")}
        return {
            "by_label": kinds,
            "by_reason": dict(self.reasons.most_common()),
            "by_tag": dict(self.tags.most_common()),
            "kept": self.kept,
        }


def _row(name: str, source: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    def cell(key: str) -> dict[str, float]:
        values = [float(r[key]) for r in rows]
        return {"mean": statistics.fmean(values) if values else 0.0, "max": max(values, default=0.0)}

    return {
        "paradigm": name,
        "source": source,
        "step_per_request": cell("steps_per_request"),
        "step_per_dialogue": cell("steps"),
        "turn": cell("turns"),
        "task": cell("tasks_done"),
        "samples": len(rows),
    }


def histogram(values: list[int], bins: int = 10, integer: bool = False) -> list[tuple[str, int]]:
    """Counts per bin as (label, count): one bin per value when few distinct integers, else ~`bins` ranges."""
    if not values:
        return []
    low, high = min(values), max(values)
    if integer or high - low < bins:
        counts = Counter(values)
        return [(str(v), counts.get(v, 0)) for v in range(low, high + 1)]
    width = max(1, -(-(high - low + 1) // bins))
    out = []
    for start in range(low, high + 1, width):
        end = start + width - 1
        out.append((f"{start}-{end}", sum(1 for v in values if start <= v <= end)))
    return out


def render(stats: DatasetStats, bar_width: int = 40) -> str:
    """The report as plain text."""
    lines = [f"{stats.samples} dialogue(s)", "", "Table 1 layout — mean (max)"]
    header = f"  {'Paradigm':<22}{'Source':<10}{'Step/req':>12}{'Step/dlg':>13}{'Turn':>14}{'Task':>12}{'Samples':>9}"
    lines.append(header)

    def cell(c: dict[str, float] | tuple[float, float]) -> str:
        mean, top = (c["mean"], c["max"]) if isinstance(c, dict) else c
        return f"{mean:.2f} ({top:g})"

    for row in stats.rows:
        lines.append(
            f"  {row['paradigm']:<22}{row['source']:<10}{cell(row['step_per_request']):>12}"
            f"{cell(row['step_per_dialogue']):>13}{cell(row['turn']):>14}{cell(row['task']):>12}{row['samples']:>9}"
        )
    lines.append("  paper (Step is ambiguous there, per request or per dialogue):")
    for name, source, step, turn, task, samples in PAPER_ROWS:
        lines.append(f"  {name:<22}{source:<10}{cell(step):>12}{'':>13}{cell(turn):>14}{cell(task):>12}{samples:>9,}")
    lines += ["", f"  {'Per dialogue':<28}{'mean':>10}{'median':>10}{'max':>10}"]
    for key, label in PER_DIALOGUE:
        s = stats.per_dialogue.get(key, {})
        lines.append(f"  {label:<28}{s.get('mean', 0):>10.2f}{s.get('median', 0):>10.2f}{s.get('max', 0):>10.4g}")
    total = stats.samples or 1
    finish = ", ".join(f"{k} {v} ({v / total:.1%})" for k, v in stats.finish_reasons.items())
    lines += ["", f"Finish reasons: {finish or '-'}"]
    failed = ", ".join(f"{k} {v}" for k, v in stats.failed_checks.items())
    lines.append(
        f"Acceptance: {stats.accepted}/{stats.samples} ({stats.acceptance_rate:.1%})"
        + (f"; failed checks: {failed}" if failed else "")
    )
    labelled = stats.samples - stats.labels.get("by_label", {}).get("unlabelled", stats.samples)
    if labelled:
        lines += _label_lines(stats)
    if stats.judged:
        lines.append(f"Rubric judge: ruled on {stats.judged}/{stats.samples} dialogue(s)")
    if stats.checks:
        lines.append(f"  {'Check':<20}{'dialogues':>10}{'findings':>10}")
        for name, entry in stats.checks.items():
            kind = "  (warning)" if entry["warning"] else ""
            lines.append(f"  {name:<20}{entry['dialogues']:>10}{entry['findings']:>10}{kind}")
    t = stats.tool_calls
    lines.append(
        f"Tool calls: {t['total']} · valid arguments {_pct(t['valid_arguments_rate'])} · "
        f"SQL error rate {_pct(t['sql_error_rate'])} · reads {t['reads']} / writes {t['writes']} "
        f"(write share {_pct(t['write_share'])}) · parallel steps {t['parallel_steps']}"
    )
    v = stats.violations
    by_rule = ", ".join(f"{k} {n}" for k, n in v["by_rule"].items())
    lines.append(
        f"Rule violations (flagged): {v['total']} in {v['dialogues_with_violations']} dialogue(s)"
        + (f" — {by_rule}" if by_rule else "")
    )
    k = stats.tokens
    cost = "n/a (no price for a model used)" if k["cost"] is None else f"${k['cost']:.4f}"
    lines.append(f"Tokens: {k['total']:,} (prompt {k['prompt']:,}, completion {k['completion']:,}) · cost {cost}")
    lines.append(
        f"Wall time: {k['wall_s_total']:.1f} s in all, {stats.per_dialogue['wall_s']['mean']:.3f} s per dialogue"
    )
    for name in ("turns", "tasks"):
        bins = stats.histograms.get(name, [])
        peak = max((c for _, c in bins), default=0) or 1
        lines += ["", f"Histogram of {name}"]
        label_width = max((len(label) for label, _ in bins), default=1)
        for label, count in bins:
            bar = "█" * round(count / peak * bar_width)
            lines.append(f"  {label:>{label_width}} │{bar} {count}")
    return "\n".join(lines)


def _label_lines(stats: DatasetStats) -> list[str]:
    labels = stats.labels
    kinds = ", ".join(f"{kind} {n}" for kind, n in labels["by_label"].items())
    lines = [f"Labels: {kinds}; kept after labels {labels['kept']}/{stats.samples} (a label overrides the verdict)"]
    lines += [f"  {n:>5}  {reason}" for reason, n in labels["by_reason"].items()]
    if labels["by_tag"]:
        lines.append("  tags: " + ", ".join(f"{tag} {n}" for tag, n in labels["by_tag"].items()))
    return lines


def render_failures(stats: DatasetStats) -> str:
    """Every failing dialogue with, per failed check, the messages it points at and the reason."""
    lines: list[str] = []
    current = None
    for entry in stats.failures:
        if entry["session"] != current:
            current = entry["session"]
            lines.append(f"{current}:")
        at = ", ".join(str(m) for m in entry["messages"]) or "-"
        lines.append(f"  {entry['check']} [messages {at}]: {entry['reason']}")
    return "\n".join(lines) if lines else "no failing dialogues"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
