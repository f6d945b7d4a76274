CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);

CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");

CREATE TABLE rates (
    code TEXT NOT NULL,        -- ISO 4217 letters: USD, EUR, RUB ...
    date TEXT NOT NULL,        -- YYYY-MM-DD, the Minsk day the rate is in force
    scale INTEGER NOT NULL,    -- the rate is per this many units of `code` (RUB 100, KZT 1000)
    rate REAL NOT NULL,        -- the published value: `unit` per `scale` units of `code`
    rate_text TEXT NOT NULL,   -- the same value exactly as published, trailing zeros kept
    unit TEXT NOT NULL CHECK (unit IN ('BYN', 'BYR', 'BYB')),  -- BYR before 2016-07-01, BYB before 2000
    cur_id INTEGER NOT NULL,   -- NBRB's Cur_ID valid on that day (see currencies)
    fetched_at TEXT NOT NULL, periodicity INTEGER NOT NULL DEFAULT 0 /* 0: a daily rate, in force on `date`; 1: a monthly rate, set on `date` (see rates_in_force) */ CHECK (periodicity IN (0, 1)),  -- UTC ISO-8601, when this value was first stored or last revised
    PRIMARY KEY (code, date)
) WITHOUT ROWID;

CREATE TABLE currencies (
    cur_id INTEGER PRIMARY KEY,  -- NBRB Cur_ID: one row per Cur_ID period
    parent_id INTEGER NOT NULL,  -- Cur_ParentID: the same for every period of one currency
    code TEXT NOT NULL,          -- Cur_Abbreviation
    num_code TEXT NOT NULL,      -- Cur_Code, ISO 4217 numeric
    name TEXT NOT NULL,          -- Cur_Name (Russian)
    name_eng TEXT NOT NULL,      -- Cur_Name_Eng
    scale INTEGER NOT NULL,      -- Cur_Scale in this period
    periodicity INTEGER NOT NULL,  -- 0 daily, 1 monthly
    date_start TEXT NOT NULL,    -- first day of this Cur_ID's validity
    date_end TEXT NOT NULL,      -- last day (2050-01-01 while open)
    fetched_at TEXT NOT NULL     -- UTC ISO-8601, when the catalogue was read
);

CREATE INDEX currencies_code ON currencies (code, date_start);

CREATE TABLE fetches (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,          -- catalogue, fetch or backfill
    detail TEXT NOT NULL,        -- what was asked: dates, currencies
    started_at TEXT NOT NULL,    -- UTC ISO-8601
    finished_at TEXT,            -- UTC ISO-8601; NULL while running or if the process died
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error')),
    rows_new INTEGER NOT NULL DEFAULT 0,
    rows_changed INTEGER NOT NULL DEFAULT 0,
    error TEXT                   -- the one-line error, when status is error
);

CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    date TEXT NOT NULL,
    old_scale INTEGER NOT NULL,
    old_rate_text TEXT NOT NULL,
    new_scale INTEGER NOT NULL,
    new_rate_text TEXT NOT NULL,
    revised_at TEXT NOT NULL,    -- UTC ISO-8601
    fetch_id INTEGER NOT NULL REFERENCES fetches (id)
);

CREATE INDEX revisions_code_date ON revisions (code, date);

CREATE VIEW rates_byn AS
SELECT code, date, scale, rate, rate_text, unit, cur_id,
       rate / scale / CASE unit WHEN 'BYR' THEN 10000.0 WHEN 'BYB' THEN 10000000.0 ELSE 1.0 END
           AS byn_per_unit  -- BYN per 1 unit of `code`, comparable across the redenominations
FROM rates;

CREATE VIEW latest AS
SELECT cur.code, cur.date, cur.scale, cur.rate, cur.unit,
       prev.date AS prev_date,  -- last day of the previous distinct rate
       round(prev.byn_per_unit * cur.scale, 6) AS prev_rate,  -- per the current scale, in BYN
       round(cur.byn_per_unit * cur.scale - prev.byn_per_unit * cur.scale, 6) AS change,
       round(100.0 * (cur.byn_per_unit - prev.byn_per_unit) / prev.byn_per_unit, 4) AS change_pct
