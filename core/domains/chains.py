"""Requests made from what the user has or knows, for the built-in packs: chains of look-ups.

A user knows their own record (their email), their order's date, a product or doctor by name; a
question about what compares with it takes several look-ups, each using what the one before found:
their plan, then the plans that cost no more; the product of their order, then others in its
category; the doctor of their visit, then doctors of the same specialty. Each pack adds these
intents and the task templates that ask for them (`clinic.PACK` and the others).
"""

from __future__ import annotations

from turnloom.core.domains.base import Intent, TaskTemplate, ToolStep
from turnloom.core.models import Difficulty

S = ToolStep
_VISIT_DATES = ("2025-11-04", "2025-11-18", "2025-12-02", "2025-12-09", "2025-12-16")


# -- clinic
CLINIC_INTENTS = (
    Intent(
        "second_opinion",
        "find the doctors in the specialty of the doctor the patient with email {email} saw on {seen_on}",
        (
            "For a second opinion on my visit of {seen_on}, who shares that doctor's specialty? I'm {email}.",
            "Which doctors work in the same field as the one I saw on {seen_on}? My email is {email}.",
            "Who else could I see about my visit of {seen_on}? I'm {email}.",
            "List the specialists in the same area as my doctor from {seen_on}, please. I'm {email}.",
        ),
        {"seen_on": "date", "email": "email"},
        (
            S("get_patient_by_email", {"email": "{email}"}),
            S("search_appointments", {"patient_id": "$prev.id", "visit_date": "{seen_on}"}),
            S("get_doctor_by_id", {"id": "$prev.doctor_id"}),
            S("search_doctors", {"specialty": "$prev.specialty"}),
        ),
        ("second opinion", "same field", "same specialty"),
    ),
    Intent(
        "prescribed_by",
        "see what {doctor_name} prescribed the patient with email {email}",
        (
            "What did {doctor_name} prescribe me? I'm {email}.",
            "Which medicines did I get from {doctor_name}? My email is {email}.",
            "I lost the note: what was I prescribed by {doctor_name}? I'm {email}.",
            "Remind me what {doctor_name} gave me, please. I'm {email}.",
        ),
        {"doctor_name": "name", "email": "email"},
        (
            S("get_patient_by_email", {"email": "{email}"}),
            S("search_doctors", {"name": "{doctor_name}"}),
            S("search_appointments", {"patient_id": "$0.id", "doctor_id": "$1.id", "status": "completed"}),
            S("get_appointment_prescriptions", {"appointment_id": "$prev.id"}),
        ),
        ("lost the note", "gave me", "prescribe me"),
    ),
)

CLINIC_TASKS = (
    TaskTemplate(
        "lost_note",
        Difficulty.EASY,
        "You ({email}) lost the note from your visit with {doctor_name} and want to know what you were prescribed.",
        # the patient's only completed visit with that doctor, with something prescribed
        "SELECT p.email AS email, d.name AS doctor_name FROM appointments a JOIN patients p ON p.id = a.patient_id "
        "JOIN doctors d ON d.id = a.doctor_id WHERE p.id = :user_id AND a.status = 'completed' "
        "AND EXISTS (SELECT 1 FROM prescriptions r WHERE r.appointment_id = a.id) "
        "AND (SELECT COUNT(*) FROM appointments s WHERE s.patient_id = p.id AND s.doctor_id = a.doctor_id "
        "AND s.status = 'completed') = 1",
        ("prescribed_by",),
    ),
    TaskTemplate(
        "second_look",
        Difficulty.MEDIUM,
        "You ({email}, patient {patient_id}) want a second opinion on your visit of {seen_on}: see who practises "
        "the same specialty and book doctor {doctor_id} on {visit_date} for {reason}.",
        # a completed visit, the patient's only one that day, and another doctor of its specialty
        "SELECT p.email AS email, p.id AS patient_id, a.visit_date AS seen_on, o.id AS doctor_id "
        "FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN doctors d ON d.id = a.doctor_id "
        "JOIN doctors o ON o.specialty = d.specialty AND o.id != d.id "
        "WHERE p.id = :user_id AND a.status = 'completed' "
        "AND (SELECT COUNT(*) FROM appointments s WHERE s.patient_id = p.id AND s.visit_date = a.visit_date) = 1",
        ("second_opinion", "book_appointment"),
        {"visit_date": _VISIT_DATES, "reason": ("a second opinion", "a follow-up on my last visit")},
    ),
)


