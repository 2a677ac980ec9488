"""Schema names become the nouns a person would say: split, singular and plural, without prefixes or keys."""

from __future__ import annotations

import pytest

from turnloom.core.players.offline.nouns import (
    Noun,
    field_phrase,
    noun,
    noun_of,
    plural,
    pluralise,
    split_words,
    vocabulary_of,
)


@pytest.mark.parametrize(
    ("name", "one", "many"),
    [
        ("InvoiceLine", "invoice line", "invoice lines"),
        ("invoiceline", "invoice line", "invoice lines"),
        ("invoicelines", "invoice line", "invoice lines"),
        ("PlaylistTrack", "playlist track", "playlist tracks"),
        ("mediatype", "media type", "media types"),
        ("order_items", "order item", "order items"),
        ("flight_bookings", "flight booking", "flight bookings"),
        ("employeeTerritories", "employee territory", "employee territories"),
        ("Student_Course_Registrations", "student course registration", "student course registrations"),
        ("HTTPLogs", "http log", "http logs"),
    ],
)
def test_camel_snake_and_run_together_names_split_into_words(name, one, many):
    assert noun_of(name) == Noun(one, many)


@pytest.mark.parametrize(
    ("name", "one"),
    [
        ("tbl_customers", "customer"),
        ("tblOrders", "order"),
        ("tblorders", "order"),
        ("t_user", "user"),
        ("customer_id", "customer"),
        ("CustomerId", "customer"),
        ("customerid", "customer"),
        ("head_of_state", "head of state"),
    ],
)
def test_table_prefixes_and_key_suffixes_are_dropped(name, one):
    assert noun(name) == one


@pytest.mark.parametrize(
    ("table", "one", "many"),
    [
        ("people", "person", "people"),
        ("categories", "category", "categories"),
        ("addresses", "address", "addresses"),
        ("statuses", "status", "statuses"),
        ("status", "status", "statuses"),
        ("staff", "staff", "staff"),
        ("data", "data", "data"),
        ("churches", "church", "churches"),
        ("boxes", "box", "boxes"),
    ],
)
def test_plural_tables_give_singular_and_plural(table, one, many):
    assert (noun(table), plural(table)) == (one, many)


def test_a_name_no_known_words_spell_stays_whole_rather_than_split_into_fragments():
    assert split_words("cust") == ["cust"]
    assert split_words("zorblax") == ["zorblax"]
    assert noun("opsrepid") == "opsrepid"


def test_the_databases_own_words_teach_segmentation():
    vocabulary = vocabulary_of(["OpsRepId", "unit_price", "Invoice"])
    assert {"ops", "rep", "unit", "price"} <= vocabulary
    assert "invoice" not in vocabulary  # a name without boundaries teaches nothing
    assert noun("opsrepid", vocabulary) == "ops rep"


def test_segmentation_prefers_long_words_to_fragments():
    assert split_words("invoiceline") == ["invoice", "line"]
    assert split_words("playlisttrack") == ["playlist", "track"]


def test_pluralise_leaves_plurals_and_uncountables_alone():
    assert pluralise("orders") == "orders"
    assert pluralise("equipment") == "equipment"
    assert pluralise("company") == "companies"
    assert pluralise("day") == "days"


def test_a_compound_the_vocabulary_already_spells_is_not_taught_as_one_word():
    vocabulary = vocabulary_of(["invoiceline_count"])
    assert "invoiceline" not in vocabulary
    assert noun("invoiceline", vocabulary) == "invoice line"


@pytest.mark.parametrize(
    ("label", "phrase"),
    [
        ("opened on", "opening date"),
        ("created at", "creation time"),
        ("due on", "due date"),
        ("booked on", "booking date"),
        ("visit date", "visit date"),
        ("email address", "email address"),
    ],
)
def test_a_date_column_named_for_its_event_reads_as_a_noun(label, phrase):
    assert field_phrase(label) == phrase
