"""Make shop.db, the small SQLite database of the desktop example (run it once)."""

import sqlite3
from pathlib import Path

DB = Path(__file__).with_name("shop.db")

SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    placed_on TEXT NOT NULL,
    total_eur REAL NOT NULL
);
INSERT INTO customers VALUES (1, 'Ada Lovelace', 'London'), (2, 'Grace Hopper', 'New York'),
    (3, 'Margaret Hamilton', 'Boston');
INSERT INTO orders VALUES (1, 1, '2026-11-02', 120.0), (2, 2, '2026-11-15', 75.5),
    (3, 1, '2026-12-01', 42.0), (4, 3, '2026-12-03', 310.25);
"""

if __name__ == "__main__":
    DB.unlink(missing_ok=True)
    with sqlite3.connect(DB) as connection:
        connection.executescript(SCHEMA)
    connection.close()
    print(f"wrote {DB}")
