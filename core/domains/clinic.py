"""The clinic pack: doctors, patients, appointments and prescriptions.

An outpatient clinic. Users look up appointments and patients, find doctors
by specialty, book, reschedule and cancel visits, and update contact details.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from turnloom.core.domains import chains
from turnloom.core.domains.base import DomainPack, Intent, TaskTemplate, ToolStep
from turnloom.core.models import Difficulty

SCHEMA_SQL = """
CREATE TABLE doctors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    specialty TEXT NOT NULL
        CHECK (specialty IN ('general', 'cardiology', 'dermatology', 'pediatrics', 'orthopedics')),
    consultation_fee REAL NOT NULL
);
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT,
    birth_date DATE NOT NULL,
    city TEXT NOT NULL
);
CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    doctor_id INTEGER NOT NULL REFERENCES doctors(id),
    visit_date DATE NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'completed', 'cancelled', 'no_show')),
    reason TEXT,
    fee REAL
);
CREATE TABLE prescriptions (
    id INTEGER PRIMARY KEY,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    medication TEXT NOT NULL,
    dosage TEXT NOT NULL,
    refills INTEGER NOT NULL DEFAULT 0,
    issued_on DATE NOT NULL
);
"""

_DOCTORS = (
    ("Helena Brandt", "general", 60.0),
    ("Marco Bianchi", "general", 55.0),
    ("Sara Lindholm", "cardiology", 120.0),
    ("Tomasz Wrona", "cardiology", 115.0),
    ("Julia Ortega", "dermatology", 90.0),
    ("Pieter Vos", "dermatology", 85.0),
    ("Nadia Haddad", "pediatrics", 70.0),
    ("Owen Price", "pediatrics", 75.0),
    ("Ingrid Solberg", "orthopedics", 110.0),
    ("Rui Tavares", "orthopedics", 105.0),
)
_FIRST = (
    "Adele",
    "Bernard",
    "Celia",
    "Dominik",
    "Edith",
    "Frank",
    "Gloria",
    "Harald",
    "Irene",
    "Jorge",
    "Klara",
    "Lorenzo",
    "Monika",
    "Nathan",
    "Olivia",
    "Pablo",
    "Rita",
    "Simon",
)
_LAST = (
    "Albrecht",
    "Barros",
    "Cerny",
    "Duarte",
    "Ekman",
    "Falk",
    "Gomes",
    "Hartmann",
    "Ilic",
    "Jakobsen",
    "Keller",
    "Leone",
    "Maier",
    "Nunes",
)
_CITIES = ("Lisbon", "Coimbra", "Braga", "Faro", "Aveiro", "Evora")
_REASONS = {
    "general": ("annual checkup", "persistent cough", "flu symptoms"),
    "cardiology": ("chest pain", "blood pressure review", "palpitations"),
    "dermatology": ("skin rash", "mole check", "eczema flare"),
    "pediatrics": ("vaccination", "growth check", "ear infection"),
    "orthopedics": ("knee pain", "back pain", "sprained ankle"),
}
_MEDS = (
    ("Amoxicillin", "500 mg three times daily"),
    ("Ibuprofen", "400 mg as needed"),
    ("Lisinopril", "10 mg once daily"),
    ("Cetirizine", "10 mg once daily"),
    ("Hydrocortisone cream", "apply twice daily"),
    ("Paracetamol", "1 g up to four times daily"),
)


def _day(rng: random.Random, start: int, end: int) -> str:
    return (date(2025, 1, 1) + timedelta(days=rng.randint(start, end))).isoformat()


def populate(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Insert 10 doctors, 18 patients, 40 appointments and their prescriptions."""
    for i, (name, specialty, fee) in enumerate(_DOCTORS, start=1):
        first, last = name.lower().split()
        conn.execute(
            "INSERT INTO doctors (id, name, email, specialty, consultation_fee) VALUES (?,?,?,?,?)",
            (i, name, f"dr.{last}@clinic.example", specialty, fee),
        )
    people = rng.sample([(f, s) for f in _FIRST for s in _LAST], 18)
    phones = rng.sample(range(1000, 10000), 18)
    for i, (first, last) in enumerate(people, start=1):
        conn.execute(
            "INSERT INTO patients (id, name, email, phone, birth_date, city) VALUES (?,?,?,?,?,?)",
            (
                i,
                f"{first} {last}",
                f"{first.lower()}.{last.lower()}@example.com",
                f"21-555-{phones[i - 1]}",
                (date(1950, 1, 1) + timedelta(days=rng.randint(0, 25000))).isoformat(),
                rng.choice(_CITIES),
            ),
        )
    prescription_id = 0
    for i in range(1, 41):
        doctor_id = rng.randint(1, len(_DOCTORS))
        _, specialty, fee = _DOCTORS[doctor_id - 1]
        upcoming = i % 3 == 0 or i % 5 == 0
        status = "scheduled" if upcoming else rng.choice(("completed", "completed", "no_show", "cancelled"))
        visit = _day(rng, 200, 360) if upcoming else _day(rng, 0, 199)
        conn.execute(
            "INSERT INTO appointments (id, patient_id, doctor_id, visit_date, status, reason, fee)"
            " VALUES (?,?,?,?,?,?,?)",
            (i, rng.randint(1, 18), doctor_id, visit, status, rng.choice(_REASONS[specialty]), fee),
        )
        if status == "completed":
            for medication, dosage in rng.sample(_MEDS, rng.randint(1, 2)):
                prescription_id += 1
                conn.execute(
                    "INSERT INTO prescriptions (id, appointment_id, medication, dosage, refills,"
                    " issued_on) VALUES (?,?,?,?,?,?)",
                    (prescription_id, i, medication, dosage, rng.randint(0, 3), visit),
                )


