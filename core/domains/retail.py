"""The retail pack: customers, products, orders and their line items.

A small online shop. Users check orders, browse the catalogue, change where an
order ships, cancel orders, adjust prices and open new accounts.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from turnloom.core.domains import chains
from turnloom.core.domains.base import DomainPack, Intent, TaskTemplate, ToolStep
from turnloom.core.models import Difficulty

SCHEMA_SQL = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    city TEXT NOT NULL,
    tier TEXT NOT NULL DEFAULT 'standard' CHECK (tier IN ('standard', 'silver', 'gold')),
    joined_on DATE
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL
        CHECK (category IN ('electronics', 'kitchen', 'garden', 'books', 'toys')),
    price REAL NOT NULL,
    stock INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'shipped', 'delivered', 'cancelled')),
    order_date DATE NOT NULL,
    shipping_city TEXT NOT NULL,
    total REAL NOT NULL DEFAULT 0
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL
);
"""

_FIRST = (
    "Ana",
    "Bruno",
    "Clara",
    "Diego",
    "Elena",
    "Felix",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Karin",
    "Liam",
    "Maya",
    "Nora",
    "Omar",
    "Paula",
    "Rafael",
    "Sofia",
    "Tomas",
    "Vera",
)
_LAST = (
    "Lopez",
    "Meyer",
    "Novak",
    "Silva",
    "Rossi",
    "Dubois",
    "Jensen",
    "Costa",
    "Fischer",
    "Moreau",
    "Kowalski",
    "Haas",
    "Berg",
    "Santos",
    "Larsen",
)
_CITIES = ("Lisbon", "Porto", "Madrid", "Lyon", "Berlin", "Vienna", "Milan", "Dublin", "Oslo", "Krakow")
_PRODUCTS = (
    ("electronics", "Wireless Mouse", 24.99),
    ("electronics", "USB Keyboard", 39.5),
    ("electronics", "Noise Cancelling Headphones", 189.0),
    ("electronics", "Desk Lamp", 32.0),
    ("kitchen", "Chef Knife", 59.9),
    ("kitchen", "Cast Iron Pan", 44.0),
    ("kitchen", "Espresso Maker", 129.0),
    ("kitchen", "Salad Bowl", 18.75),
    ("garden", "Garden Hose", 27.3),
    ("garden", "Pruning Shears", 21.0),
    ("garden", "Watering Can", 15.5),
    ("books", "Sourdough Baking", 22.0),
    ("books", "Mountain Trails", 19.9),
    ("books", "The Quiet Sea", 14.5),
    ("toys", "Wooden Train Set", 49.0),
    ("toys", "Puzzle Cube", 9.99),
    ("toys", "Kite", 16.0),
)
_STATUSES = ("pending", "pending", "shipped", "delivered", "delivered", "cancelled")


def _day(rng: random.Random, start: int = 0, end: int = 364) -> str:
    return (date(2025, 1, 1) + timedelta(days=rng.randint(start, end))).isoformat()


