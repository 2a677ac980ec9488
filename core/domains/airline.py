"""The airline pack: passengers, flights, bookings and checked bags.

A regional carrier. Users look up bookings and flights, change seats, upgrade
cabins, cancel bookings, update contact details and add checked bags.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from turnloom.core.domains.base import DomainPack, Intent, TaskTemplate, ToolStep
from turnloom.core.models import Difficulty

SCHEMA_SQL = """
CREATE TABLE passengers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    home_city TEXT NOT NULL,
    loyalty_tier TEXT NOT NULL DEFAULT 'none'
        CHECK (loyalty_tier IN ('none', 'silver', 'gold', 'platinum')),
    birth_date DATE
);
CREATE TABLE flights (
    id INTEGER PRIMARY KEY,
    flight_number TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    destination TEXT NOT NULL,
    departure_date DATE NOT NULL,
    departure_time TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'delayed', 'departed', 'cancelled')),
    base_fare REAL NOT NULL
);
CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    passenger_id INTEGER NOT NULL REFERENCES passengers(id),
    flight_id INTEGER NOT NULL REFERENCES flights(id),
    seat TEXT,
    cabin TEXT NOT NULL DEFAULT 'economy' CHECK (cabin IN ('economy', 'premium', 'business')),
    status TEXT NOT NULL DEFAULT 'confirmed'
        CHECK (status IN ('confirmed', 'checked_in', 'cancelled')),
    price REAL NOT NULL,
    booked_on DATE NOT NULL
);
CREATE TABLE bags (
    id INTEGER PRIMARY KEY,
    booking_id INTEGER NOT NULL REFERENCES bookings(id),
    tag_number TEXT NOT NULL UNIQUE,
    weight_kg REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'checked'
        CHECK (status IN ('checked', 'loaded', 'delivered', 'lost'))
);
"""

_FIRST = (
    "Amelia",
    "Ben",
    "Chloe",
    "Daniel",
    "Eva",
    "Filip",
    "Gemma",
    "Henrik",
    "Isla",
    "Jakub",
    "Katja",
    "Leo",
    "Mira",
    "Nils",
    "Olga",
    "Pedro",
    "Rosa",
    "Stefan",
    "Tara",
    "Viktor",
)
_LAST = (
    "Andersen",
    "Brennan",
    "Carvalho",
    "Dvorak",
    "Eriksen",
    "Ferreira",
    "Gallo",
    "Horvat",
    "Ivanova",
    "Janssen",
    "Klein",
    "Lindqvist",
    "Mendes",
    "Nowak",
)
_CITIES = ("Lisbon", "Madrid", "Paris", "Amsterdam", "Berlin", "Rome", "Vienna", "Dublin", "Copenhagen", "Athens")
_TIMES = ("06:40", "08:15", "10:30", "12:05", "14:50", "17:20", "19:45", "21:10")
_SEAT_LETTERS = "ABCDEF"


def _day(rng: random.Random, start: int, end: int) -> str:
    return (date(2025, 1, 1) + timedelta(days=rng.randint(start, end))).isoformat()


def populate(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Insert 18 passengers, 16 flights, 40 bookings and their bags."""
    people = rng.sample([(f, s) for f in _FIRST for s in _LAST], 18)
    for i, (first, last) in enumerate(people, start=1):
        conn.execute(
            "INSERT INTO passengers (id, name, email, home_city, loyalty_tier, birth_date) VALUES (?,?,?,?,?,?)",
            (
                i,
                f"{first} {last}",
                f"{first.lower()}.{last.lower()}@example.com",
                rng.choice(_CITIES),
                rng.choice(("none", "none", "silver", "gold", "platinum")),
                (date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000))).isoformat(),
            ),
        )
    for i in range(1, 17):
        origin, destination = rng.sample(_CITIES, 2)
        status = ("scheduled", "scheduled", "scheduled", "delayed", "departed", "cancelled")[i % 6]
        conn.execute(
            "INSERT INTO flights (id, flight_number, origin, destination, departure_date,"
            " departure_time, status, base_fare) VALUES (?,?,?,?,?,?,?,?)",
            (
                i,
                f"TL{100 + i * 13}",
                origin,
                destination,
                _day(rng, 150, 340),
                rng.choice(_TIMES),
                status,
                round(rng.uniform(49, 260), 2),
            ),
        )
    bag_id = 0
    for i in range(1, 41):
        flight_id = rng.randint(1, 16)
        fare, flight_status = conn.execute(
            "SELECT base_fare, status FROM flights WHERE id = ?", (flight_id,)
        ).fetchone()
        cabin = rng.choice(("economy", "economy", "economy", "premium", "business"))
        factor = {"economy": 1.0, "premium": 1.6, "business": 2.8}[cabin]
        status = ("confirmed", "confirmed", "checked_in", "cancelled")[i % 4]
        conn.execute(
            "INSERT INTO bookings (id, passenger_id, flight_id, seat, cabin, status, price,"
            " booked_on) VALUES (?,?,?,?,?,?,?,?)",
            (
                i,
                rng.randint(1, 18),
                flight_id,
                f"{rng.randint(1, 32)}{rng.choice(_SEAT_LETTERS)}",
                cabin,
                status,
                round(fare * factor, 2),
                _day(rng, 0, 140),
            ),
        )
        for _ in range(rng.randint(0, 2)):
            bag_id += 1
            weight = round(rng.uniform(8, 23), 1)
            drawn = rng.choice(("checked", "loaded", "delivered"))
            conn.execute(
                "INSERT INTO bags (id, booking_id, tag_number, weight_kg, status) VALUES (?,?,?,?,?)",
                (bag_id, i, f"BAG-{7000 + bag_id * 3}", weight, _bag_status(drawn, status, flight_status)),
            )


