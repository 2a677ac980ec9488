"""Shared fixtures. SQL-environment fixtures are prefixed `sql_`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

SQL_SHOP_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    tier TEXT NOT NULL DEFAULT 'standard' CHECK (tier IN ('standard', 'gold')),
    active BOOLEAN NOT NULL DEFAULT 1,
    joined_on DATE
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'shipped')),
    total REAL NOT NULL DEFAULT 0 CHECK (total >= 0),
    note TEXT
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price REAL NOT NULL
);
INSERT INTO customers (name, email, tier, joined_on) VALUES
    ('Ana Lopez', 'ana@example.com', 'gold', '2024-01-05'),
    ('Ben Okafor', 'ben@example.com', 'standard', '2024-02-11'),
    ('Chen Wei', 'chen@example.com', 'standard', NULL);
INSERT INTO orders (customer_id, status, total, note) VALUES
    (1, 'shipped', 30.5, 'leave at door'),
    (1, 'pending', 12.0, NULL),
    (2, 'pending', 99.99, NULL);
INSERT INTO order_items (order_id, sku, quantity, unit_price) VALUES
    (1, 'SKU-1', 2, 10.25), (1, 'SKU-2', 1, 10.0), (2, 'SKU-1', 1, 12.0), (3, 'SKU-3', 3, 33.33);
"""


def _write_db(path: Path, script: str) -> Path:
    """Write a real SQLite file at `path` from a SQL script."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
        conn.commit()
    finally:
        conn.close()
    return path


@pytest.fixture
def sql_shop_path(tmp_path: Path) -> Path:
    """A small shop database file: customers, orders, order_items."""
    return _write_db(tmp_path / "shop.sqlite", SQL_SHOP_SCHEMA)


@pytest.fixture
def sql_shop_image(sql_shop_path: Path) -> bytes:
    """The shop database as a base image."""
    from turnloom.core.tools.dbimage import load_database_image

    return load_database_image(sql_shop_path)


@pytest.fixture
def sql_image_from(tmp_path: Path):
    """A factory: SQL script -> base image, going through a real file."""
    from turnloom.core.tools.dbimage import load_database_image

    def build(script: str, name: str = "custom.sqlite") -> bytes:
        return load_database_image(_write_db(tmp_path / name, script))

    return build