FROM rates_byn AS cur
LEFT JOIN rates_byn AS prev ON prev.code = cur.code AND prev.date = (
    SELECT p.date FROM rates_byn AS p
    WHERE p.code = cur.code AND p.date < cur.date AND p.byn_per_unit <> cur.byn_per_unit
    ORDER BY p.date DESC LIMIT 1)
WHERE cur.date = (SELECT max(date) FROM rates WHERE code = cur.code);

CREATE TABLE daemon (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row: the daemon (`ticker run`) that last ran here
    pid INTEGER NOT NULL,         -- its process id
    version TEXT NOT NULL,        -- ticker's version
    state TEXT NOT NULL CHECK (state IN ('running', 'stopped')),
    started_at TEXT NOT NULL,     -- UTC ISO-8601
    heartbeat_at TEXT NOT NULL,   -- UTC ISO-8601, rewritten every minute while it runs
    stopped_at TEXT,              -- UTC ISO-8601 of a clean stop; NULL while running or after a crash
    job TEXT,                     -- the job running now (catch-up or poll); NULL when idle
    next_poll TEXT,               -- UTC ISO-8601: the next poll that will ask NBRB for new rates
    next_catchup TEXT,            -- UTC ISO-8601: the next catch-up (a retry after an error, or the daily one)
    last_success_at TEXT,         -- UTC ISO-8601
    last_success TEXT,            -- what the last successful job did
    last_error_at TEXT,           -- UTC ISO-8601
    last_error TEXT               -- the one-line error of the last failed job
);

CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,        -- where the rate comes from: nbrb (the official rates)
    kind TEXT NOT NULL,          -- above, below, move or published
    rule TEXT NOT NULL,          -- the rule in words: USD above 3.00, USD moves 1.0%, published
    code TEXT,                   -- the currency; NULL for published
    date TEXT NOT NULL,          -- YYYY-MM-DD, the day in force the event is about (published: the first new day)
    last_date TEXT NOT NULL,     -- YYYY-MM-DD, the last such day: `date`, or the last day published together
    scale INTEGER,               -- the rate that fired, as published: `rate_text` `unit` per `scale` `code`
    rate_text TEXT,
    unit TEXT,
    title TEXT NOT NULL,         -- the message as delivered
    message TEXT NOT NULL,
    fired_at TEXT NOT NULL,      -- UTC ISO-8601, when the event was recorded
    UNIQUE (source, rule, date)  -- each rule fires once for a day
);

CREATE TABLE alert_deliveries (
    event_id INTEGER NOT NULL REFERENCES alert_events (id),
    target TEXT NOT NULL,        -- the Apprise URL with its credentials masked
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,        -- UTC ISO-8601
    delivered_at TEXT,           -- UTC ISO-8601; NULL until delivered (then it is never sent again)
    error TEXT,                  -- the one-line error of the last attempt; NULL once delivered
    PRIMARY KEY (event_id, target)
);

CREATE VIEW rates_in_force AS
SELECT code, date, date AS until, scale, rate, rate_text, unit, cur_id, periodicity
FROM rates WHERE periodicity = 0
UNION ALL
SELECT m.code, m.date,
       min(date(m.date, 'start of month', '+1 month', '-1 day'),  -- the end of the month it was set in,
           coalesce((SELECT date(min(n.date), '-1 day') FROM rates AS n  -- or the day before the next one
                     WHERE n.code = m.code AND n.periodicity = 1 AND n.date > m.date), '9999-12-31')) AS until,
       m.scale, m.rate, m.rate_text, m.unit, m.cur_id, m.periodicity
FROM rates AS m WHERE m.periodicity = 1;