# -- football
FOOTBALL_INTENTS = (
    Intent(
        "position_rivals",
        "find the players at {player_name}'s club who play in the same position",
        (
            "Who plays the same position as {player_name} at the same club?",
            "Which of {player_name}'s teammates play in the same position?",
            "Who competes with {player_name} for a place in the side, in the same position?",
            "List the players at {player_name}'s club who share that position.",
        ),
        {"player_name": "name"},
        (
            S("search_players", {"name": "{player_name}"}),
            S("search_players", {"club_id": "$prev.club_id", "position": "$prev.position"}),
        ),
        ("same position", "place in the side"),
    ),
    Intent(
        "club_value_of_player",
        "find out what the squad of {player_name}'s club is worth",
        (
            "What is the squad of {player_name}'s club worth?",
            "How much is the roster {player_name} plays in valued at?",
            "Add up the market values of the squad {player_name} belongs to.",
            "What's the combined value of {player_name}'s club's players?",
        ),
        {"player_name": "name"},
        (
            S("search_players", {"name": "{player_name}"}),
            S("get_club_players_summary", {"club_id": "$prev.club_id"}),
        ),
        ("combined value", "belongs to"),
    ),
)

FOOTBALL_TASKS = (
    TaskTemplate(
        "depth_chart",
        Difficulty.EASY,
        "You follow {player_name} and want to know who competes with them for a place, and what their squad is worth.",
        "SELECT p.name AS player_name FROM players p WHERE (SELECT COUNT(*) FROM players n WHERE n.name = p.name) = 1 "
        "AND EXISTS (SELECT 1 FROM players o WHERE o.club_id = p.club_id AND o.position = p.position AND o.id != p.id)",
        ("position_rivals", "club_value_of_player"),
    ),
)


# -- retail
RETAIL_INTENTS = (
    Intent(
        "more_like_my_order",
        "find products in the same category as what the customer with email {email} ordered on {order_date}",
        (
            "What else do you sell like what I ordered on {order_date}? I'm {email}.",
            "Do you have anything else like my order of {order_date}? My email is {email}.",
            "Which products share a category with my purchase of {order_date}? I'm {email}.",
            "Show me more like what I bought on {order_date}, please. I'm {email}.",
        ),
        {"order_date": "date", "email": "email"},
        (
            S("get_customer_by_email", {"email": "{email}"}),
            S("search_orders", {"customer_id": "$prev.id", "order_date": "{order_date}"}),
            S("get_order_order_items", {"order_id": "$prev.id"}),
            S("get_product_by_id", {"id": "$prev.product_id"}),
            S("search_products", {"category": "$prev.category"}),
        ),
        ("anything else like", "share a category"),
    ),
    Intent(
        "cheaper_alternatives",
        "find products in the same category as {product_name} that cost no more",
        (
            "Is there anything like the {product_name} that costs no more?",
            "What else like the {product_name} is at its price or below?",
            "Which products like the {product_name} are no dearer?",
            "Find me alternatives to the {product_name} at the same price or less.",
        ),
        {"product_name": "name"},
        (
            S("search_products", {"name": "{product_name}"}),
            S("search_products", {"category": "$prev.category", "max_price": "$prev.price"}),
        ),
        ("alternatives", "no dearer", "costs no more"),
    ),
    Intent(
        "order_again_stock",
        "find out whether what the customer with email {email} ordered on {order_date} is in stock again",
        (
            "Can I buy again what I ordered on {order_date}? I'm {email}.",
            "Is what I bought on {order_date} still available? My email is {email}.",
            "Do you still have what I ordered on {order_date}, and at what price? I'm {email}.",
            "Is my purchase of {order_date} in stock right now? I'm {email}.",
        ),
        {"order_date": "date", "email": "email"},
        (
            S("get_customer_by_email", {"email": "{email}"}),
            S("search_orders", {"customer_id": "$prev.id", "order_date": "{order_date}"}),
            S("get_order_order_items", {"order_id": "$prev.id"}),
            S("get_product_by_id", {"id": "$prev.product_id"}),
        ),
        ("buy again", "still available"),
    ),
)

