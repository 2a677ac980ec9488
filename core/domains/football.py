"""The football pack: clubs, players, contracts and match appearances.

A small league office. Users look up clubs and players, browse squads, check
season statistics and contracts, update market values, transfer players,
terminate contracts and log appearances.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from turnloom.core.domains import chains
from turnloom.core.domains.base import DomainPack, Intent, TaskTemplate, ToolStep
from turnloom.core.models import Difficulty

SCHEMA_SQL = """
CREATE TABLE clubs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    city TEXT NOT NULL,
    stadium TEXT NOT NULL,
    founded INTEGER NOT NULL,
    budget REAL NOT NULL
);
CREATE TABLE players (
    id INTEGER PRIMARY KEY,
    club_id INTEGER REFERENCES clubs(id),
    name TEXT NOT NULL,
    position TEXT NOT NULL
        CHECK (position IN ('goalkeeper', 'defender', 'midfielder', 'forward')),
    nationality TEXT NOT NULL,
    birth_date DATE NOT NULL,
    market_value REAL NOT NULL
);
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    player_id INTEGER NOT NULL REFERENCES players(id),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    weekly_wage REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'terminated'))
);
CREATE TABLE appearances (
    id INTEGER PRIMARY KEY,
    player_id INTEGER NOT NULL REFERENCES players(id),
    match_date DATE NOT NULL,
    opponent TEXT NOT NULL,
    minutes INTEGER NOT NULL DEFAULT 90,
    goals INTEGER NOT NULL DEFAULT 0,
    assists INTEGER NOT NULL DEFAULT 0,
    rating REAL
);
"""

_CLUBS = (
    ("Porto Athletic", "Porto", "Estadio do Rio", 1906),
    ("Lisbon Rovers", "Lisbon", "Alvalade Park", 1912),
    ("Braga United", "Braga", "Pedreira Ground", 1921),
    ("Coimbra Academica", "Coimbra", "Cidade Arena", 1887),
    ("Faro Mariners", "Faro", "Algarve Stadium", 1934),
    ("Setubal Sailors", "Setubal", "Bonfim Road", 1910),
)
_FIRST = (
    "Andre",
    "Bruno",
    "Carlos",
    "Diogo",
    "Emil",
    "Fabio",
    "Goncalo",
    "Hugo",
    "Ivan",
    "Joel",
    "Kevin",
    "Luis",
    "Mario",
    "Nuno",
    "Otavio",
    "Pepe",
    "Rafa",
    "Sergio",
    "Tiago",
    "Vitor",
)
_LAST = (
    "Almeida",
    "Batista",
    "Cardoso",
    "Dias",
    "Esteves",
    "Figueira",
    "Guerreiro",
    "Henriques",
    "Leal",
    "Macedo",
    "Neves",
    "Oliveira",
    "Pires",
    "Quaresma",
    "Ramos",
    "Sousa",
)
_NATIONS = ("Portugal", "Portugal", "Portugal", "Brazil", "Spain", "Cape Verde", "Angola", "Uruguay")
_POSITIONS = ("goalkeeper", "defender", "defender", "midfielder", "midfielder", "forward")


def _day(rng: random.Random, start: int, end: int) -> str:
    return (date(2025, 1, 1) + timedelta(days=rng.randint(start, end))).isoformat()


def populate(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Insert 6 clubs, 36 players with contracts, and their season appearances."""
    for i, (name, city, stadium, founded) in enumerate(_CLUBS, start=1):
        conn.execute(
            "INSERT INTO clubs (id, name, city, stadium, founded, budget) VALUES (?,?,?,?,?,?)",
            (i, name, city, stadium, founded, round(rng.uniform(12, 90), 1) * 1_000_000),
        )
    people = rng.sample([(f, s) for f in _FIRST for s in _LAST], 36)
    appearance_id = 0
    for i, (first, last) in enumerate(people, start=1):
        club_id = (i - 1) % len(_CLUBS) + 1
        position = _POSITIONS[(i - 1) // len(_CLUBS) % len(_POSITIONS)]
        conn.execute(
            "INSERT INTO players (id, club_id, name, position, nationality, birth_date,"
            " market_value) VALUES (?,?,?,?,?,?,?)",
            (
                i,
                club_id,
                f"{first} {last}",
                position,
                rng.choice(_NATIONS),
                (date(1990, 1, 1) + timedelta(days=rng.randint(0, 5000))).isoformat(),
                round(rng.uniform(0.3, 25), 1) * 1_000_000,
            ),
        )
        start = 2020 + rng.randint(0, 4)
        conn.execute(
            "INSERT INTO contracts (id, player_id, start_date, end_date, weekly_wage, status) VALUES (?,?,?,?,?,?)",
            (
                i,
                i,
                f"{start}-07-01",
                f"{start + rng.randint(2, 5)}-06-30",
                round(rng.uniform(2, 40), 1) * 1000,
                "active" if i % 7 else "expired",
            ),
        )
        for _ in range(rng.randint(0, 3)):
            appearance_id += 1
            opponent = rng.choice([c[0] for c in _CLUBS if c[0] != _CLUBS[club_id - 1][0]])
            scorer = position in ("midfielder", "forward")
            conn.execute(
                "INSERT INTO appearances (id, player_id, match_date, opponent, minutes, goals,"
                " assists, rating) VALUES (?,?,?,?,?,?,?,?)",
                (
                    appearance_id,
                    i,
                    _day(rng, 30, 300),
                    opponent,
                    rng.choice((90, 90, 75, 62, 28)),
                    rng.randint(0, 2) if scorer else 0,
                    rng.randint(0, 1),
                    round(rng.uniform(5.5, 8.9), 1),
                ),
            )


S = ToolStep

INTENTS = (
    Intent(
        "club_info",
        "look up club {club_id}",
        (
            "What can you tell me about club {club_id}?",
            "Give me the basics on club {club_id}.",
            "Where is club {club_id} based?",
            "Tell me about club {club_id}.",
            "What do you have on club #{club_id}?",
            "Show me the details of club number {club_id}.",
            "Give me the details on club {club_id}.",
            "Who are club {club_id}, and where do they play?",
            "I'd like some background on club {club_id}.",
        ),
        {"club_id": "int"},
        (S("get_club_by_id", {"id": "{club_id}"}),),
        ("club", "stadium", "founded"),
    ),
    Intent(
        "player_profile",
        "look up the profile of player {player_id}",
        (
            "Who is player {player_id}? Give me the basics.",
            "What do you have on player {player_id}?",
            "Pull up the file of player {player_id}.",
            "Show me the profile of player {player_id}.",
            "Who is player #{player_id}?",
            "Can you look up player number {player_id}?",
            "Tell me about player {player_id}.",
            "What's the background of player {player_id}?",
            "I'd like a quick profile of player {player_id}.",
            "What should I know about player {player_id}?",
            "Give me the rundown on player {player_id}.",
            "Who exactly is player {player_id}?",
            "Fill me in on player {player_id}.",
        ),
        {"player_id": "int"},
        (S("get_player_by_id", {"id": "{player_id}"}),),
        ("profile", "player", "who"),
    ),
    Intent(
        "club_by_name",
        "find the club called {club_name}",
        (
            "Where are {club_name} based?",
            "Tell me about {club_name} as a club.",
            "Which city do {club_name} come from?",
            "Where do {club_name} play their home games?",
            "Find the club called {club_name}, please.",
            "What can you tell me about the team named {club_name}?",
            "Give me some background on {club_name}.",
            "Which ground do {club_name} play at?",
            "I'd like the basics on {club_name}.",
        ),
        {"club_name": "name"},
        (S("get_club_by_name", {"name": "{club_name}"}),),
        ("called", "named", "home"),
    ),
    Intent(
        "club_position_players",
        "find the {position}s at club {club_id}",
        (
            "List the {position} players at club {club_id}.",
            "Who are the {position} options at club {club_id}?",
            "Which players at club {club_id} play as {position}?",
            "Who plays {position} for club #{club_id}?",
            "List every {position} registered with club number {club_id}.",
            "Who are the {position} players at club {club_id}?",
            "Which {position} players does club {club_id} have?",
        ),
        {"club_id": "int", "position": "word"},
        (S("search_players", {"club_id": "{club_id}", "position": "{position}"}),),
        ("position", "plays", "registered"),
    ),
    Intent(
        "club_squad",
        "list the squad of club {club_id}",
        (
            "List the players of club {club_id}.",
            "Which players does club {club_id} have?",
            "Show me the roster of club {club_id}.",
            "Who is in the squad of club {club_id}?",
            "List the whole roster of club #{club_id}.",
            "Show me every player signed to club number {club_id}.",
            "Who plays for club {club_id} these days?",
            "Which players are on the books at club {club_id}?",
            "Go through the squad of club {club_id} with me.",
            "Who does club {club_id} have in the squad?",
            "Tell me the players at club {club_id}.",
            "Which players are registered to club {club_id}?",
            "Give me the player list of club {club_id}.",
            "I'd like the roster of club {club_id}.",
        ),
        {"club_id": "int"},
        (S("get_club_players", {"club_id": "{club_id}"}),),
        ("squad", "roster", "whole"),
    ),
    Intent(
        "squad_value",
        "find out what the squad of club {club_id} is worth",
        (
            "What is the combined market value of club {club_id}?",
            "Sum up the market values at club {club_id}.",
            "What is the squad of club {club_id} worth?",
            "Give me the total market value of club #{club_id}.",
            "How much is the roster of club number {club_id} valued at?",
            "What's the squad of club {club_id} worth in total?",
            "How much are the players of club {club_id} worth together?",
            "Work out the market value of the club {club_id} squad.",
        ),
        {"club_id": "int"},
        (S("get_club_players_summary", {"club_id": "{club_id}"}),),
        ("worth", "total", "valued"),
    ),
    Intent(
        "player_stats",
        "see the season statistics of player {player_id}",
        (
            "How has player {player_id} been doing this season?",
            "What are the season numbers of player {player_id}?",
            "How many appearances does player {player_id} have?",
            "How many goals has player {player_id} scored this season?",
            "Give me the season stats of player #{player_id}.",
            "What are the numbers for player number {player_id} so far?",
            "What kind of season is player {player_id} having?",
            "Has player {player_id} scored much this year?",
            "I'd like the goals and minutes of player {player_id} for this season.",
            "How is player {player_id} performing lately?",
            "How many goals does player {player_id} have so far?",
            "Has player {player_id} been playing much lately?",
            "What has player {player_id} done on the pitch this season?",
            "Sum up the season of player {player_id} for me.",
        ),
        {"player_id": "int"},
        (S("get_player_appearances_summary", {"player_id": "{player_id}"}),),
        ("goals", "stats", "season"),
    ),
    Intent(
        "squad_by_club_name",
        "see the squad of {club_name}",
        (
            "Who is in the {club_name} squad?",
            "List the players of {club_name}.",
            "Give me the {club_name} roster.",
            "Who plays for {club_name}?",
            "List the players of the club {club_name}, please.",
            "Show me the squad that {club_name} have this year.",
            "Who's on the books at {club_name}?",
            "I'd like to see who {club_name} have in their squad.",
            "Which players are registered with {club_name}?",
            "Who have {club_name} got in their squad this season?",
            "Run me through the {club_name} players.",
            "Which players do {club_name} have?",
            "I'm scouting {club_name}. Who is on their team sheet?",
            "Tell me who plays for {club_name}.",
            "Which players are in the {club_name} squad right now?",
            "Give me the names on the {club_name} roster.",
        ),
        {"club_name": "name"},
        (S("get_club_by_name", {"name": "{club_name}"}), S("get_club_players", {"club_id": "$prev.id"})),
        ("players", "lineup", "team"),
    ),
    Intent(
        "player_contracts",
        "see the contracts of player {player_id}",
        (
            "Which deals has player {player_id} signed?",
            "List the contracts of player {player_id}.",
            "Is player {player_id} under contract?",
            "What contracts does player {player_id} have?",
            "When does the deal of player #{player_id} run out?",
            "Show me the contract history of player number {player_id}.",
            "What are the contract terms of player {player_id}?",
            "How long is player {player_id} tied to the club?",
            "I need the deals on file for player {player_id}.",
            "What deals is player {player_id} on?",
            "Is player {player_id} signed up for long?",
            "Go over the contracts of player {player_id} with me.",
            "What has player {player_id} signed over the years?",
        ),
        {"player_id": "int"},
        (S("get_player_contracts", {"player_id": "{player_id}"}),),
        ("contracts", "deal", "wage"),
    ),
    Intent(
        "contract_details",
        "look up contract {contract_id}",
        (
            "What does contract {contract_id} say?",
            "When does contract {contract_id} run out?",
            "What's the weekly wage on contract {contract_id}?",
            "What are the terms of contract {contract_id}?",
            "Can you check deal #{contract_id} for me?",
            "Show me contract number {contract_id}.",
            "Tell me about contract {contract_id}.",
            "How much does contract {contract_id} pay?",
            "Is contract {contract_id} still running?",
        ),
        {"contract_id": "int"},
        (S("get_contract_by_id", {"id": "{contract_id}"}),),
        ("terms", "contract", "details"),
    ),
    Intent(
        "update_market_value",
        "set the market value of player {player_id} to {new_value}",
        (
            "Player {player_id} is now worth {new_value}, please update it.",
            "Change the valuation of player {player_id} to {new_value}.",
            "Mark player {player_id} at a market value of {new_value}.",
            "Please set the market value of player {player_id} to {new_value}.",
            "Player #{player_id} is now worth {new_value}, update it.",
            "Revalue player number {player_id} at {new_value}, please.",
            "The valuation of player {player_id} should read {new_value} now.",
            "Our scouts put player {player_id} at {new_value}; please record that.",
            "Update the market value of player {player_id} to {new_value}.",
            "Put player {player_id} down at {new_value} in market value.",
            "Player {player_id} should be valued at {new_value} from today.",
            "We now value player {player_id} at {new_value}; change it, please.",
        ),
        {"player_id": "int", "new_value": "float"},
        (
            S("get_player_by_id", {"id": "{player_id}"}),
            S("update_player_market_value", {"id": "{player_id}", "market_value": "{new_value}"}),
        ),
        ("revalue", "market", "value"),
        verify="player_profile",
    ),
    Intent(
        "transfer_player",
        "transfer player {player_id} to club {club_id}",
        (
            "Player {player_id} has signed for club {club_id}, please record it.",
            "Register player {player_id} at club {club_id} from now on.",
            "Please transfer player {player_id} to club {club_id}.",
            "Player #{player_id} has signed for club #{club_id}, record the move.",
            "Move player number {player_id} over to club number {club_id}.",
            "We've agreed a deal: player {player_id} joins club {club_id}.",
            "Player {player_id} now belongs to club {club_id}; update the records.",
            "Player {player_id} is moving to club {club_id}; please update it.",
            "Put player {player_id} on the books of club {club_id}.",
            "Sign player {player_id} over to club {club_id}.",
            "Record that player {player_id} now plays for club {club_id}.",
            "Player {player_id} joins club {club_id}; please update the file.",
            "Transfer player {player_id} over to club {club_id}, please.",
        ),
        {"player_id": "int", "club_id": "int"},
        (
            S("get_player_by_id", {"id": "{player_id}"}),
            S("update_player_club_id", {"id": "{player_id}", "club_id": "{club_id}"}),
        ),
        ("transfer", "signed", "move"),
        verify="player_profile",
    ),
    Intent(
        "terminate_contract",
        "terminate contract {contract_id}",
        (
            "End contract {contract_id}, please.",
            "Contract {contract_id} is over, terminate it.",
            "We're cancelling contract {contract_id}.",
            "Please terminate contract {contract_id}.",
            "The club is ending deal #{contract_id}, mark it terminated.",
            "Terminate contract number {contract_id}, please.",
            "Contract {contract_id} has to be ended; please terminate it.",
            "We've let contract {contract_id} go, so terminate it.",
            "Close out contract {contract_id}; it's terminated.",
            "Terminate deal {contract_id}, please; it's over.",
            "Contract {contract_id} ends now; please record it as terminated.",
            "Please end contract {contract_id} today.",
        ),
        {"contract_id": "int"},
        (
            S("get_contract_by_id", {"id": "{contract_id}"}),
            S("update_contract_status", {"id": "{contract_id}", "status": "terminated"}),
        ),
        ("terminate", "ending", "release"),
        verify="contract_details",
    ),
    Intent(
        "record_appearance",
        "log {goals} goals for player {player_id} against {opponent} on {match_date}",
        (
            "Record an appearance: player {player_id} scored {goals} against {opponent} on {match_date}.",
            "Log {goals} goals for player {player_id} against {opponent} on {match_date}.",
            "Player #{player_id} scored {goals} against {opponent} on {match_date}, add the match.",
            "Add an appearance on {match_date} versus {opponent} for player number {player_id} with {goals} goals.",
            "On {match_date} player {player_id} played {opponent} and scored {goals}; please log it.",
            "Please add the {opponent} game on {match_date} for player {player_id}: {goals} goals.",
            "Enter a match for player {player_id}: {opponent}, {match_date}, {goals} goals scored.",
            "Player {player_id} got {goals} goals against {opponent} on {match_date}; record it.",
            "Add the {match_date} match against {opponent} for player {player_id}, with {goals} goals.",
        ),
        {"goals": "int", "player_id": "int", "opponent": "name", "match_date": "date"},
        (
            S("get_player_by_id", {"id": "{player_id}"}),
            S(
                "create_appearance",
                {
                    "player_id": "{player_id}",
                    "match_date": "{match_date}",
                    "opponent": "{opponent}",
                    "goals": "{goals}",
                },
            ),
        ),
        ("log", "appearance", "scored"),
        verify="player_stats",
    ),
    Intent(
        "squad_value_by_name",
        "find out what the squad of {club_name} is worth",
        (
            "What are {club_name} worth in total?",
            "Add up the market value of the {club_name} squad.",
            "What is the squad of {club_name} worth altogether?",
            "How much is the {club_name} roster valued at?",
            "Look up {club_name} and give me the total market value of its players.",
            "Roughly what is the {club_name} squad worth?",
            "Put a figure on the {club_name} squad for me, in market value.",
            "How much would the {club_name} squad fetch on the market?",
            "How much is the {club_name} squad worth right now?",
            "Give me the combined value of the {club_name} players.",
            "Tell me the total market value of {club_name}.",
            "What would the whole {club_name} squad cost?",
            "How much are {club_name} worth as a squad?",
        ),
        {"club_name": "name"},
        (
            S("get_club_by_name", {"name": "{club_name}"}),
            S("get_club_players_summary", {"club_id": "$prev.id"}),
        ),
        ("market value",),
    ),
    Intent(
        "position_by_club_name",
        "list the {position} players of {club_name}",
        (
            "List the {position} players at {club_name}.",
            "Which {position} players are on the books at {club_name}?",
            "Which {position} players do {club_name} have?",
            "Who plays {position} for {club_name}?",
            "Find {club_name} and list its players in the {position} position.",
            "Which {position} players have {club_name} got?",
            "Go through the {position} players at {club_name}.",
            "Who do {club_name} have as {position} options?",
        ),
        {"club_name": "name", "position": "word"},
        (
            S("get_club_by_name", {"name": "{club_name}"}),
            S("search_players", {"club_id": "$prev.id", "position": "{position}"}),
        ),
        ("players in",),
    ),
    Intent(
        "player_club",
        "find out which club player {player_id} plays for",
        (
            "What club is player {player_id} at?",
            "Where does player {player_id} play his football?",
            "Which club does player {player_id} play for?",
            "Who does player #{player_id} play for, and where is the club based?",
            "Look up player {player_id} and tell me about their club.",
            "Which team is player {player_id} with?",
            "Tell me the club of player {player_id}.",
            "Where is player {player_id} playing these days?",
        ),
        {"player_id": "int"},
        (S("get_player_by_id", {"id": "{player_id}"}), S("get_club_by_id", {"id": "$prev.club_id"})),
        ("play for", "their club"),
    ),
)


TEMPLATES = (
    TaskTemplate(
        "club_lookup",
        Difficulty.EASY,
        "You want to know where {club_name} play and what their squad is worth.",
        "SELECT name AS club_name FROM clubs",
        ("club_by_name", "squad_value_by_name"),
    ),
    TaskTemplate(
        "player_lookup",
        Difficulty.EASY,
        "You want to know which club player {player_id} plays for and their season statistics.",
        "SELECT id AS player_id FROM players WHERE club_id IS NOT NULL",
        ("player_club", "player_stats"),
    ),
    TaskTemplate(
        "club_card",
        Difficulty.EASY,
        "You want the details of club {club_id} and a look at its squad.",
        "SELECT id AS club_id FROM clubs",
        ("club_info", "club_squad"),
    ),
    TaskTemplate(
        "contract_review",
        Difficulty.MEDIUM,
        "You want to review player {player_id}'s contracts and the terms of contract "
        "{contract_id}, then see the player's profile.",
        "SELECT player_id, id AS contract_id FROM contracts",
        ("player_contracts", "contract_details", "player_profile"),
    ),
    TaskTemplate(
        "scouting",
        Difficulty.MEDIUM,
        "You are scouting {club_name}: see its {position}s and what the squad is worth.",
        "SELECT DISTINCT c.name AS club_name, p.position AS position FROM players p JOIN clubs c ON c.id = p.club_id",
        ("position_by_club_name", "squad_value_by_name"),
    ),
    TaskTemplate(
        "revalue",
        Difficulty.MEDIUM,
        "You want to check player {player_id}'s statistics and set their market value to {new_value}.",
        "SELECT id AS player_id FROM players",
        ("player_stats", "update_market_value"),
        {"new_value": (1500000.0, 4200000.0, 8000000.0, 12500000.0)},
    ),
    TaskTemplate(
        "match_report",
        Difficulty.MEDIUM,
        "Player {player_id} scored {goals} against {opponent} on {match_date}: log it and check their stats.",
        "SELECT p.id AS player_id, c.name AS opponent FROM players p "
        "JOIN clubs c ON c.id != p.club_id WHERE p.position = 'forward'",
        ("record_appearance", "player_stats"),
        {"goals": (1, 2, 3), "match_date": ("2025-11-02", "2025-11-09", "2025-11-23")},
    ),
    TaskTemplate(
        "transfer_window",
        Difficulty.HARD,
        "Player {player_id} is moving from {club_name} to club {club_id}: check the squad of "
        "{club_name}, the player's contracts, terminate contract {contract_id}, record the "
        "transfer and confirm the new club's squad.",
        "SELECT p.id AS player_id, c.name AS club_name, k.id AS contract_id, "
        "(p.club_id % 6) + 1 AS club_id FROM players p JOIN clubs c ON c.id = p.club_id "
        "JOIN contracts k ON k.player_id = p.id WHERE k.status = 'active'",
        ("squad_by_club_name", "player_contracts", "terminate_contract", "transfer_player", "club_squad"),
    ),
    TaskTemplate(
        "season_review",
        Difficulty.HARD,
        "You manage {club_name} (club {club_id}): review the squad and its value, check player "
        "{player_id}'s stats, and revalue them at {new_value}.",
        "SELECT c.name AS club_name, c.id AS club_id, p.id AS player_id FROM clubs c "
        "JOIN players p ON p.club_id = c.id",
        ("squad_by_club_name", "squad_value", "player_stats", "update_market_value"),
        {"new_value": (2000000.0, 6500000.0, 9900000.0, 15000000.0)},
    ),
)


PACK = DomainPack(
    name="football",
    title="Football league",
    description="A football league office: clubs, players, contracts and match appearances.",
    schema_sql=SCHEMA_SQL,
    populate=populate,
    intents=INTENTS + chains.FOOTBALL_INTENTS,
    templates=TEMPLATES + chains.FOOTBALL_TASKS,
)
