"""The built-in domain packs: schemas, seed data, intents, phrasings and templates."""

from __future__ import annotations

import random
import re
import sqlite3
import string

import pytest

from turnloom.core.domains import all_packs, get_pack, pack_names
from turnloom.core.domains.base import SLOT_TYPES, DomainPack
from turnloom.core.errors import DomainError
from turnloom.core.models import Difficulty

PACKS = all_packs()
IDS = [p.name for p in PACKS]

# how a slot value looks in free text (a deliberately loose version of the assistant's
# recogniser: the whole pattern is case-insensitive, so `name` matches any words)
SLOT_PATTERNS = {
    "int": r"\d+",
    "float": r"\d+(?:\.\d+)?",
    "email": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "date": r"\d{4}-\d{2}-\d{2}",
    "name": r"[A-Z][a-z]+(?: [A-Z][a-z]+)*",
    "word": r"\S+",
    "text": r".+",
}
SAMPLES = {
    "int": "17",
    "float": "24.5",
    "email": "ana.lopez@example.com",
    "date": "2025-05-04",
    "name": "Ana Lopez",
    "word": "SKU-1042",
    "text": "the screen keeps flickering",
}


def build(pack: DomainPack) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(pack.schema_sql)
    pack.populate(conn, random.Random(pack.data_seed))
    conn.commit()
    return conn


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [r[0] for r in rows]


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables(conn)}


