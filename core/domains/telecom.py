"""The telecom pack: plans, subscribers, invoices and support tickets.

A mobile operator. Users check their line and bills, switch plans, pay
invoices, suspend lines, update contact details and open support tickets.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from turnloom.core.domains import chains
from turnloom.core.domains.base import DomainPack, Intent, TaskTemplate, ToolStep
from turnloom.core.models import Difficulty

SCHEMA_SQL = """
CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('prepaid', 'postpaid', 'family', 'business')),
    monthly_fee REAL NOT NULL,
    data_gb INTEGER NOT NULL
);
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone_number TEXT NOT NULL UNIQUE,
    city TEXT NOT NULL,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    activated_on DATE NOT NULL
);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
    issued_on DATE NOT NULL,
    due_on DATE NOT NULL,
    amount REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'paid', 'overdue'))
);
CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
    category TEXT NOT NULL CHECK (category IN ('billing', 'network', 'device', 'roaming')),
    summary TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    opened_on DATE
);
"""

_FIRST = (
    "Aisha",
    "Bram",
    "Carmen",
    "Dario",
    "Elif",
    "Finn",
    "Greta",
    "Hamid",
    "Ilse",
    "Joao",
    "Kira",
    "Lucas",
    "Marta",
    "Niko",
    "Oscar",
    "Priya",
    "Quentin",
    "Ruth",
    "Sami",
    "Ursula",
)
_LAST = (
    "Alves",
    "Bakker",
    "Castro",
    "Demir",
    "Engel",
    "Fontaine",
    "Grant",
    "Hoffmann",
    "Iglesias",
    "Jovanovic",
    "Kaya",
    "Lambert",
    "Marino",
    "Nielsen",
)
_CITIES = ("Porto", "Valencia", "Marseille", "Munich", "Rotterdam", "Zurich", "Prague", "Warsaw")
_PLANS = (
    ("Go Basic", "prepaid", 9.99, 5),
    ("Go Plus", "prepaid", 14.99, 15),
    ("Smart 30", "postpaid", 24.0, 30),
    ("Smart Unlimited", "postpaid", 39.0, 200),
    ("Family Share", "family", 55.0, 120),
    ("Business Pro", "business", 49.5, 100),
)
_ISSUES = (
    ("billing", "charged twice for the same month"),
    ("network", "no signal at home in the evening"),
    ("device", "phone does not register on the network"),
    ("roaming", "data not working abroad"),
    ("network", "calls drop after a minute"),
    ("billing", "roaming fee looks wrong"),
)


def _day(rng: random.Random, start: int, end: int) -> date:
    return date(2025, 1, 1) + timedelta(days=rng.randint(start, end))


def populate(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Insert 6 plans, 20 subscribers, monthly invoices and some support tickets."""
    for i, (name, kind, fee, data_gb) in enumerate(_PLANS, start=1):
        conn.execute(
            "INSERT INTO plans (id, name, kind, monthly_fee, data_gb) VALUES (?,?,?,?,?)",
            (i, name, kind, fee, data_gb),
        )
    people = rng.sample([(f, s) for f in _FIRST for s in _LAST], 20)
    numbers = rng.sample(range(100, 1000), 20)
    invoice_id = ticket_id = 0
    for i, (first, last) in enumerate(people, start=1):
        plan_id = rng.randint(1, len(_PLANS))
        status = ("active", "active", "active", "active", "suspended")[i % 5]
        conn.execute(
            "INSERT INTO subscribers (id, name, email, phone_number, city, plan_id, status,"
            " activated_on) VALUES (?,?,?,?,?,?,?,?)",
            (
                i,
                f"{first} {last}",
                f"{first.lower()}.{last.lower()}@example.com",
                f"555-0{numbers[i - 1]}",
                rng.choice(_CITIES),
                plan_id,
                status,
                _day(rng, 0, 90).isoformat(),
            ),
        )
        fee = _PLANS[plan_id - 1][2]
        for month in range(rng.randint(2, 4)):
            invoice_id += 1
            issued = date(2025, 6 + month, 1)
            state = "paid" if month < 1 else rng.choice(("paid", "unpaid", "overdue"))
            conn.execute(
                "INSERT INTO invoices (id, subscriber_id, issued_on, due_on, amount, status) VALUES (?,?,?,?,?,?)",
                (
                    invoice_id,
                    i,
                    issued.isoformat(),
                    (issued + timedelta(days=20)).isoformat(),
                    round(fee + rng.choice((0, 0, 2.5, 7.8, 12.0)), 2),
                    state,
                ),
            )
        if i % 2:
            ticket_id += 1
            category, summary = rng.choice(_ISSUES)
            conn.execute(
                "INSERT INTO support_tickets (id, subscriber_id, category, summary, status,"
                " opened_on) VALUES (?,?,?,?,?,?)",
                (ticket_id, i, category, summary, rng.choice(("open", "resolved")), _day(rng, 150, 300).isoformat()),
            )