def populate(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Insert the seeded shop: 20 customers, 17 products, 36 orders with items."""
    people = rng.sample([(f, s) for f in _FIRST for s in _LAST], 20)
    for i, (first, last) in enumerate(people, start=1):
        conn.execute(
            "INSERT INTO customers (id, name, email, city, tier, joined_on) VALUES (?,?,?,?,?,?)",
            (
                i,
                f"{first} {last}",
                f"{first.lower()}.{last.lower()}@example.com",
                rng.choice(_CITIES),
                rng.choice(("standard", "standard", "silver", "gold")),
                _day(rng, 0, 120),
            ),
        )
    for i, (category, name, price) in enumerate(_PRODUCTS, start=1):
        conn.execute(
            "INSERT INTO products (id, sku, name, category, price, stock) VALUES (?,?,?,?,?,?)",
            (i, f"SKU-{1000 + i * 7}", name, category, price, rng.randint(0, 80)),
        )
    item_id = 0
    for order_id in range(1, 37):
        customer_id = rng.randint(1, 20)
        city = conn.execute("SELECT city FROM customers WHERE id = ?", (customer_id,)).fetchone()[0]
        status = _STATUSES[order_id % len(_STATUSES)]
        conn.execute(
            "INSERT INTO orders (id, customer_id, status, order_date, shipping_city, total) VALUES (?,?,?,?,?,0)",
            (order_id, customer_id, status, _day(rng, 120, 330), city),
        )
        total = 0.0
        for product_id in rng.sample(range(1, len(_PRODUCTS) + 1), rng.randint(1, 3)):
            item_id += 1
            quantity = rng.randint(1, 3)
            price = _PRODUCTS[product_id - 1][2]
            total += quantity * price
            conn.execute(
                "INSERT INTO order_items (id, order_id, product_id, quantity, unit_price) VALUES (?,?,?,?,?)",
                (item_id, order_id, product_id, quantity, price),
            )
        conn.execute("UPDATE orders SET total = ? WHERE id = ?", (round(total, 2), order_id))


S = ToolStep

INTENTS = (
    Intent(
        "order_status",
        "check the status of order {order_id}",
        (
            "Where is my order {order_id}?",
            "Has order {order_id} been delivered?",
            "Any news on order {order_id}?",
            "What's happening with order number {order_id}?",
            "What's the status of order {order_id}?",
            "Could you check on order #{order_id} for me?",
            "Has order number {order_id} shipped yet?",
            "I'd like an update on my order {order_id}, please.",
            "Is order {order_id} on its way?",
            "Where has order {order_id} got to?",
            "Has order {order_id} gone out yet?",
            "Tell me how order {order_id} is getting on.",
        ),
        {"order_id": "int"},
        (S("get_order_by_id", {"id": "{order_id}"}),),
        ("status", "shipped", "update"),
    ),
    Intent(
        "product_details",
        "look up product {product_id}",
        (
            "What's product {product_id}?",
            "Give me the details of product {product_id}.",
            "How much is product {product_id} and is it in stock?",
            "Can you tell me about product {product_id}?",
            "What does product number {product_id} cost?",
            "Show me the details of product #{product_id}.",
            "What can you tell me about product {product_id}?",
            "Is product {product_id} any good, and what does it cost?",
            "Look up product {product_id} for me.",
        ),
        {"product_id": "int"},
        (S("get_product_by_id", {"id": "{product_id}"}),),
        ("product", "cost", "details"),
    ),
    Intent(
        "product_by_sku",
        "find the product with SKU {sku}",
        (
            "What is {sku}? I found the code on a receipt.",
            "Do you have {sku} in stock?",
            "Find the product with the code {sku}.",
            "Look up the item with SKU {sku}, please.",
            "Which product has the code {sku}?",
            "Is SKU {sku} in stock?",
            "My receipt says {sku}. What product is that?",
            "Is {sku} still available?",
            "Tell me about the item coded {sku}.",
            "Can you check what {sku} is and how many you have?",
            "I have the code {sku}. Which product is it?",
            "Check the stock of {sku} for me.",
            "What can you tell me about {sku}?",
            "Do you still sell {sku}?",
            "Tell me what {sku} is.",
            "How many {sku} do you have left?",
        ),
        {"sku": "word"},
        (S("get_product_by_sku", {"sku": "{sku}"}),),
        ("sku", "code", "stock"),
    ),
    Intent(
        "customer_by_email",
        "pull up the customer account registered to {email}",
        (
            "Who is the customer with the email {email}?",
            "Look up the customer registered as {email}.",
            "Is there an account for {email}?",
            "Can you pull up the account for {email}?",
            "Which customer is registered under {email}?",
            "Find the customer profile with email address {email}.",
            "Do you have someone on file as {email}?",
            "Could you tell me whose account {email} belongs to?",
            "Check whether {email} has an account with you.",
            "Whose customer account uses {email}?",
            "Is anyone registered with the address {email}?",
            "Tell me who has the account {email}.",
            "Find out whether {email} is a customer here.",
            "Bring up the customer profile for {email}.",
        ),
        {"email": "email"},
        (S("get_customer_by_email", {"email": "{email}"}),),
        ("account", "profile", "registered"),
    ),
    Intent(
        "products_in_category",
        "browse the {category} products",
        (
            "What have you got in {category}?",
            "I'm looking for {category} products. What's available?",
            "Which {category} items do you carry?",
            "Anything in {category} at the moment?",
            "Show me the products in the {category} category.",
            "What do you sell in {category}?",
            "List your {category} items, please.",
            "I'm shopping for {category}. What can you show me?",
            "What {category} things do you have in stock?",
            "Got anything in the {category} line?",
            "Can I see what you have in {category}?",
            "I'd like to browse your {category} range.",
            "Is there anything new in {category}?",
            "What {category} products do you have for sale?",
            "Go through your {category} section with me.",
        ),
        {"category": "word"},
        (S("search_products", {"category": "{category}"}),),
        ("category", "sell", "browse"),
    ),
    Intent(
        "customer_orders",
        "list the orders placed by customer {customer_id}",
        (
            "What has customer {customer_id} ordered?",
            "List what customer {customer_id} bought.",
            "Which orders has customer {customer_id} placed?",
            "List all orders for customer number {customer_id}.",
            "Show me the order history of customer #{customer_id}.",
            "Go through the orders of customer {customer_id}.",
            "Which purchases has customer {customer_id} made?",
        ),
        {"customer_id": "int"},
        (S("get_customer_orders", {"customer_id": "{customer_id}"}),),
        ("history", "placed", "orders"),
    ),
    Intent(
        "customer_spend",
        "find out how much customer {customer_id} has spent",
        (
            "What has customer {customer_id} spent altogether?",
            "Add up the orders of customer {customer_id}.",
            "How much has customer {customer_id} spent in total?",
            "Give me a spending summary for customer {customer_id}.",
            "What's the total spend of customer #{customer_id}?",
            "Total up the spending of customer {customer_id}.",
            "How much money has customer {customer_id} put into orders?",
        ),
        {"customer_id": "int"},
        (S("get_customer_orders_summary", {"customer_id": "{customer_id}"}),),
        ("spent", "spend", "summary"),
    ),
    Intent(
        "orders_by_email",
        "see every order on the account with email {email}",
        (
            "What have I ordered so far? My email is {email}.",
            "List my orders, please. The account is {email}.",
            "Can you show me my order history? I'm registered as {email}.",
            "What orders are on the account with email {email}?",
            "Show me every order placed under {email}.",
            "I need the list of orders for {email}.",
            "Which orders have I placed? My email is {email}.",
            "Go through my orders; the account is under {email}.",
            "I've lost track of what I ordered. My email is {email}.",
        ),
        {"email": "email"},
        (S("get_customer_by_email", {"email": "{email}"}), S("get_customer_orders", {"customer_id": "$prev.id"})),
        ("email", "list", "every"),
    ),
    Intent(
        "spend_by_email",
        "find out how much the account with email {email} has spent",
        (
            "What have I spent with you in total? The account is {email}.",
            "Add up my orders, please. I'm registered as {email}.",
            "How much have I spent so far? My account email is {email}.",
            "What's the total spend on the account under {email}?",
            "Give me a spending summary for the account with email {email}.",
            "How much money have I put into orders? My email is {email}.",
            "Could you tell me what my orders have cost me so far? I'm registered as {email}.",
            "What do my orders come to altogether? The account is {email}.",
            "How much have I bought from you overall? My email is {email}.",
            "I want to know my total spending; the account is {email}.",
            "Tell me what I've spent on orders so far. I'm registered as {email}.",
            "What does my spending come to? My email address is {email}.",
            "Work out what I've spent with you. The account is {email}.",
            "Tell me my total spend; I'm registered as {email}.",
            "What's the grand total of my orders? My email is {email}.",
        ),
        {"email": "email"},
        (
            S("get_customer_by_email", {"email": "{email}"}),
            S("get_customer_orders_summary", {"customer_id": "$prev.id"}),
        ),
        ("spending", "spend on"),
    ),
    Intent(
        "order_items",
        "see which items are in order {order_id}",
        (
            "What did I buy in order {order_id}?",
            "List the products in order {order_id}.",
            "What's inside order number {order_id}?",
            "What items are in order {order_id}?",
            "Which products did order #{order_id} contain?",
            "Break down the contents of order number {order_id} for me.",
            "I can't remember what I got in order {order_id}. What was it?",
            "What came in order {order_id}?",
            "Tell me what was in order {order_id}.",
            "Go through the items of order {order_id}.",
            "Which things did I get in order {order_id}?",
        ),
        {"order_id": "int"},
        (S("get_order_order_items", {"order_id": "{order_id}"}),),
        ("items", "contents", "contain"),
    ),
    Intent(
        "change_shipping_city",
        "have order {order_id} shipped to {new_city} instead",
        (
            "Order {order_id} needs to go to {new_city} now.",
            "Redirect order {order_id} to {new_city}, please.",
            "Send order {order_id} to {new_city} rather than the old address.",
            "Please change the shipping city of order {order_id} to {new_city}.",
            "Can you ship order {order_id} to {new_city} instead?",
            "I moved, so order #{order_id} should go to {new_city} now.",
            "Ship order {order_id} to {new_city}, please.",
            "Change where order {order_id} goes: {new_city}.",
            "Could order {order_id} be delivered in {new_city} instead?",
        ),
        {"order_id": "int", "new_city": "name"},
        (
            S("get_order_by_id", {"id": "{order_id}"}),
            S("update_order_shipping_city", {"id": "{order_id}", "shipping_city": "{new_city}"}),
        ),
        ("ship", "city", "moved"),
        verify="order_status",
    ),
    Intent(
        "cancel_order",
        "cancel order {order_id}",
        (
            "Call off order {order_id}, please.",
            "I changed my mind about order {order_id}, cancel it.",
            "Stop order {order_id}, I don't need it.",
            "Please cancel order {order_id}.",
            "I don't want order #{order_id} anymore, can you cancel it?",
            "Cancel my order number {order_id}, please.",
            "I'd like order {order_id} cancelled.",
            "Scrap order {order_id}, please.",
            "Order {order_id} is no longer needed; please cancel it.",
        ),
        {"order_id": "int"},
        (
            S("get_order_by_id", {"id": "{order_id}"}),
            S("update_order_status", {"id": "{order_id}", "status": "cancelled"}),
        ),
        ("cancel", "anymore", "cancelled"),
        verify="order_status",
    ),
    Intent(
        "register_customer",
        "open a new customer account for {name} ({email}) in {city}",
        (
            "Create a customer account: {name}, email {email}, city {city}.",
            "Add a new customer named {name} ({email}) from {city}.",
            "Please open a new account for {name} with email {email} in {city}.",
            "I'd like to register {name}, email {email}, living in {city}.",
            "Sign up a new customer: {name}, {email}, based in {city}.",
            "Please set up an account for {name} in {city}, email {email}.",
            "Make a new customer record: {name}, from {city}, e-mail {email}.",
            "{name} from {city} wants an account; the email is {email}.",
            "Open an account for {name}, please: {email}, in {city}.",
            "Enrol {name} as a customer; email {email}, city {city}.",
            "We have a new customer, {name} from {city}, with the email {email}.",
        ),
        {"name": "name", "email": "email", "city": "name"},
        (S("create_customer", {"name": "{name}", "email": "{email}", "city": "{city}"}),),
        ("register", "sign", "new"),
        verify="customer_by_email",
    ),
    Intent(
        "first_order_items",
        "see what was in the first order on the account with email {email}",
        (
            "Remind me what my first order with you contained; the account is {email}.",
            "What was in the first order on my account? It's under {email}.",
            "Can you find my first order and tell me what was in it? My email is {email}.",
            "I'm {email}. Which products were in the very first order I placed?",
            "Look up the account {email}, find its first order and list the items in it.",
            "What did I buy in my first order? My email is {email}.",
            "Which items came in the first order I ever placed? I'm registered as {email}.",
            "My very first order: what was in it? The account is {email}.",
            "Go back to my first order and tell me what I bought. My email is {email}.",
            "Dig up my first order and list what's in it; the account is {email}.",
            "Tell me the items of the first order I placed. My email is {email}.",
        ),
        {"email": "email"},
        (
            S("get_customer_by_email", {"email": "{email}"}),
            S("get_customer_orders", {"customer_id": "$prev.id"}),
            S("get_order_order_items", {"order_id": "$prev.id"}),
        ),
        ("first order", "very first"),
    ),
    Intent(
        "cancel_my_pending",
        "cancel the pending order on the account with email {email}",
        (
            "I no longer need the order that's still pending. Please cancel it; I'm registered as {email}.",
            "Please cancel my pending order. My account email is {email}.",
            "I'd like to cancel the order that hasn't shipped yet, under {email}.",
            "Can you find the pending order on {email} and cancel it?",
            "Cancel whatever is still pending on my account, {email}.",
            "Please cancel the order I haven't received yet; my email is {email}.",
            "I want my pending order cancelled. I'm registered as {email}.",
        ),
        {"email": "email"},
        (
            S("get_customer_by_email", {"email": "{email}"}),
            S("search_orders", {"customer_id": "$prev.id", "status": "pending"}),
            S("update_order_status", {"id": "$prev.id", "status": "cancelled"}),
        ),
        ("hasn't shipped", "still pending"),
        verify="orders_by_email",
    ),
    Intent(
        "move_my_pending",
        "have the pending order on the account with email {email} shipped to {new_city}",
        (
            "My pending order should go to {new_city} now. The account is {email}.",
            "Please send my pending order to {new_city} instead. My account email is {email}.",
            "I've moved to {new_city}; can the order that hasn't shipped yet go there? I'm {email}.",
            "Redirect whatever is still pending on {email} to {new_city}, please.",
            "Could my pending order be sent to {new_city}? My email is {email}.",
            "I'm now living in {new_city}; please send my pending order there. The account is {email}.",
        ),
        {"email": "email", "new_city": "name"},
        (
            S("get_customer_by_email", {"email": "{email}"}),
            S("search_orders", {"customer_id": "$prev.id", "status": "pending"}),
            S("update_order_shipping_city", {"id": "$prev.id", "shipping_city": "{new_city}"}),
        ),
        ("redirect", "send my"),
        verify="orders_by_email",
    ),
)

_NEW_CITIES = ("Seville", "Bordeaux", "Hamburg", "Turin", "Bergen", "Gdansk")
# a new account's name and email are drawn together, so they belong to the same person
_NEW_PEOPLE: dict[str, tuple] = {
    "name+email": (
        ("Iris Walker", "iris.walker@example.com"),
        ("Mateo Ruiz", "mateo.ruiz@example.com"),
        ("Lena Vogel", "lena.vogel@example.com"),
        ("Noah Keller", "noah.keller@example.com"),
        ("Alma Petrov", "alma.petrov@example.com"),
    ),
    "city": _NEW_CITIES,
}

TEMPLATES = (
    TaskTemplate(
        "check_order",
        Difficulty.EASY,
        "You want to know the status of order {order_id} and which items it contains.",
        "SELECT id AS order_id FROM orders WHERE customer_id = :user_id",
        ("order_status", "order_items"),
    ),
    TaskTemplate(
        "find_by_sku",
        Difficulty.EASY,
        "You want the details of the product with SKU {sku} and of product {product_id}, another item in its category.",
        "SELECT p.sku AS sku, q.id AS product_id FROM products p "
        "JOIN products q ON q.category = p.category AND q.id != p.id",
        ("product_by_sku", "product_details"),
    ),
    TaskTemplate(
        "browse_category",
        Difficulty.EASY,
        "You are shopping for {category} products and want to see what the shop sells.",
        "SELECT DISTINCT category FROM products",
        ("products_in_category",),
    ),
    TaskTemplate(
        "order_history",
        Difficulty.EASY,
        "You ({email}) want your order history and to know what was in your first order.",
        "SELECT DISTINCT c.email AS email FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = :user_id",
        ("orders_by_email", "first_order_items"),
    ),
    TaskTemplate(
        "review_account",
        Difficulty.MEDIUM,
        "You ({email}) want to review how much you have spent so far and what your first order held.",
        "SELECT c.id AS customer_id, c.email AS email FROM customers c "
        "WHERE c.id = :user_id AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)",
        ("spend_by_email", "first_order_items"),
    ),
    TaskTemplate(
        "redirect_order",
        Difficulty.MEDIUM,
        "You want to check on your pending order {order_id} and have it shipped to {new_city}.",
        "SELECT id AS order_id FROM orders WHERE status = 'pending' AND customer_id = :user_id",
        ("order_status", "change_shipping_city"),
        {"new_city": _NEW_CITIES},
    ),
    TaskTemplate(
        "cancel_pending",
        Difficulty.HARD,
        "You ({email}) want to find your account, list your orders, check pending order {order_id} and then cancel it.",
        "SELECT c.email AS email, o.id AS order_id FROM orders o "
        "JOIN customers c ON c.id = o.customer_id WHERE o.status = 'pending' AND c.id = :user_id",
        ("customer_by_email", "orders_by_email", "order_status", "cancel_order"),
    ),
    TaskTemplate(
        "move_and_review",
        Difficulty.HARD,
        "You (customer {customer_id}, email {email}) want to see your orders and total spend, "
        "check what order {order_id} contains, and have it shipped to {new_city}.",
        "SELECT c.id AS customer_id, c.email AS email, o.id AS order_id FROM orders o "
        "JOIN customers c ON c.id = o.customer_id WHERE o.status = 'pending' AND c.id = :user_id",
        ("orders_by_email", "spend_by_email", "order_items", "change_shipping_city"),
        {"new_city": _NEW_CITIES},
    ),
    TaskTemplate(
        "new_customer",
        Difficulty.HARD,
        "You want to open an account for {name} ({email}), who lives in {city}, confirm it "
        "exists, browse the {category} products and check the item with SKU {sku}.",
        "SELECT DISTINCT p.category AS category, p.sku AS sku FROM products p",
        ("register_customer", "customer_by_email", "products_in_category", "product_by_sku"),
        _NEW_PEOPLE,
    ),
    TaskTemplate(
        "cancel_my_pending",
        Difficulty.MEDIUM,
        "You ({email}) want to see your orders and cancel the one that is still pending.",
        "SELECT c.email AS email FROM customers c WHERE c.id = :user_id "
        "AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'pending')",
        ("orders_by_email", "cancel_my_pending"),
    ),
    TaskTemplate(
        "move_my_pending",
        Difficulty.MEDIUM,
        "You ({email}) want to see what you have spent and have your pending order shipped to {new_city}.",
        "SELECT c.email AS email FROM customers c WHERE c.id = :user_id "
        "AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'pending')",
        ("spend_by_email", "move_my_pending"),
        {"new_city": _NEW_CITIES},
    ),
)


PACK = DomainPack(
    name="retail",
    title="Retail shop",
    description="An online shop: customers, products, orders and order items.",
    schema_sql=SCHEMA_SQL,
    populate=populate,
    intents=INTENTS + chains.RETAIL_INTENTS,
    templates=TEMPLATES + chains.RETAIL_TASKS,
)