def _bag_status(drawn: str, booking_status: str, flight_status: str) -> str:
    """A bag's status that fits its booking and flight (the rows and draws stay those of earlier data, so
    saved sessions replay): a cancelled booking's bags went back to their owner (delivered), never on
    board; once the flight left they are loaded or delivered; before, they are checked in, no further."""
    if booking_status == "cancelled":
        return "delivered"
    if flight_status == "departed":
        return "loaded" if drawn == "checked" else drawn
    return "checked"


S = ToolStep

INTENTS = (
    Intent(
        "booking_details",
        "look up booking {booking_id}",
        (
            "I'd like to see my reservation {booking_id}.",
            "What's on booking reference {booking_id}?",
            "Bring up the reservation with number {booking_id}.",
            "Can you pull up booking {booking_id}?",
            "What are the details of my booking #{booking_id}?",
            "Please check reservation number {booking_id} for me.",
        ),
        {"booking_id": "int"},
        (S("get_booking_by_id", {"id": "{booking_id}"}),),
        ("booking", "reservation", "details"),
    ),
    Intent(
        "passenger_profile",
        "look up the profile of passenger {passenger_id}",
        (
            "What details do you hold for passenger {passenger_id}?",
            "Pull up the traveller record of passenger {passenger_id}.",
            "Show me the profile of passenger {passenger_id}.",
            "What do you have on file for passenger #{passenger_id}?",
            "Can you look up passenger number {passenger_id}?",
        ),
        {"passenger_id": "int"},
        (S("get_passenger_by_id", {"id": "{passenger_id}"}),),
        ("profile", "passenger", "file"),
    ),
    Intent(
        "flight_status",
        "check the status of flight {flight_number}",
        (
            "Is flight {flight_number} on time?",
            "Any news on flight {flight_number}? Is it running as planned?",
            "Has flight {flight_number} left yet?",
            "Is {flight_number} delayed today?",
            "What's the status of flight {flight_number}?",
            "Is flight {flight_number} on time?",
            "When does flight {flight_number} leave?",
            "Is everything still on track with {flight_number}?",
            "Should I expect any delay on {flight_number}?",
        ),
        {"flight_number": "word"},
        (S("get_flight_by_flight_number", {"flight_number": "{flight_number}"}),),
        ("flight", "time", "leave"),
    ),
    Intent(
        "flights_to_city",
        "find flights to {destination}",
        (
            "What can I fly to {destination} on?",
            "Are there any flights to {destination}?",
            "I'm trying to get to {destination}. What flights do you have?",
            "List the departures to {destination}.",
            "Which flights go to {destination}?",
            "Do you have any flights to {destination}?",
            "I'm looking for a flight into {destination}.",
        ),
        {"destination": "name"},
        (S("search_flights", {"destination": "{destination}"}),),
        ("destination", "flights", "going"),
    ),
    Intent(
        "passenger_bookings",
        "list the bookings of passenger {passenger_id}",
        (
            "What trips has passenger {passenger_id} booked?",
            "List the reservations of passenger {passenger_id}.",
            "Which bookings does passenger {passenger_id} have?",
            "List every trip booked by passenger #{passenger_id}.",
            "Show me all reservations for passenger number {passenger_id}.",
        ),
        {"passenger_id": "int"},
        (S("get_passenger_bookings", {"passenger_id": "{passenger_id}"}),),
        ("bookings", "trips", "reservations"),
    ),
    Intent(
        "passenger_spend",
        "find out how much passenger {passenger_id} has spent on bookings",
        (
            "What has passenger {passenger_id} paid for tickets altogether?",
            "Sum up the ticket spend of passenger {passenger_id}.",
            "How much has passenger {passenger_id} spent on tickets?",
            "Give me a booking summary for passenger #{passenger_id}.",
            "What's the total ticket spend of passenger number {passenger_id}?",
        ),
        {"passenger_id": "int"},
        (S("get_passenger_bookings_summary", {"passenger_id": "{passenger_id}"}),),
        ("spent", "spend", "summary"),
    ),
    Intent(
        "flight_load",
        "see how many bookings flight {flight_number} has",
        (
            "How many people are booked on flight {flight_number}?",
            "Is flight {flight_number} fully booked?",
            "How many seats are sold on {flight_number}?",
            "How full is flight {flight_number}?",
            "Are there still seats left on {flight_number}?",
            "Give me the passenger count for flight {flight_number}.",
            "How many passengers have booked {flight_number} so far?",
            "Will {flight_number} be a crowded flight?",
            "How much of {flight_number} is sold out?",
        ),
        {"flight_number": "word"},
        (
            S("get_flight_by_flight_number", {"flight_number": "{flight_number}"}),
            S("get_flight_bookings_summary", {"flight_id": "$prev.id"}),
        ),
        ("full", "count", "load"),
    ),
    Intent(
        "booking_bags",
        "list the checked bags on booking {booking_id}",
        (
            "What luggage is registered on reservation {booking_id}?",
            "Did my bags for booking {booking_id} get checked in?",
            "List the bags on reservation number {booking_id}.",
            "Which bags are checked on booking {booking_id}?",
            "Where is my luggage for reservation #{booking_id}?",
            "List the bags attached to booking number {booking_id}.",
        ),
        {"booking_id": "int"},
        (S("get_booking_bags", {"booking_id": "{booking_id}"}),),
        ("bags", "luggage", "baggage"),
    ),
    Intent(
        "change_seat",
        "move booking {booking_id} to seat {seat}",
        (
            "Could I sit in {seat} instead on booking {booking_id}?",
            "Put me in seat {seat} on reservation {booking_id}.",
            "I'd rather have {seat} on booking {booking_id}, is that possible?",
            "Please move booking {booking_id} to seat {seat}.",
            "Can I switch to seat {seat} on reservation #{booking_id}?",
            "I'd like seat {seat} instead for booking number {booking_id}.",
            "Is {seat} free? I'd like it on booking {booking_id}.",
            "Change my seat on reservation {booking_id} to {seat}, please.",
        ),
        {"booking_id": "int", "seat": "word"},
        (
            S("get_booking_by_id", {"id": "{booking_id}"}),
            S("update_booking_seat", {"id": "{booking_id}", "seat": "{seat}"}),
        ),
        ("seat", "switch", "move"),
        verify="booking_details",
    ),
    Intent(
        "upgrade_cabin",
        "upgrade booking {booking_id} to {cabin} class",
        (
            "I'd like to fly {cabin} on booking {booking_id}.",
            "Move reservation {booking_id} up to {cabin}, please.",
            "Can you bump booking {booking_id} to {cabin} class?",
            "Please upgrade booking {booking_id} to {cabin} class.",
            "Can reservation #{booking_id} be moved up to the {cabin} cabin?",
            "I want to fly {cabin} on booking number {booking_id}.",
        ),
        {"booking_id": "int", "cabin": "word"},
        (
            S("get_booking_by_id", {"id": "{booking_id}"}),
            S("update_booking_cabin", {"id": "{booking_id}", "cabin": "{cabin}"}),
        ),
        ("upgrade", "cabin", "class"),
        verify="booking_details",
    ),
    Intent(
        "cancel_booking",
        "cancel booking {booking_id}",
        (
            "I won't be travelling on booking {booking_id}, please cancel it.",
            "Drop reservation {booking_id}, I'm not flying.",
            "Cancel reservation number {booking_id} for me.",
            "Please cancel booking {booking_id}.",
            "I can't travel anymore, cancel reservation #{booking_id}.",
            "Cancel my booking number {booking_id}, please.",
        ),
        {"booking_id": "int"},
        (
            S("get_booking_by_id", {"id": "{booking_id}"}),
            S("update_booking_status", {"id": "{booking_id}", "status": "cancelled"}),
        ),
        ("cancel", "travel", "refund"),
        verify="booking_details",
    ),
    Intent(
        "update_passenger_email",
        "change the email of passenger {passenger_id} to {new_email}",
        (
            "Passenger {passenger_id} has a new email: {new_email}.",
            "Swap the email on passenger {passenger_id} for {new_email}.",
            "Update passenger {passenger_id} so the email reads {new_email}.",
            "Please change the email of passenger {passenger_id} to {new_email}.",
            "Update the contact address for passenger #{passenger_id} to {new_email}.",
            "Passenger number {passenger_id} has a new email: {new_email}.",
        ),
        {"passenger_id": "int", "new_email": "email"},
        (
            S("get_passenger_by_id", {"id": "{passenger_id}"}),
            S("update_passenger_email", {"id": "{passenger_id}", "email": "{new_email}"}),
        ),
        ("email", "contact", "address"),
        verify="passenger_profile",
    ),
    Intent(
        "add_bag",
        "add a {weight_kg} kg bag tagged {tag_number} to booking {booking_id}",
        (
            "I need one more bag on booking {booking_id}: {weight_kg} kg, tag {tag_number}.",
            "Attach bag {tag_number} ({weight_kg} kg) to reservation {booking_id}.",
            "Please add a {weight_kg} kg bag with tag {tag_number} to booking {booking_id}.",
            "I'm checking a bag of {weight_kg} kg on reservation #{booking_id}, tag {tag_number}.",
            "Register bag {tag_number} weighing {weight_kg} kg for booking number {booking_id}.",
        ),
        {"booking_id": "int", "weight_kg": "float", "tag_number": "word"},
        (
            S("get_booking_by_id", {"id": "{booking_id}"}),
            S("create_bag", {"booking_id": "{booking_id}", "tag_number": "{tag_number}", "weight_kg": "{weight_kg}"}),
        ),
        ("bag", "checking", "tag"),
        verify="booking_bags",
    ),
    Intent(
        "profile_by_email",
        "pull up the passenger profile registered to {email}",
        (
            "Look up the traveller with the email {email}.",
            "Can you find my profile? I'm registered as {email}.",
            "Can you pull up my passenger profile? The email on it is {email}.",
            "Which passenger is registered under {email}?",
            "Find the traveller profile with the email address {email}.",
            "What do you have on file for {email}?",
        ),
        {"email": "email"},
        (S("get_passenger_by_email", {"email": "{email}"}),),
        ("on file", "registered"),
    ),
    Intent(
        "bookings_by_email",
        "list the bookings of the passenger with email {email}",
        (
            "List my reservations, please. The account is {email}.",
            "What have I got booked? My email address is {email}.",
            "Can you show me the flights I've booked under {email}?",
            "Which bookings do I have? My email is {email}.",
            "Show me every booking made under {email}.",
            "I need the list of reservations for {email}.",
            "What trips are booked for the passenger {email}?",
        ),
        {"email": "email"},
        (
            S("get_passenger_by_email", {"email": "{email}"}),
            S("get_passenger_bookings", {"passenger_id": "$prev.id"}),
        ),
        ("trips booked",),
    ),
    Intent(
        "spend_by_email",
        "find out how much the passenger with email {email} has spent on tickets",
        (
            "What have my flights cost me in total? The account is {email}.",
            "Add up what I've paid for tickets under {email}.",
            "How much have I spent on tickets so far? I'm {email}.",
            "What's the total ticket spend for the passenger {email}?",
            "Give me a spending summary for the traveller with email {email}.",
        ),
        {"email": "email"},
        (
            S("get_passenger_by_email", {"email": "{email}"}),
            S("get_passenger_bookings_summary", {"passenger_id": "$prev.id"}),
        ),
        ("ticket spend",),
    ),
    Intent(
        "first_booking_bags",
        "see which bags are checked on the first booking of the passenger with email {email}",
        (
            "Did my bags get checked on my first booking? I'm registered as {email}.",
            "Which bags are on my first booking? My email is {email}.",
            "Find the first reservation under {email} and tell me what luggage is checked on it.",
            "I'm {email}: what bags did I check for the first trip on my account?",
            "What luggage went on my first booking? The account is {email}.",
            "Can you check the bags on the first trip I booked? My email is {email}.",
        ),
        {"email": "email"},
        (
            S("get_passenger_by_email", {"email": "{email}"}),
            S("get_passenger_bookings", {"passenger_id": "$prev.id"}),
            S("get_booking_bags", {"booking_id": "$prev.id"}),
        ),
        ("first booking", "first trip", "first reservation"),
    ),
    Intent(
        "cancel_my_booking",
        "cancel a confirmed booking of the passenger with email {email}",
        (
            "Please cancel one of my bookings, I can't travel. The account is {email}.",
            "Something came up, I need to cancel a flight I booked under {email}.",
            "I have to cancel one of my trips. My email is {email}.",
            "Please cancel my confirmed booking; it's under {email}.",
            "My plans fell through, can you cancel my reservation? I'm {email}.",
            "Find my confirmed flight booking ({email}) and cancel it, please.",
        ),
        {"email": "email"},
        (
            S("get_passenger_by_email", {"email": "{email}"}),
            S("search_bookings", {"passenger_id": "$prev.id", "status": "confirmed"}),
            S("update_booking_status", {"id": "$prev.id", "status": "cancelled"}),
        ),
        ("fell through", "one of my trips"),
        verify="bookings_by_email",
    ),
    Intent(
        "booking_flight",
        "find out when the flight on booking {booking_id} leaves",
        (
            "What time is my flight on booking {booking_id}?",
            "Remind me when I fly on reservation {booking_id}.",
            "When does the flight on booking {booking_id} leave?",
            "What flight am I on with reservation {booking_id}, and when does it depart?",
            "Look up booking {booking_id} and tell me about its flight.",
            "Which day do I fly on booking number {booking_id}?",
            "I've forgotten my departure time; it's reservation {booking_id}.",
            "When am I leaving on booking {booking_id}?",
        ),
        {"booking_id": "int"},
        (S("get_booking_by_id", {"id": "{booking_id}"}), S("get_flight_by_id", {"id": "$prev.flight_id"})),
        ("when does", "fly on"),
    ),
    Intent(
        "booking_flight_load",
        "find out how full the flight on booking {booking_id} is",
        (
            "Will the flight of booking {booking_id} be crowded?",
            "How booked up is the flight I'm on with reservation {booking_id}?",
            "How full is the flight on my booking {booking_id}?",
            "Is the plane for reservation {booking_id} busy? How many people are booked on it?",
            "Check how many seats are taken on the flight of booking #{booking_id}.",
        ),
        {"booking_id": "int"},
        (
            S("get_booking_by_id", {"id": "{booking_id}"}),
            S("get_flight_by_id", {"id": "$prev.flight_id"}),
            S("get_flight_bookings_summary", {"flight_id": "$prev.id"}),
        ),
        ("plane", "seats are taken"),
    ),
)