S = ToolStep

INTENTS = (
    Intent(
        "subscriber_account",
        "look up the account of subscriber {subscriber_id}",
        (
            "What's on the account of subscriber {subscriber_id}?",
            "Look up subscriber {subscriber_id} for me.",
            "Show me the details of subscriber {subscriber_id}.",
            "Can you pull up the account of subscriber {subscriber_id}?",
            "What's on file for subscriber #{subscriber_id}?",
            "Show me the line details for customer number {subscriber_id}.",
            "Tell me about the account of subscriber {subscriber_id}.",
            "Check the account of subscriber {subscriber_id} for me.",
            "What do you have for subscriber {subscriber_id}?",
        ),
        {"subscriber_id": "int"},
        (S("get_subscriber_by_id", {"id": "{subscriber_id}"}),),
        ("account", "line", "subscriber"),
    ),
    Intent(
        "account_by_email",
        "look up the account registered with {email}",
        (
            "What's on my account? It's under {email}.",
            "Can you pull up the account registered to {email}?",
            "Can you check my account details? My email is {email}.",
            "Look up my account, please. The email on it is {email}.",
            "I'd like to see my account details. I'm {email}.",
            "Go over my account with me. My email is {email}.",
            "What do you have on my account? I'm registered as {email}.",
            "I'd like a look at my account; it's under {email}.",
        ),
        {"email": "email"},
        (S("get_subscriber_by_email", {"email": "{email}"}),),
        ("registered", "details"),
    ),
    Intent(
        "invoice_details",
        "look up invoice {invoice_id}",
        (
            "How much is invoice {invoice_id} and when is it due?",
            "Is invoice {invoice_id} paid?",
            "Look into invoice {invoice_id}, please.",
            "What's the status of bill {invoice_id}?",
            "What does invoice {invoice_id} say?",
            "Can you check bill #{invoice_id} for me?",
            "Show me the details of invoice number {invoice_id}.",
            "Has bill {invoice_id} been settled?",
            "What do I owe on invoice {invoice_id}?",
            "What's the amount on invoice {invoice_id}?",
            "Tell me about bill {invoice_id}.",
            "When do I have to pay invoice {invoice_id}?",
            "Has invoice {invoice_id} gone through?",
        ),
        {"invoice_id": "int"},
        (S("get_invoice_by_id", {"id": "{invoice_id}"}),),
        ("invoice", "bill", "due"),
    ),
    Intent(
        "subscriber_by_phone",
        "find the account for phone number {phone_number}",
        (
            "Who owns the number {phone_number}?",
            "Which account is the number {phone_number} on?",
            "Look up the subscriber with the phone {phone_number}.",
            "Whose line is {phone_number}?",
            "Look up the account for the number {phone_number}, please.",
            "Which subscriber has phone number {phone_number}?",
            "Tell me whose number {phone_number} is.",
            "Check which subscriber uses {phone_number}.",
            "Who is on the line {phone_number}?",
        ),
        {"phone_number": "word"},
        (S("get_subscriber_by_phone_number", {"phone_number": "{phone_number}"}),),
        ("number", "whose", "owner"),
    ),
    Intent(
        "plans_of_kind",
        "browse the {kind} plans",
        (
            "Which {kind} plans are there?",
            "I'm interested in a {kind} plan. What are my options?",
            "List your {kind} tariffs.",
            "How much are your {kind} plans?",
            "What {kind} plans do you offer?",
            "Show me your {kind} tariffs.",
            "List the {kind} options you have, please.",
            "What would a {kind} plan cost me?",
            "I'm thinking of switching to {kind}. What do you have?",
            "Are there any {kind} deals at the moment?",
            "What's on offer for {kind} customers?",
            "Go through your {kind} plans with me.",
            "I'd like to compare your {kind} tariffs.",
            "Which {kind} packages could I get?",
            "Tell me about your {kind} range.",
        ),
        {"kind": "word"},
        (S("search_plans", {"kind": "{kind}"}),),
        ("plans", "tariffs", "offer"),
    ),
    Intent(
        "subscriber_invoices",
        "list the invoices of subscriber {subscriber_id}",
        (
            "List the bills of subscriber {subscriber_id}.",
            "What has subscriber {subscriber_id} been invoiced?",
            "Which invoices does subscriber {subscriber_id} have?",
            "List every bill sent to subscriber #{subscriber_id}.",
            "Show me the billing history of customer number {subscriber_id}.",
            "Go through the bills of subscriber {subscriber_id}.",
            "Tell me which bills subscriber {subscriber_id} has had.",
            "Let me see the invoices of subscriber {subscriber_id}.",
        ),
        {"subscriber_id": "int"},
        (S("get_subscriber_invoices", {"subscriber_id": "{subscriber_id}"}),),
        ("invoices", "history", "sent"),
    ),
    Intent(
        "billing_summary",
        "find out how much subscriber {subscriber_id} has been billed",
        (
            "Add up the bills of subscriber {subscriber_id}.",
            "What's the billing total for subscriber {subscriber_id}?",
            "How much has subscriber {subscriber_id} been billed in total?",
            "Give me a billing summary for subscriber #{subscriber_id}.",
            "What's the average bill of customer number {subscriber_id}?",
            "Total up the bills of subscriber {subscriber_id}.",
            "How much does subscriber {subscriber_id} pay us altogether?",
        ),
        {"subscriber_id": "int"},
        (S("get_subscriber_invoices_summary", {"subscriber_id": "{subscriber_id}"}),),
        ("total", "average", "summary"),
    ),
    Intent(
        "invoices_by_phone",
        "see the bills for phone number {phone_number}",
        (
            "List the invoices on my number {phone_number}.",
            "Which bills have I had on {phone_number}?",
            "Can you show me the billing history of {phone_number}?",
            "What bills are there for the line {phone_number}?",
            "Show me the invoices for phone number {phone_number}.",
            "I need the billing history of {phone_number}.",
            "What have I been billed on {phone_number}?",
            "Could you pull the bills for {phone_number}?",
            "I'd like to go over the invoices on {phone_number}.",
            "Go through the bills for {phone_number} with me.",
            "What invoices have come in for {phone_number}?",
            "Which bills are on file for {phone_number}?",
            "Let me see every bill for {phone_number}.",
        ),
        {"phone_number": "word"},
        (
            S("get_subscriber_by_phone_number", {"phone_number": "{phone_number}"}),
            S("get_subscriber_invoices", {"subscriber_id": "$prev.id"}),
        ),
        ("phone", "bills", "lines"),
    ),
    Intent(
        "current_plan",
        "find out which plan subscriber {subscriber_id} is on",
        (
            "What tariff is subscriber {subscriber_id} paying for?",
            "Which contract plan does subscriber {subscriber_id} have?",
            "Which plan is subscriber {subscriber_id} on?",
            "What tariff does subscriber #{subscriber_id} have right now?",
            "Tell me the current plan of customer number {subscriber_id}.",
            "What package is subscriber {subscriber_id} on?",
            "Which plan has subscriber {subscriber_id} got at the moment?",
            "What am I paying for each month on the line of subscriber {subscriber_id}?",
            "Remind me which plan subscriber {subscriber_id} has.",
            "What's subscriber {subscriber_id} signed up to?",
            "Tell me the tariff of subscriber {subscriber_id}.",
            "Which tariff has subscriber {subscriber_id} signed up for?",
            "Find out the plan of subscriber {subscriber_id}.",
            "What's subscriber {subscriber_id} on at the moment?",
        ),
        {"subscriber_id": "int"},
        (S("get_subscriber_by_id", {"id": "{subscriber_id}"}), S("get_plan_by_id", {"id": "$prev.plan_id"})),
        ("plan", "tariff", "current"),
    ),
    Intent(
        "change_plan",
        "move subscriber {subscriber_id} to plan {plan_id}",
        (
            "Switch subscriber {subscriber_id} over to plan {plan_id}.",
            "Subscriber {subscriber_id} wants plan {plan_id} from now on.",
            "Change the plan of subscriber {subscriber_id} to plan {plan_id}.",
            "Please move subscriber {subscriber_id} to plan {plan_id}.",
            "Switch subscriber #{subscriber_id} over to plan #{plan_id}, please.",
            "I want customer number {subscriber_id} on plan number {plan_id} from now on.",
            "Put subscriber {subscriber_id} on plan {plan_id}.",
            "Subscriber {subscriber_id} is moving to plan {plan_id}; please change it.",
            "Sign subscriber {subscriber_id} up to plan {plan_id} instead.",
        ),
        {"subscriber_id": "int", "plan_id": "int"},
        (
            S("get_plan_by_id", {"id": "{plan_id}"}),
            S("update_subscriber_plan_id", {"id": "{subscriber_id}", "plan_id": "{plan_id}"}),
        ),
        ("switch", "move", "change"),
        verify="current_plan",
    ),
    Intent(
        "pay_invoice",
        "mark invoice {invoice_id} as paid",
        (
            "Invoice {invoice_id} has been paid, please record it.",
            "Settle invoice {invoice_id}, please.",
            "Set invoice {invoice_id} to paid.",
            "Please mark invoice {invoice_id} as paid.",
            "I've just paid bill #{invoice_id}, can you record that?",
            "Record the payment for invoice number {invoice_id}, please.",
            "Mark bill {invoice_id} as settled, please.",
            "Invoice {invoice_id} is paid now; please update it.",
            "I've paid invoice {invoice_id}; set it to paid.",
        ),
        {"invoice_id": "int"},
        (
            S("get_invoice_by_id", {"id": "{invoice_id}"}),
            S("update_invoice_status", {"id": "{invoice_id}", "status": "paid"}),
        ),
        ("paid", "payment", "settle"),
        verify="invoice_details",
    ),
    Intent(
        "suspend_line",
        "suspend the line of subscriber {subscriber_id}",
        (
            "Block the line of subscriber {subscriber_id}, please.",
            "Subscriber {subscriber_id} lost their phone; suspend the line.",
            "Put the line of subscriber {subscriber_id} on hold.",
            "Please suspend the line of subscriber {subscriber_id}.",
            "My phone was stolen, block subscriber #{subscriber_id} right away.",
            "Suspend service for customer number {subscriber_id}, please.",
            "Freeze the line of subscriber {subscriber_id} for now.",
            "Suspend subscriber {subscriber_id}; the phone is gone.",
            "Subscriber {subscriber_id} needs the line suspended, please.",
        ),
        {"subscriber_id": "int"},
        (
            S("get_subscriber_by_id", {"id": "{subscriber_id}"}),
            S("update_subscriber_status", {"id": "{subscriber_id}", "status": "suspended"}),
        ),
        ("suspend", "stolen", "block"),
        verify="subscriber_account",
    ),
    Intent(
        "update_subscriber_email",
        "change the email of subscriber {subscriber_id} to {new_email}",
        (
            "Subscriber {subscriber_id} has a new email: {new_email}.",
            "Use {new_email} as the email of subscriber {subscriber_id} from now on.",
            "Please change the email of subscriber {subscriber_id} to {new_email}.",
            "Update the contact address for subscriber #{subscriber_id} to {new_email}.",
            "Customer number {subscriber_id} has a new email: {new_email}.",
            "The email of subscriber {subscriber_id} is now {new_email}.",
            "Put {new_email} on subscriber {subscriber_id} as the email.",
        ),
        {"subscriber_id": "int", "new_email": "email"},
        (
            S("get_subscriber_by_id", {"id": "{subscriber_id}"}),
            S("update_subscriber_email", {"id": "{subscriber_id}", "email": "{new_email}"}),
        ),
        ("email", "contact", "address"),
        verify="subscriber_account",
    ),
    Intent(
        "subscriber_tickets",
        "list the support tickets of subscriber {subscriber_id}",
        (
            "List the tickets of subscriber {subscriber_id}.",
            "Has subscriber {subscriber_id} reported any problems?",
            "Which support tickets does subscriber {subscriber_id} have?",
            "Show me the open complaints for subscriber #{subscriber_id}.",
            "List the tickets raised by customer number {subscriber_id}.",
            "Are there any complaints on file for subscriber {subscriber_id}?",
            "What issues has subscriber {subscriber_id} reported so far?",
            "What problems has subscriber {subscriber_id} raised with you?",
            "Go through the tickets of subscriber {subscriber_id}.",
            "Does subscriber {subscriber_id} have any tickets open?",
        ),
        {"subscriber_id": "int"},
        (S("get_subscriber_support_tickets", {"subscriber_id": "{subscriber_id}"}),),
        ("tickets", "complaints", "support"),
    ),
    Intent(
        "open_ticket",
        "open a {category} ticket for subscriber {subscriber_id}: {summary}",
        (
            "File a {category} ticket for subscriber {subscriber_id} saying {summary}.",
            "Log a {category} complaint for subscriber {subscriber_id}: {summary}.",
            "Please open a {category} ticket for subscriber {subscriber_id}: {summary}.",
            "I need to report a {category} problem on subscriber #{subscriber_id}: {summary}.",
            "File a {category} complaint for customer number {subscriber_id} saying {summary}.",
            "Open a {category} case for subscriber {subscriber_id}: {summary}.",
            "Raise a {category} ticket on subscriber {subscriber_id} about this: {summary}.",
            "Subscriber {subscriber_id} has a {category} issue to report: {summary}.",
            "Please log a {category} issue for subscriber {subscriber_id}: {summary}.",
            "Report a {category} fault on subscriber {subscriber_id}: {summary}.",
        ),
        {"category": "word", "subscriber_id": "int", "summary": "text"},
        (
            S("get_subscriber_by_id", {"id": "{subscriber_id}"}),
            S(
                "create_support_ticket",
                {"subscriber_id": "{subscriber_id}", "category": "{category}", "summary": "{summary}"},
            ),
        ),
        ("report", "problem", "ticket"),
        verify="subscriber_tickets",
    ),
    Intent(
        "plan_by_phone",
        "find out which plan the line {phone_number} is on",
        (
            "Which package is {phone_number} on at the moment?",
            "Remind me of the plan on my line {phone_number}.",
            "Which plan is the line {phone_number} on?",
            "What tariff does my number {phone_number} have right now?",
            "Look up the line {phone_number} and tell me its current plan.",
            "I forgot what plan I'm on. My number is {phone_number}.",
            "Which plan am I on with {phone_number}?",
            "Tell me the tariff on {phone_number}.",
            "Check what plan {phone_number} is on.",
        ),
        {"phone_number": "word"},
        (
            S("get_subscriber_by_phone_number", {"phone_number": "{phone_number}"}),
            S("get_plan_by_id", {"id": "$prev.plan_id"}),
        ),
        ("plan is", "plan i'm on"),
    ),
    Intent(
        "billing_by_phone",
        "get a billing summary for the line {phone_number}",
        (
            "Add up the bills on my number {phone_number}.",
            "What's the total I've been charged on {phone_number}?",
            "How much have I been billed in total on {phone_number}?",
            "Give me a billing summary for the number {phone_number}.",
            "What do the bills on line {phone_number} add up to?",
            "What have I paid altogether on {phone_number}?",
            "Sum up what {phone_number} has cost me so far.",
            "What does {phone_number} cost me overall?",
            "Total up the bills for {phone_number}.",
            "How much has {phone_number} been charged altogether?",
        ),
        {"phone_number": "word"},
        (
            S("get_subscriber_by_phone_number", {"phone_number": "{phone_number}"}),
            S("get_subscriber_invoices_summary", {"subscriber_id": "$prev.id"}),
        ),
        ("billed", "add up"),
    ),
    Intent(
        "tickets_by_phone",
        "see the support tickets on the line {phone_number}",
        (
            "Did my complaints on {phone_number} get logged?",
            "List the support tickets for line {phone_number}.",
            "Which support tickets are open on my line {phone_number}?",
            "Show me the tickets filed for the number {phone_number}.",
            "Have I got any support requests on {phone_number}?",
            "Go through the tickets on {phone_number}.",
            "Are there any open tickets for {phone_number}?",
        ),
        {"phone_number": "word"},
        (
            S("get_subscriber_by_phone_number", {"phone_number": "{phone_number}"}),
            S("get_subscriber_support_tickets", {"subscriber_id": "$prev.id"}),
        ),
        ("support requests", "tickets filed"),
    ),
    Intent(
        "pay_my_bill",
        "pay an unpaid bill on the line {phone_number}",
        (
            "I want to clear what I owe on {phone_number}. Please mark the open bill as paid.",
            "I'd like to pay my unpaid bill. My number is {phone_number}.",
            "Please settle the open invoice on line {phone_number}.",
            "Can you mark the unpaid bill for {phone_number} as paid? I've just transferred the money.",
            "There's a bill outstanding on {phone_number}, I want to pay it now.",
            "Please pay off the unpaid bill on {phone_number}; I've sent the money.",
            "Settle my outstanding bill, please. My number is {phone_number}.",
        ),
        {"phone_number": "word"},
        (
            S("get_subscriber_by_phone_number", {"phone_number": "{phone_number}"}),
            S("search_invoices", {"subscriber_id": "$prev.id", "status": "unpaid"}),
            S("update_invoice_status", {"id": "$prev.id", "status": "paid"}),
        ),
        ("outstanding", "open invoice"),
        verify="invoices_by_phone",
    ),
)