S = ToolStep

INTENTS = (
    Intent(
        "appointment_details",
        "check the details of appointment {appointment_id}",
        (
            "When is appointment {appointment_id}, and is it still on?",
            "Look into appointment {appointment_id} for me.",
            "I'd like to know more about appointment {appointment_id}.",
            "Is appointment {appointment_id} still scheduled?",
            "What are the details of appointment {appointment_id}?",
            "Can you check visit #{appointment_id} for me?",
            "When is appointment number {appointment_id}?",
            "Is visit {appointment_id} still going ahead?",
            "What day is appointment {appointment_id} on again?",
            "Remind me what appointment {appointment_id} is about.",
            "Is appointment {appointment_id} still happening?",
            "Tell me about visit number {appointment_id}.",
            "What's the latest on appointment {appointment_id}?",
        ),
        {"appointment_id": "int"},
        (S("get_appointment_by_id", {"id": "{appointment_id}"}),),
        ("appointment", "visit", "when"),
    ),
    Intent(
        "patient_record",
        "look up the record of patient {patient_id}",
        (
            "What do you have on file for patient {patient_id}?",
            "Pull up the chart of patient {patient_id}.",
            "Show me the record of patient {patient_id}.",
            "What do you have on file for patient #{patient_id}?",
            "Can you look up patient number {patient_id}?",
        ),
        {"patient_id": "int"},
        (S("get_patient_by_id", {"id": "{patient_id}"}),),
        ("record", "file", "patient"),
    ),
    Intent(
        "patient_by_email",
        "find the patient registered with {email}",
        (
            "Whose record is registered to {email}?",
            "Look up the patient file for {email}.",
            "Can you find my patient record? My email is {email}.",
            "Which patient is registered with {email}?",
            "Can you find the patient file for {email}?",
            "Look up the patient whose email is {email}, please.",
            "Who does the address {email} belong to in your records?",
            "Check which patient has the email {email}.",
            "Is there a patient on file under {email}?",
            "Find out who is registered under {email}.",
            "Whose file has the email {email}?",
            "Tell me which patient uses {email}.",
        ),
        {"email": "email"},
        (S("get_patient_by_email", {"email": "{email}"}),),
        ("registered", "email", "find"),
    ),
    Intent(
        "doctors_by_specialty",
        "find doctors who practise {specialty}",
        (
            "I need a {specialty} doctor. Who is available?",
            "Who are your {specialty} specialists?",
            "Do you have anyone for {specialty}?",
            "List the doctors in {specialty}.",
            "Which doctors work in {specialty}?",
            "Do you have a specialist in {specialty}?",
            "List the {specialty} doctors at the clinic, please.",
            "Is there a {specialty} doctor I could see?",
            "My GP referred me to {specialty}. Who could I see?",
            "Which of your doctors handle {specialty}?",
            "Who covers {specialty} at your clinic?",
            "I'd like to see someone in {specialty}. Who's there?",
            "Give me the names of your {specialty} doctors.",
            "Which specialists do you have for {specialty}?",
            "Is anyone on staff for {specialty}?",
            "Who could I see about {specialty}?",
        ),
        {"specialty": "word"},
        (S("search_doctors", {"specialty": "{specialty}"}),),
        ("doctors", "specialist", "specialty"),
    ),
    Intent(
        "patient_appointments",
        "list the appointments of patient {patient_id}",
        (
            "When are the visits of patient {patient_id}?",
            "List every appointment for patient {patient_id}.",
            "Which appointments does patient {patient_id} have?",
            "List every visit booked for patient #{patient_id}.",
            "Show me the appointment history of patient number {patient_id}.",
            "Go through the visits of patient {patient_id}.",
            "Has patient {patient_id} got anything booked?",
            "Tell me the appointments of patient {patient_id}.",
        ),
        {"patient_id": "int"},
        (S("get_patient_appointments", {"patient_id": "{patient_id}"}),),
        ("appointments", "visits", "history"),
    ),
    Intent(
        "patient_costs",
        "find out how many visits patient {patient_id} had and what they cost",
        (
            "What have the visits of patient {patient_id} cost altogether?",
            "Sum up the fees for patient {patient_id}.",
            "How much has patient {patient_id} paid for visits?",
            "Give me a visit summary for patient #{patient_id}.",
            "What are the total consultation fees of patient number {patient_id}?",
        ),
        {"patient_id": "int"},
        (S("get_patient_appointments_summary", {"patient_id": "{patient_id}"}),),
        ("fees", "summary", "paid"),
    ),
    Intent(
        "appointments_by_email",
        "see the appointments of the patient with email {email}",
        (
            "When are my appointments? My email is {email}.",
            "Can you list my visits? I'm registered as {email}.",
            "Which visits do I have booked? The record is under {email}.",
            "What appointments are booked under {email}?",
            "Show me every visit for the patient with email {email}.",
            "I need the appointment list for {email}.",
            "Do I have anything coming up? My email is {email}.",
            "Could you tell me which visits I have with you? I'm {email}.",
            "What have I got booked with the clinic? The record is under {email}.",
            "Go through my upcoming visits, please. My email is {email}.",
            "I can't remember when my appointments are. I'm registered as {email}.",
            "What's on my calendar with you? My email is {email}.",
            "Which appointments do I have with you? The record is under {email}.",
            "Tell me when I'm next due in. My email is {email}.",
            "Which dates am I booked in for? I'm registered as {email}.",
            "Can you list what I have coming up? The record is under {email}.",
        ),
        {"email": "email"},
        (S("get_patient_by_email", {"email": "{email}"}), S("get_patient_appointments", {"patient_id": "$prev.id"})),
        ("booked", "list", "under"),
    ),
    Intent(
        "appointment_prescriptions",
        "see what was prescribed at appointment {appointment_id}",
        (
            "Which medicines did I get at appointment {appointment_id}?",
            "List the prescriptions written at visit {appointment_id}.",
            "Did the doctor prescribe anything at appointment {appointment_id}?",
            "What was prescribed at appointment {appointment_id}?",
            "Which medications came out of visit #{appointment_id}?",
            "List the prescriptions from appointment number {appointment_id}.",
            "What did the doctor give me at appointment {appointment_id}?",
            "Were any medicines prescribed at visit {appointment_id}?",
            "Tell me the prescriptions from appointment {appointment_id}.",
        ),
        {"appointment_id": "int"},
        (S("get_appointment_prescriptions", {"appointment_id": "{appointment_id}"}),),
        ("prescribed", "medications", "prescriptions"),
    ),
    Intent(
        "reschedule",
        "move appointment {appointment_id} to {new_date}",
        (
            "Appointment {appointment_id} doesn't suit me anymore, can we do {new_date}?",
            "Shift visit {appointment_id} to {new_date}, please.",
            "Could appointment {appointment_id} happen on {new_date} instead?",
            "Please move appointment {appointment_id} to {new_date}.",
            "Can visit #{appointment_id} be rescheduled for {new_date}?",
            "I need appointment number {appointment_id} on {new_date} instead.",
            "Put appointment {appointment_id} on {new_date} instead, please.",
            "I'd rather have appointment {appointment_id} on {new_date}.",
            "Move visit {appointment_id} over to {new_date}.",
        ),
        {"appointment_id": "int", "new_date": "date"},
        (
            S("get_appointment_by_id", {"id": "{appointment_id}"}),
            S("update_appointment_visit_date", {"id": "{appointment_id}", "visit_date": "{new_date}"}),
        ),
        ("reschedule", "move", "instead"),
        verify="appointment_details",
    ),
    Intent(
        "cancel_appointment",
        "cancel appointment {appointment_id}",
        (
            "I can't come to appointment {appointment_id}, please cancel it.",
            "Call off visit {appointment_id}, please.",
            "Cancel appointment number {appointment_id} for me.",
            "Please cancel appointment {appointment_id}.",
            "I can't make it to visit #{appointment_id}, please cancel it.",
            "Cancel appointment number {appointment_id}, please.",
            "Appointment {appointment_id} won't work for me; cancel it, please.",
            "Take appointment {appointment_id} off the calendar, please.",
            "I have to cancel visit {appointment_id}.",
        ),
        {"appointment_id": "int"},
        (
            S("get_appointment_by_id", {"id": "{appointment_id}"}),
            S("update_appointment_status", {"id": "{appointment_id}", "status": "cancelled"}),
        ),
        ("cancel", "make", "cancelled"),
        verify="appointment_details",
    ),
    Intent(
        "update_patient_phone",
        "change the phone number of patient {patient_id} to {phone}",
        (
            "Patient {patient_id} has a new phone number: {phone}.",
            "Put {phone} on file as the phone of patient {patient_id}.",
            "Replace the phone number of patient {patient_id} with {phone}.",
            "Please change the phone number of patient {patient_id} to {phone}.",
            "Patient #{patient_id} has a new phone number: {phone}.",
            "Update the contact number for patient number {patient_id} to {phone}, please.",
            "The phone of patient {patient_id} is now {phone}.",
            "Note {phone} as the new phone number of patient {patient_id}.",
        ),
        {"patient_id": "int", "phone": "word"},
        (
            S("get_patient_by_id", {"id": "{patient_id}"}),
            S("update_patient_phone", {"id": "{patient_id}", "phone": "{phone}"}),
        ),
        ("phone", "contact", "number"),
        verify="patient_record",
    ),
    Intent(
        "book_appointment",
        "book patient {patient_id} with doctor {doctor_id} on {visit_date} for {reason}",
        (
            "Book a visit for patient {patient_id} with doctor {doctor_id} on {visit_date}, the reason is {reason}.",
            "I'd like patient {patient_id} to see doctor {doctor_id} on {visit_date} about {reason}.",
            "Please book patient {patient_id} with doctor {doctor_id} on {visit_date} for {reason}.",
            "Can patient #{patient_id} see doctor #{doctor_id} on {visit_date}? It's about {reason}.",
            "Schedule a visit for patient number {patient_id} with doctor number {doctor_id} on "
            "{visit_date}, reason: {reason}.",
        ),
        {"patient_id": "int", "doctor_id": "int", "visit_date": "date", "reason": "text"},
        (
            S("get_doctor_by_id", {"id": "{doctor_id}"}),
            S(
                "create_appointment",
                {
                    "patient_id": "{patient_id}",
                    "doctor_id": "{doctor_id}",
                    "visit_date": "{visit_date}",
                    "reason": "{reason}",
                },
            ),
        ),
        ("book", "new", "reason"),
        verify="patient_appointments",
    ),
    Intent(
        "costs_by_email",
        "find out what the patient with email {email} has paid in consultation fees",
        (
            "Add up my consultation fees, please. My email is {email}.",
            "What have I paid for appointments altogether? I'm registered as {email}.",
            "How much have my visits cost so far? My email is {email}.",
            "What are the total consultation fees for the patient {email}?",
            "Give me a summary of the fees on the record registered to {email}.",
            "How much have I spent at the clinic? My email is {email}.",
            "What do my consultation fees come to? I'm registered as {email}.",
            "Total up what my visits have cost, please. My email is {email}.",
        ),
        {"email": "email"},
        (
            S("get_patient_by_email", {"email": "{email}"}),
            S("get_patient_appointments_summary", {"patient_id": "$prev.id"}),
        ),
        ("cost so far",),
    ),
    Intent(
        "first_visit_prescriptions",
        "see what was prescribed at the first appointment of the patient with email {email}",
        (
            "At my first visit I was given some medicine. What was it? The record is under {email}.",
            "What was I prescribed at my first appointment? My email is {email}.",
            "Find the first visit on the record for {email} and list its prescriptions.",
            "I'm {email}: which medicines came out of my very first appointment?",
            "What medicine came out of my first visit? My email is {email}.",
            "Go back to my first appointment and list what was prescribed; I'm registered as {email}.",
        ),
        {"email": "email"},
        (
            S("get_patient_by_email", {"email": "{email}"}),
            S("get_patient_appointments", {"patient_id": "$prev.id"}),
            S("get_appointment_prescriptions", {"appointment_id": "$prev.id"}),
        ),
        ("medicines", "first visit", "first appointment"),
    ),
    Intent(
        "cancel_my_visit",
        "cancel a scheduled appointment of the patient with email {email}",
        (
            "Something came up and I can't come in. Please cancel my appointment; I'm registered as {email}.",
            "I need to cancel my upcoming appointment. My email is {email}.",
            "Please call off my scheduled visit; the record is under {email}.",
            "Can you find my booked appointment ({email}) and cancel it?",
            "I can't make my appointment, please cancel it. I'm {email}.",
            "Please take my scheduled appointment off the calendar; my email is {email}.",
            "I won't make my upcoming visit, so please cancel it. I'm registered as {email}.",
        ),
        {"email": "email"},
        (
            S("get_patient_by_email", {"email": "{email}"}),
            S("search_appointments", {"patient_id": "$prev.id", "status": "scheduled"}),
            S("update_appointment_status", {"id": "$prev.id", "status": "cancelled"}),
        ),
        ("call off", "can't make"),
        verify="appointments_by_email",
    ),
    Intent(
        "appointment_doctor",
        "find out which doctor appointment {appointment_id} is with",
        (
            "Who will I see at appointment {appointment_id}?",
            "Remind me which doctor visit {appointment_id} is with.",
            "Which doctor am I seeing at appointment {appointment_id}?",
            "Who is appointment #{appointment_id} with, and what's their specialty?",
            "Look up appointment {appointment_id} and tell me about the doctor.",
            "Which doctor is appointment {appointment_id} with?",
            "Tell me who I'm seeing at visit {appointment_id}.",
            "Who's the doctor on appointment {appointment_id}?",
        ),
        {"appointment_id": "int"},
        (S("get_appointment_by_id", {"id": "{appointment_id}"}), S("get_doctor_by_id", {"id": "$prev.doctor_id"})),
        ("seeing", "which doctor"),
    ),
    Intent(
        "reschedule_my_visit",
        "move a scheduled appointment of the patient with email {email} to {new_date}",
        (
            "Could my scheduled appointment be on {new_date} instead? The record is under {email}.",
            "I need to move my upcoming appointment to {new_date}. My email is {email}.",
            "Can you push my scheduled visit to {new_date}? The record is under {email}.",
            "Please reschedule my appointment for {new_date}; I'm {email}.",
        ),
        {"email": "email", "new_date": "date"},
        (
            S("get_patient_by_email", {"email": "{email}"}),
            S("search_appointments", {"patient_id": "$prev.id", "status": "scheduled"}),
            S("update_appointment_visit_date", {"id": "$prev.id", "visit_date": "{new_date}"}),
        ),
        ("push", "move my"),
        verify="appointments_by_email",
    ),
)

