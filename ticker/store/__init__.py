"""The store: one SQLite file, its schema public API (db/README.md).

`schema` defines and migrates it, `writer` is the one writer's side (sqlite-utils), and `reader`
the read-only side (stdlib sqlite3, so read commands start fast).
"""