_ISSUE_POOL = {
    "category": ("network", "billing", "roaming", "device"),
    "summary": (
        "the signal keeps dropping in the afternoon",
        "I was charged for a plan I left",
        "mobile data stops working abroad",
        "my new phone shows no service",
    ),
}

TEMPLATES = (
    TaskTemplate(
        "check_bill",
        Difficulty.EASY,
        "You want to see what invoice {invoice_id} says.",
        "SELECT id AS invoice_id FROM invoices WHERE subscriber_id = :user_id",
        ("invoice_details",),
    ),
    TaskTemplate(
        "browse_plans",
        Difficulty.EASY,
        "You are thinking of a new contract and want to see the {kind} plans on offer.",
        "SELECT DISTINCT kind FROM plans",
        ("plans_of_kind",),
    ),
    TaskTemplate(
        "whose_line",
        Difficulty.EASY,
        "You want to know which bills your line {phone_number} has and which plan it is on.",
        "SELECT phone_number FROM subscribers WHERE id = :user_id",
        ("invoices_by_phone", "plan_by_phone"),
    ),
    TaskTemplate(
        "settle_bill",
        Difficulty.MEDIUM,
        "You are subscriber {subscriber_id}: review your bills, then record the payment of invoice {invoice_id}.",
        "SELECT subscriber_id, id AS invoice_id FROM invoices WHERE status != 'paid' AND subscriber_id = :user_id",
        ("subscriber_invoices", "pay_invoice"),
    ),
    TaskTemplate(
        "switch_plan",
        Difficulty.MEDIUM,
        "You are subscriber {subscriber_id}; find out your current plan, look at the {kind} "
        "plans, and switch to plan {plan_id}.",
        "SELECT s.id AS subscriber_id, p.kind AS kind, p.id AS plan_id FROM subscribers s "
        "JOIN plans p ON p.id != s.plan_id WHERE s.status = 'active' AND s.id = :user_id",
        ("current_plan", "plans_of_kind", "change_plan"),
    ),
    TaskTemplate(
        "lost_phone",
        Difficulty.MEDIUM,
        "Your phone ({phone_number}, subscriber {subscriber_id}) was stolen: find the account and suspend the line.",
        "SELECT id AS subscriber_id, phone_number FROM subscribers WHERE status = 'active' AND id = :user_id",
        ("subscriber_by_phone", "suspend_line"),
    ),
    TaskTemplate(
        "billing_dispute",
        Difficulty.HARD,
        "You ({phone_number}, subscriber {subscriber_id}) think a bill is wrong: go through "
        "your invoices and billing summary, open a {category} ticket ({summary}), and check it "
        "was filed.",
        "SELECT id AS subscriber_id, phone_number FROM subscribers WHERE id = :user_id",
        ("invoices_by_phone", "billing_by_phone", "open_ticket", "subscriber_tickets"),
        _ISSUE_POOL,
    ),
    TaskTemplate(
        "account_tidy_up",
        Difficulty.HARD,
        "You are subscriber {subscriber_id}: check your account, update your email to "
        "{new_email}, see which plan you are on, pay invoice {invoice_id} and review your "
        "billing summary.",
        "SELECT i.subscriber_id, i.id AS invoice_id, s.email FROM invoices i JOIN subscribers s ON s.id ="
        " i.subscriber_id WHERE i.status != 'paid' AND i.subscriber_id = :user_id",
        ("account_by_email", "update_subscriber_email", "current_plan", "pay_invoice", "billing_summary"),
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
        "pay_up",
        Difficulty.MEDIUM,
        "You want to see the bills on your line {phone_number} and pay one that is unpaid.",
        "SELECT s.phone_number AS phone_number FROM subscribers s WHERE s.id = :user_id "
        "AND EXISTS (SELECT 1 FROM invoices i WHERE i.subscriber_id = s.id AND i.status = 'unpaid')",
        ("invoices_by_phone", "pay_my_bill"),
    ),
)


PACK = DomainPack(
    name="telecom",
    title="Mobile operator",
    description="A mobile operator: plans, subscribers, invoices and support tickets.",
    schema_sql=SCHEMA_SQL,
    populate=populate,
    intents=INTENTS + chains.TELECOM_INTENTS,
    templates=TEMPLATES + chains.TELECOM_TASKS,
)