_DATES = ("2025-11-04", "2025-11-18", "2025-12-02", "2025-12-09", "2025-12-16")

TEMPLATES = (
    TaskTemplate(
        "check_visit",
        Difficulty.EASY,
        "You want to know when appointment {appointment_id} is and what it is for.",
        "SELECT id AS appointment_id FROM appointments WHERE status = 'scheduled' AND patient_id = :user_id",
        ("appointment_details",),
    ),
    TaskTemplate(
        "find_specialist",
        Difficulty.EASY,
        "You need a doctor in {specialty} and want to see who practises it at the clinic.",
        "SELECT DISTINCT specialty FROM doctors",
        ("doctors_by_specialty",),
    ),
    TaskTemplate(
        "visit_prescriptions",
        Difficulty.EASY,
        "You want the details of your past appointment {appointment_id} and what was prescribed there.",
        "SELECT DISTINCT r.appointment_id FROM prescriptions r JOIN appointments a ON a.id = r.appointment_id "
        "WHERE a.patient_id = :user_id",
        ("appointment_details", "appointment_prescriptions"),
    ),
    TaskTemplate(
        "patient_history",
        Difficulty.EASY,
        "You ({email}) want to check your appointments and what you were prescribed at your first visit.",
        # the first visit as the listing orders them (by id) must have had something prescribed
        "SELECT p.email AS email FROM patients p WHERE p.id = :user_id AND EXISTS (SELECT 1 FROM prescriptions r "
        "WHERE r.appointment_id = (SELECT MIN(a.id) FROM appointments a WHERE a.patient_id = p.id))",
        ("appointments_by_email", "first_visit_prescriptions"),
    ),
    TaskTemplate(
        "move_visit",
        Difficulty.MEDIUM,
        "You want to know who appointment {appointment_id} is with and move it to {new_date}.",
        "SELECT id AS appointment_id FROM appointments WHERE status = 'scheduled' AND patient_id = :user_id",
        ("appointment_doctor", "reschedule"),
        {"new_date": _DATES},
    ),
    TaskTemplate(
        "patient_overview",
        Difficulty.MEDIUM,
        "You ({email}) want to see your appointments and what your visits have cost.",
        "SELECT p.email AS email, p.id AS patient_id FROM patients p "
        "WHERE p.id = :user_id AND EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = p.id)",
        ("appointments_by_email", "costs_by_email"),
    ),
    TaskTemplate(
        "new_phone",
        Difficulty.MEDIUM,
        "You are patient {patient_id}; check your record and change your phone number to {phone}.",
        "SELECT id AS patient_id FROM patients WHERE id = :user_id",
        ("patient_record", "update_patient_phone"),
        {"phone": ("91-555-0101", "93-555-0202", "96-555-0303")},
    ),
    TaskTemplate(
        "book_specialist",
        Difficulty.HARD,
        "You ({email}, patient {patient_id}) need to see a {specialty} doctor: list the "
        "doctors, book doctor {doctor_id} on {visit_date} for {reason}, and confirm your "
        "appointments.",
        "SELECT p.email AS email, p.id AS patient_id, d.id AS doctor_id, d.specialty AS "
        "specialty FROM patients p JOIN doctors d ON d.id = (p.id % 10) + 1 WHERE p.id = :user_id",
        ("patient_by_email", "doctors_by_specialty", "book_appointment", "appointments_by_email"),
        {"visit_date": _DATES, "reason": ("a follow-up on my last visit", "recurring headaches", "a second opinion")},
    ),
    TaskTemplate(
        "cancel_and_review",
        Difficulty.HARD,
        "You ({email}) want to review your appointments, find out which doctor appointment {appointment_id} "
        "is with, cancel it, and book that doctor (doctor {doctor_id}) on {visit_date} for {reason} instead.",
        # (not the doctor's calendar: it lists other patients' visits)
        "SELECT p.email AS email, p.id AS patient_id, a.id AS appointment_id, a.doctor_id AS doctor_id "
        "FROM appointments a JOIN patients p ON p.id = a.patient_id "
        "WHERE a.status = 'scheduled' AND p.id = :user_id",
        ("appointments_by_email", "appointment_doctor", "cancel_appointment", "book_appointment"),
        {"visit_date": _DATES, "reason": ("a follow-up on my last visit", "recurring headaches", "a second opinion")},
    ),
    TaskTemplate(
        "drop_a_visit",
        Difficulty.MEDIUM,
        "You ({email}) want to see your appointments and cancel one that is scheduled.",
        "SELECT p.email AS email FROM patients p WHERE p.id = :user_id "
        "AND EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = p.id AND a.status = 'scheduled')",
        ("appointments_by_email", "cancel_my_visit"),
    ),
    TaskTemplate(
        "new_date",
        Difficulty.MEDIUM,
        "You ({email}) want to see your appointments and move a scheduled one to {new_date}.",
        "SELECT p.email AS email FROM patients p WHERE p.id = :user_id "
        "AND EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = p.id AND a.status = 'scheduled')",
        ("appointments_by_email", "reschedule_my_visit"),
        {"new_date": _DATES},
    ),
)


PACK = DomainPack(
    name="clinic",
    title="Outpatient clinic",
    description="An outpatient clinic: doctors, patients, appointments and prescriptions.",
    schema_sql=SCHEMA_SQL,
    populate=populate,
    intents=INTENTS + chains.CLINIC_INTENTS,
    templates=TEMPLATES + chains.CLINIC_TASKS,
)