def fields(text: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


def phrasing_regex(phrasing: str, slots: dict[str, str]) -> re.Pattern[str]:
    out = []
    for literal, field, _, _ in string.Formatter().parse(phrasing):
        out.append(re.escape(literal))
        if field:
            out.append(f"(?:{SLOT_PATTERNS[slots[field]]})")
    return re.compile("".join(out), re.IGNORECASE)


def singular(table: str) -> str:
    if table.endswith("ies"):
        return table[:-3] + "y"
    if table.endswith(("sses", "xes", "ches", "shes")):
        return table[:-2]
    if table.endswith("s") and not table.endswith("ss"):
        return table[:-1]
    return table


def expected_tools(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """The forge's naming rules, re-derived here: tool name -> parameter names."""
    tools: dict[str, set[str]] = {}
    for table in tables(conn):
        entity = singular(table)
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        others = [c for c in cols if c != "id"]
        tools[f"get_{entity}_by_id"] = {"id"}
        for index in conn.execute(f"PRAGMA index_list({table})").fetchall():
            if index[2]:  # unique
                info = conn.execute(f"PRAGMA index_info({index[1]})").fetchall()
                if len(info) == 1:
                    tools[f"get_{entity}_by_{info[0][2]}"] = {info[0][2]}
        # ranges on numbers and dates that are not links (min_price, max_visit_date)
        ranged = [
            c
            for c, kind in ((r[1], (r[2] or "").upper()) for r in conn.execute(f"PRAGMA table_info({table})"))
            if c != "id" and not c.endswith("_id") and kind in ("INTEGER", "REAL", "DATE")
        ]
        tools[f"search_{table}"] = set(others) | {"limit"} | {f"{m}_{c}" for c in ranged for m in ("min", "max")}
        tools[f"create_{entity}"] = set(others)
        tools[f"delete_{entity}"] = {"id"}
        for col in others:
            tools[f"update_{entity}_{col}"] = {"id", col}
        for fk in conn.execute(f"PRAGMA foreign_key_list({table})"):
            parent = singular(fk[2])
            tools[f"get_{parent}_{table}"] = {fk[3], "limit"}
            tools[f"get_{parent}_{table}_summary"] = {fk[3]}
    return tools


# -- registry ---------------------------------------------------------------


def test_registry_lists_five_packs():
    assert pack_names() == ["airline", "clinic", "football", "retail", "telecom"]
    assert [p.name for p in PACKS] == pack_names()
    assert get_pack("retail") is get_pack("retail")


def test_unknown_domain_lists_known_ones():
    with pytest.raises(DomainError) as info:
        get_pack("retial")
    message = str(info.value)
    assert "'retial'" in message
    assert "known domains: airline, clinic, football, retail, telecom" in message


# -- schema and data --------------------------------------------------------


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_schema_shape(pack):
    conn = build(pack)
    names = tables(conn)
    assert 3 <= len(names) <= 5
    assert all(n.endswith("s") for n in names if n != "staff")
    sql = pack.schema_sql
    assert re.search(r"CHECK \(\w+ IN \('", sql)
    assert "UNIQUE" in sql and " REAL" in sql and " DATE" in sql and "REFERENCES" in sql
    assert not re.search(r"CURRENT_|random\(|datetime\(|date\('now", sql, re.IGNORECASE)
    for name in names:
        pk = [r for r in conn.execute(f"PRAGMA table_info({name})") if r[5]]
        assert [(r[1], r[2]) for r in pk] == [("id", "INTEGER")]


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_populate_is_deterministic_and_big_enough(pack):
    first, second = dump(build(pack)), dump(build(pack))
    assert first == second
    assert sum(len(rows) for rows in first.values()) >= 50
    assert all(rows for rows in first.values())
    assert build(pack).execute("PRAGMA foreign_key_check").fetchall() == []


def test_all_packs_hold_at_least_250_rows():
    total = sum(len(rows) for p in PACKS for rows in dump(build(p)).values())
    assert total >= 250


# -- intents ----------------------------------------------------------------


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_intents_are_well_formed(pack):
    names = [i.name for i in pack.intents]
    assert len(names) == len(set(names))
    keywords = [k for i in pack.intents for k in i.keywords]
    assert len(keywords) == len(set(keywords)), "keywords should point at one intent"
    assert 10 <= len(names) <= 22
    slot_types: dict[str, str] = {}
    for intent in pack.intents:
        assert intent.steps and 1 <= len(intent.keywords) <= 4
        assert 3 <= len(intent.phrasings) <= 16
        assert set(intent.slots.values()) <= set(SLOT_TYPES)
        assert sorted(fields(intent.description)) == sorted(intent.slots)
        for slot, kind in intent.slots.items():
            assert slot_types.setdefault(slot, kind) == kind, f"{slot} has two types"
        for phrasing in intent.phrasings:
            assert sorted(fields(phrasing)) == sorted(intent.slots), phrasing
            for match in re.finditer(r"\{(\w+)\}", phrasing):
                after = phrasing[match.end() :]
                before = phrasing[: match.start()]
                assert not after[:1].isalnum() and not before[-1:].isalnum(), phrasing
                assert not re.match(r"\s*\{", after), f"adjacent slots in {phrasing!r}"
                if intent.slots[match.group(1)] == "text":
                    assert re.fullmatch(r"[.?!]?", after), f"text slot not at end: {phrasing!r}"
        for step in intent.steps:
            for value in step.arguments.values():
                for field in re.findall(r"\{(\w+)\}", value):
                    assert field in intent.slots, f"{intent.name}: unknown slot {field}"
        assert intent.steps[0].arguments, intent.name
        assert not any("$prev" in v for v in intent.steps[0].arguments.values())


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_writes_have_a_read_to_verify_them(pack):
    kinds = {"update_", "create_", "delete_"}
    for intent in pack.intents:
        writes = any(s.tool.startswith(tuple(kinds)) for s in intent.steps)
        if not writes:
            assert intent.verify is None
            continue
        assert intent.verify, f"{intent.name} writes but has no verify"
        check = pack.intent(intent.verify)
        assert not any(s.tool.startswith(tuple(kinds)) for s in check.steps)
        assert set(check.slots) <= set(intent.slots)


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_pack_covers_the_required_kinds_of_request(pack):
    tools = [[s.tool for s in i.steps] for i in pack.intents]
    flat = [t for chain in tools for t in chain]
    assert sum(1 for c in tools if len(c) == 1 and c[0].endswith("_by_id")) >= 2
    assert any(re.fullmatch(r"get_\w+_by_(?!id$)\w+", t) for t in flat)
    assert any(t.startswith("search_") for t in flat)
    assert any(t.endswith("_summary") for t in flat)
    assert any(len(c) >= 2 for c in tools)
    assert sum(1 for t in flat if t.startswith("update_")) >= 2
    assert any(t.startswith("create_") for t in flat)


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_phrasings_of_different_intents_cannot_be_confused(pack):
    for intent in pack.intents:
        for phrasing in intent.phrasings:
            sentence = phrasing.format(**{s: SAMPLES[k] for s, k in intent.slots.items()})
            assert phrasing_regex(phrasing, intent.slots).fullmatch(sentence)
            for other in pack.intents:
                if other is intent:
                    continue
                for candidate in other.phrasings:
                    hit = phrasing_regex(candidate, other.slots).search(sentence)
                    assert not hit, f"{other.name}: {candidate!r} matches {sentence!r}"


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_step_tools_follow_the_forge_naming(pack):
    tools = expected_tools(build(pack))
    for intent in pack.intents:
        for step in intent.steps:
            assert step.tool in tools, f"{intent.name}: no tool {step.tool}"
            assert set(step.arguments) <= tools[step.tool], (intent.name, step.tool)


def test_step_tools_exist_among_the_forged_tools():
    from turnloom.core.tools import dbimage
    from turnloom.core.tools import derive as forge

    for pack in PACKS:
        report = forge.derive_tools(dbimage.build_pack_image(pack))
        params = {t.name: set(t.parameters.get("properties", {})) for t in report.tools}
        for intent in pack.intents:
            for step in intent.steps:
                assert step.tool in params, f"{pack.name}/{intent.name}: no tool {step.tool}"
                missing = set(step.arguments) - params[step.tool]
                assert not missing, f"{pack.name}/{step.tool} lacks {missing}"


# -- templates --------------------------------------------------------------


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_templates_are_grounded_in_the_data(pack):
    conn = build(pack)
    conn.row_factory = sqlite3.Row
    names = [t.name for t in pack.templates]
    assert len(names) == len(set(names))
    known = {i.name for i in pack.intents}
    for template in pack.templates:
        assert template.intents and set(template.intents) <= known, template.name
        assert "random()" not in template.sample_sql.lower()
        rows = sample_rows(conn, template)
        assert len(rows) >= 3, f"{template.name} samples {len(rows)} rows"
        provided = set(rows[0].keys()) | {k for key in template.values for k in key.split("+")}
        for name in template.intents:
            missing = set(pack.intent(name).slots) - provided
            assert not missing, f"{template.name}: {name} needs {missing}"
        assert set(fields(template.goal)) <= provided, template.name
        for pool in template.values.values():
            assert pool
        low, high = {"easy": (1, 2), "medium": (2, 3), "hard": (3, 5)}[template.difficulty]
        assert low <= len(template.intents) <= high, template.name


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_every_difficulty_has_two_templates(pack):
    used = {name for t in pack.templates for name in t.intents}
    used |= {pack.intent(name).verify for name in used} - {None}
    # an intent asking by id for what a template's intent asks by email or name (operator turns) serves the same tool
    served = {pack.intent(name).steps[-1].tool for name in used}
    used |= {i.name for i in pack.intents if i.steps[-1].tool in served}
    assert not {i.name for i in pack.intents} - used, "intents no template asks for"
    for difficulty in Difficulty:
        assert sum(t.difficulty is difficulty for t in pack.templates) >= 2, difficulty
    hard = [t for t in pack.templates if t.difficulty is Difficulty.HARD]
    for template in hard:
        steps = [pack.intent(n).steps for n in template.intents]
        assert any(s.tool.startswith(("update_", "create_", "delete_")) for c in steps for s in c)
    assert any(len(pack.intent(n).steps) >= 2 for t in hard for n in t.intents)


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_template_updates_fit_the_constraints(pack):
    """Fill each template from sampled rows and run its update steps for real."""
    conn = build(pack)
    conn.row_factory = sqlite3.Row
    entities = {singular(t): t for t in tables(conn)}
    rng = random.Random(3)
    for template in pack.templates:
        for row in sample_rows(conn, template)[:3]:
            slots = dict(row) | drawn_values(template, rng)
            for name in template.intents:
                for step in pack.intent(name).steps:
                    if not step.tool.startswith("update_"):
                        continue
                    entity = max((e for e in entities if step.tool.startswith(f"update_{e}_")), key=len)
                    column = step.tool.removeprefix(f"update_{entity}_")
                    args = {k: _fill(v, slots) for k, v in step.arguments.items()}
                    conn.execute(
                        f"UPDATE {entities[entity]} SET {column} = ? WHERE id = ?",
                        (args[column], args["id"]),
                    )
        conn.rollback()


def sample_rows(conn: sqlite3.Connection, template) -> list:
    """A template's sample rows; a personal template's (`:user_id`) over every person of the data."""
    if ":user_id" not in template.sample_sql:
        return conn.execute(template.sample_sql).fetchall()
    return [row for user in range(1, 60) for row in conn.execute(template.sample_sql, {"user_id": user}).fetchall()]


def _rows_conn(pack: DomainPack) -> sqlite3.Connection:
    conn = build(pack)
    conn.row_factory = sqlite3.Row
    return conn


def drawn_values(template, rng: random.Random) -> dict:
    """New values for a template's slots as the task generator draws them (pairs together, the person's own email)."""
    slots: dict = {}
    for key, pool in template.values.items():
        value = rng.choice(pool)
        if isinstance(value, str):
            value = value.format(user_first="ana", user_last="lopez") if "{user_" in value else value
        slots.update(zip(key.split("+"), value, strict=True) if "+" in key else {key: value})
    return slots


def _fill(value: str, slots: dict) -> object:
    match = re.fullmatch(r"\{(\w+)\}", value)
    return slots[match.group(1)] if match else value


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_template_tasks_run_against_the_forged_tools(pack):
    """Every template's intents, filled from sampled rows, run cleanly on a fresh database."""
    import json

    from turnloom.core.tools import dbimage, sqlenv
    from turnloom.core.tools import derive as forge

    image = dbimage.build_pack_image(pack)
    specs = {t.name: t for t in forge.derive_tools(image).tools}
    rng = random.Random(5)
    for template in pack.templates:
        with sqlenv.SqlEnvironment(image) as env:
            rows = env.query(template.sample_sql, {"user_id": 1} if ":user_id" in template.sample_sql else None)
            rows = rows or [dict(r) for r in sample_rows(_rows_conn(pack), template)][:3]
        for row in rows[:3]:
            slots = row | drawn_values(template, rng)
            with sqlenv.SqlEnvironment(image) as env:
                for name in template.intents:
                    prev = None
                    earlier: list = []  # each step's result, for a step taking an earlier one's (`$0.id`)
                    for step in pack.intent(name).steps:
                        args = {}
                        for key, value in step.arguments.items():
                            if value.startswith("$prev."):
                                source = prev[0] if isinstance(prev, list) else prev
                                assert source, f"{template.name}/{name}: nothing before {step.tool}"
                                args[key] = source[value.removeprefix("$prev.")]
                            elif match := re.fullmatch(r"\$(\d+)\.(\w+)", value):
                                source = earlier[int(match.group(1))]
                                source = source[0] if isinstance(source, list) else source
                                assert source, f"{template.name}/{name}: nothing at step {match.group(1)}"
                                args[key] = source[match.group(2)]
                            else:
                                args[key] = _fill(value, slots)
                        result = env.execute(specs[step.tool], args)
                        where = f"{template.name}/{name}/{step.tool}{args}"
                        assert not result.is_error, f"{where}: {result.content}"
                        prev = json.loads(result.content)
                        earlier.append(prev)
                        if specs[step.tool].writes:
                            assert prev["rowcount"] == 1, where
                        elif specs[step.tool].returns == "one":
                            assert prev is not None, f"{where} found nothing"


@pytest.mark.parametrize("pack", PACKS, ids=IDS)
def test_the_offline_parser_reads_back_every_request(pack):
    """Each template's subtasks, rendered alone and in pairs, parse back to the same requests."""
    from turnloom.core.players.offline import language

    parser = language.RequestParser(pack)
    conn = build(pack)
    conn.row_factory = sqlite3.Row
    rng = random.Random(11)
    for template in pack.templates:
        row = dict(rng.choice(sample_rows(conn, template)))
        slots = row | drawn_values(template, rng)
        rendered = []
        for name in template.intents:
            intent = pack.intent(name)
            wanted = {s: slots[s] for s in intent.slots}
            for phrasing in intent.phrasings:
                text = language.render(phrasing, wanted)
                found = parser.parse(text)
                assert [(r.intent.name, r.slots) for r in found] == [(name, wanted)], text
            rendered.append((name, wanted, language.render(rng.choice(intent.phrasings), wanted)))
        for (a, slots_a, text_a), (b, slots_b, text_b) in zip(rendered, rendered[1:]):
            found = parser.parse(f"{text_a} Also, {text_b[0].lower()}{text_b[1:]}")
            assert [(r.intent.name, r.slots) for r in found] == [(a, slots_a), (b, slots_b)], (text_a, text_b)