RETAIL_TASKS = (
    TaskTemplate(
        "more_like_it",
        Difficulty.EASY,
        "You ({email}) liked what you ordered on {order_date} and want to see more of its kind.",
        # an order of one item, the customer's only one of that date: "what I ordered on ..." names one product
        "SELECT c.email AS email, o.order_date AS order_date FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE c.id = :user_id AND o.status != 'cancelled' "
        "AND (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) = 1 "
        "AND (SELECT COUNT(*) FROM orders d WHERE d.customer_id = o.customer_id AND d.order_date = o.order_date) = 1",
        ("more_like_my_order",),
    ),
    TaskTemplate(
        "buy_it_again",
        Difficulty.MEDIUM,
        "You ({email}) want to buy again what you ordered on {order_date}: is it in stock, and what else is there "
        "like it?",
        # an order of one item, the customer's only one of that date: "what I ordered on ..." names one product
        "SELECT c.email AS email, o.order_date AS order_date FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE c.id = :user_id AND o.status = 'delivered' "
        "AND (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) = 1 "
        "AND (SELECT COUNT(*) FROM orders d WHERE d.customer_id = o.customer_id AND d.order_date = o.order_date) = 1",
        ("order_again_stock", "more_like_my_order"),
    ),
    TaskTemplate(
        "compare_prices",
        Difficulty.EASY,
        "You are looking at {product_name} and want alternatives in its category that cost no more.",
        "SELECT p.name AS product_name FROM products p WHERE (SELECT COUNT(*) FROM products n WHERE n.name = p.name) = 1 "
        "AND EXISTS (SELECT 1 FROM products o WHERE o.category = p.category AND o.price < p.price)",
        ("cheaper_alternatives",),
    ),
)


# -- telecom
TELECOM_INTENTS = (
    Intent(
        "more_data_plans",
        "find {kind} plans with at least as much data as the plan of the subscriber with email {email}",
        (
            "Which {kind} plans give me at least as much data as I have now? I'm {email}.",
            "What {kind} plans match or beat my current data allowance? My email is {email}.",
            "Are there {kind} plans with no less data than my plan? I'm {email}.",
            "List the {kind} plans with as much data as mine or more, please. I'm {email}.",
        ),
        {"kind": "word", "email": "email"},
        (
            S("get_subscriber_by_email", {"email": "{email}"}),
            S("get_plan_by_id", {"id": "$prev.plan_id"}),
            S("search_plans", {"kind": "{kind}", "min_data_gb": "$prev.data_gb"}),
        ),
        ("at least as much data", "more data"),
    ),
    Intent(
        "cheaper_plans",
        "find {kind} plans that cost no more than the plan of the subscriber with email {email}",
        (
            "Which {kind} plans cost no more than what I pay now? I'm {email}.",
            "Are there {kind} plans at or below my monthly fee? My email is {email}.",
            "Is any {kind} plan no dearer than mine? I'm {email}.",
            "What {kind} plans would not cost me more than my current one? I'm {email}.",
        ),
        {"kind": "word", "email": "email"},
        (
            S("get_subscriber_by_email", {"email": "{email}"}),
            S("get_plan_by_id", {"id": "$prev.plan_id"}),
            S("search_plans", {"kind": "{kind}", "max_monthly_fee": "$prev.monthly_fee"}),
        ),
        ("pay less", "cheaper"),
    ),
)

TELECOM_TASKS = (
    TaskTemplate(
        "cheaper_plan",
        Difficulty.EASY,
        "You ({email}) pay too much and want to see the {kind} plans that cost no more than yours.",
        "SELECT s.email AS email, k.kind AS kind FROM subscribers s JOIN plans p ON p.id = s.plan_id "
        "JOIN (SELECT DISTINCT kind FROM plans) k WHERE s.id = :user_id "
        "AND EXISTS (SELECT 1 FROM plans o WHERE o.kind = k.kind AND o.monthly_fee <= p.monthly_fee)",
        ("cheaper_plans",),
    ),
    TaskTemplate(
        "more_data",
        Difficulty.MEDIUM,
        "You ({email}, subscriber {subscriber_id}) run out of data: see which {kind} plans give at least as much "
        "as yours, and switch to plan {plan_id}.",
        "SELECT s.email AS email, s.id AS subscriber_id, o.kind AS kind, o.id AS plan_id FROM subscribers s "
        "JOIN plans p ON p.id = s.plan_id JOIN plans o ON o.data_gb > p.data_gb "
        "WHERE s.id = :user_id AND s.status = 'active'",
        ("more_data_plans", "change_plan"),
    ),
)
