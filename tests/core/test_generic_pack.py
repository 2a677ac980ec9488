"""The pack derived from any database speaks of its records as a person would, never by raw schema names."""

from __future__ import annotations

import re
import sqlite3

import pytest

from turnloom.core.lifecycle.dialogue import create_session, open_engine
from turnloom.core.models import FinishReason, Role, ToolExecution
from turnloom.core.players.offline.generic import derive_pack
from turnloom.core.quality.grounding import ungrounded_values

AWKWARD_SCHEMA = """
CREATE TABLE tbl_Customers (CustomerId INTEGER PRIMARY KEY, FullName TEXT NOT NULL, EmailAddress TEXT UNIQUE,
    AccountStatus TEXT NOT NULL DEFAULT 'active' CHECK (AccountStatus IN ('active', 'suspended', 'closed')));
CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY, CustomerId INTEGER NOT NULL REFERENCES tbl_Customers(CustomerId),
    InvoiceDate DATE, BillingCity TEXT, Total REAL NOT NULL DEFAULT 0);
CREATE TABLE invoiceline (invoicelineid INTEGER PRIMARY KEY, invoiceid INTEGER NOT NULL REFERENCES Invoice(InvoiceId),
    trackname TEXT NOT NULL, unitprice REAL NOT NULL, quantity INTEGER NOT NULL);
CREATE TABLE shipping_addresses (address_id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES tbl_Customers(CustomerId), street_line TEXT, postal_code TEXT,
    is_default BOOLEAN NOT NULL DEFAULT 0);
INSERT INTO tbl_Customers VALUES (1, 'Ana Lopez', 'ana@example.com', 'active'),
    (2, 'Ben Okafor', 'ben@example.com', 'suspended'), (3, 'Chen Wei', 'chen@example.com', 'active');
INSERT INTO Invoice VALUES (10, 1, '2025-01-04', 'Lisbon', 3.96), (11, 1, '2025-02-11', 'Porto', 1.98),
    (12, 2, '2025-03-01', 'Graz', 0.99);
INSERT INTO invoiceline VALUES (100, 10, 'Blue Train', 0.99, 2), (101, 10, 'So What', 0.99, 2),
    (102, 11, 'Giant Steps', 0.99, 2), (103, 12, 'Naima', 0.99, 1);
INSERT INTO shipping_addresses VALUES (1, 1, '12 Oak Street', '1000-001', 1), (2, 2, '4 Mill Lane', '8010', 1);
"""
# what a person never says: prefixes, separators, camelCase, and names run together
RAW_NAME = re.compile(r"tbl|_|\b[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]|invoiceline|emailaddress|accountstatus|customerid")


@pytest.fixture
def awkward_db(tmp_path):
    path = tmp_path / "awkward_shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(AWKWARD_SCHEMA)
    conn.commit()
    conn.close()
    return path


def _spoken(text: str) -> str:
    """The words of a phrasing, its {slots} aside."""
    return re.sub(r"\{\w+\}", "", text)


def test_phrasings_descriptions_and_goals_use_human_nouns(awkward_db):
    pack = derive_pack(create_session(db_path=awkward_db))
    texts = [p for i in pack.intents for p in (*i.phrasings, i.description)] + [t.goal for t in pack.templates]
    assert texts
    assert [t for t in texts if RAW_NAME.search(_spoken(t))] == []


def test_nouns_are_split_singular_and_plural_as_a_person_says_them(awkward_db):
    pack = derive_pack(create_session(db_path=awkward_db))
    phrasings = {i.name: i.phrasings for i in pack.intents}
    assert "Which invoice lines does invoice {invoice_id} have?" in phrasings["list_invoice_invoiceline"]
    assert "Can you look up customer {customer_id}?" in phrasings["lookup_tbl_customer"]
    assert "Can you look up invoice line {invoice_line_id}?" in phrasings["lookup_invoiceline"]
    assert any("shipping addresses" in p for p in phrasings["list_tbl_customer_shipping_addresses"])
    assert any("email address" in p for p in phrasings["find_tbl_customer_by_emailaddress"])
    assert any("account status" in p for p in phrasings["change_tbl_customer_accountstatus"])


@pytest.mark.parametrize("execution", [ToolExecution.SQL, ToolExecution.SIMULATED])
async def test_dialogues_on_an_awkwardly_named_database_finish_grounded_and_speak_plainly(awkward_db, execution):
    for seed in range(4):
        session = create_session(db_path=awkward_db, seed=seed, execution=execution)
        engine = open_engine(session)
        assert await engine.run() is FinishReason.USER_DONE
        assert ungrounded_values(session.messages, tool_results_only=True) == []
        user_turns = [m.content or "" for m in session.messages if m.role is Role.USER]
        assert [t for t in user_turns if RAW_NAME.search(t)] == []