_ACTIVE = "SELECT id AS booking_id FROM bookings WHERE status != 'cancelled' AND passenger_id = :user_id"

TEMPLATES = (
    TaskTemplate(
        "flight_check",
        Difficulty.EASY,
        "You want to know whether flight {flight_number} is on time and how full it is.",
        "SELECT flight_number FROM flights",
        ("flight_status", "flight_load"),
    ),
    TaskTemplate(
        "find_flight",
        Difficulty.EASY,
        "You are planning a trip to {destination} and want to see which flights go there.",
        "SELECT DISTINCT destination FROM flights",
        ("flights_to_city",),
    ),
    TaskTemplate(
        "booking_and_bags",
        Difficulty.EASY,
        "You want to know when the flight on booking {booking_id} leaves and which bags are checked on it.",
        "SELECT DISTINCT g.booking_id FROM bags g JOIN bookings b ON b.id = g.booking_id WHERE b.passenger_id = :user_id",
        ("booking_flight", "booking_bags"),
    ),
    TaskTemplate(
        "pick_seat",
        Difficulty.MEDIUM,
        "You want to know when the flight on booking {booking_id} leaves and move to seat {seat}.",
        _ACTIVE,
        ("booking_flight", "change_seat"),
        {"seat": ("2A", "3C", "7F", "12D", "14C", "21B")},
    ),
    TaskTemplate(
        "traveller_review",
        Difficulty.MEDIUM,
        "You ({email}) want to see your bookings, what you have spent on tickets and the bags on your first booking.",
        "SELECT DISTINCT p.email AS email FROM passengers p JOIN bookings b ON b.passenger_id = p.id "
        "WHERE p.id = :user_id",
        ("bookings_by_email", "spend_by_email", "first_booking_bags"),
    ),
    TaskTemplate(
        "new_contact",
        Difficulty.MEDIUM,
        "You ({email}, passenger {passenger_id}) want to see your profile and have your email changed to {new_email}.",
        "SELECT id AS passenger_id, email FROM passengers WHERE id = :user_id",
        ("profile_by_email", "update_passenger_email"),
        {
            "new_email": (
                "{user_first}.{user_last}@mailbox.org",
                "{user_first}{user_last}@inbox.example",
                "{user_first}.{user_last}@fastmail.example",
                "{user_first}.{user_last}.home@example.net",
            )
        },
    ),
    TaskTemplate(
        "upgrade_trip",
        Difficulty.HARD,
        "You hold booking {booking_id} on flight {flight_number}. Check the flight and how full "
        "it is, upgrade to {cabin} class, take seat {seat}, and confirm the booking.",
        "SELECT b.id AS booking_id, f.flight_number AS flight_number FROM bookings b "
        "JOIN flights f ON f.id = b.flight_id "
        "WHERE b.status != 'cancelled' AND b.cabin = 'economy' AND b.passenger_id = :user_id",
        ("flight_status", "flight_load", "upgrade_cabin", "change_seat", "booking_details"),
        {"cabin": ("premium", "business"), "seat": ("1A", "2C", "3D", "4F")},
    ),
    TaskTemplate(
        "cancel_trip",
        Difficulty.HARD,
        "You are passenger {passenger_id}; list your bookings, check how full flight "
        "{flight_number} is, and cancel booking {booking_id} on it.",
        "SELECT b.passenger_id AS passenger_id, b.id AS booking_id, f.flight_number AS "
        "flight_number FROM bookings b JOIN flights f ON f.id = b.flight_id "
        "WHERE b.status = 'confirmed' AND b.passenger_id = :user_id",
        ("passenger_bookings", "flight_load", "cancel_booking"),
    ),
    TaskTemplate(
        "extra_luggage",
        Difficulty.HARD,
        "You hold booking {booking_id} on flight {flight_number}; check the flight status, add "
        "a {weight_kg} kg bag tagged {tag_number}, then confirm the bags on the booking.",
        "SELECT b.id AS booking_id, f.flight_number AS flight_number FROM bookings b "
        "JOIN flights f ON f.id = b.flight_id WHERE b.status != 'cancelled' AND b.passenger_id = :user_id",
        ("flight_load", "booking_details", "add_bag", "booking_bags"),
        {
            "weight_kg": (12.5, 18.0, 20.2, 23.0),
            "tag_number": ("BAG-9101", "BAG-9102", "BAG-9103", "BAG-9104", "BAG-9105"),
        },
    ),
    TaskTemplate(
        "cancel_my_trip",
        Difficulty.MEDIUM,
        "You ({email}) want to see your bookings and cancel one that is confirmed.",
        "SELECT p.email AS email FROM passengers p WHERE p.id = :user_id "
        "AND EXISTS (SELECT 1 FROM bookings b WHERE b.passenger_id = p.id AND b.status = 'confirmed')",
        ("bookings_by_email", "cancel_my_booking"),
    ),
)

PACK = DomainPack(
    name="airline",
    title="Airline reservations",
    description="A regional airline: passengers, flights, bookings and checked bags.",
    schema_sql=SCHEMA_SQL,
    populate=populate,
    intents=INTENTS,
    templates=TEMPLATES,
)
