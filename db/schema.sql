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
    fetched_at TEXT NOT NULL, byn_per_unit_e16 INTEGER /* BYN per ONE unit of `code` x 10^16, exact: compare and subtract this, never `rate` */ CHECK (byn_per_unit_e16 > 0), periodicity INTEGER NOT NULL DEFAULT 0 /* 0: a daily rate, in force on `date`; 1: a monthly rate, set on `date` (see rates_in_force) */ CHECK (periodicity IN (0, 1)),  -- UTC ISO-8601, when this value was first stored or last revised
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
, job_since TEXT /* UTC ISO-8601: since when `job` runs; NULL when idle */);

CREATE VIEW rates_byn AS
SELECT code, date, scale, rate, rate_text, unit, cur_id,
       rate / scale / CASE unit WHEN 'BYR' THEN 10000.0 WHEN 'BYB' THEN 10000000.0 ELSE 1.0 END
           AS byn_per_unit,  -- BYN per 1 unit of `code`, comparable across the redenominations
       byn_per_unit_e16  -- the same, exact: an integer of 10^-16 BYN
FROM rates;

CREATE VIEW latest AS
WITH RECURSIVE codes (code) AS (
    SELECT min(code) FROM rates
    UNION ALL
    SELECT (SELECT min(code) FROM rates WHERE code > codes.code) FROM codes WHERE codes.code IS NOT NULL
),
today (day) AS (SELECT date('now', '+3 hours'))  -- today in Minsk: UTC+3 all year, no daylight saving
SELECT cur.code, cur.date, cur.scale, cur.rate, cur.unit,
       prev.date AS prev_date,  -- last day of the previous distinct rate
       round(prev.byn_per_unit_e16 * cur.scale / 1e16, 6) AS prev_rate,  -- per the current scale, in BYN
       round((cur.byn_per_unit_e16 - prev.byn_per_unit_e16) * cur.scale / 1e16, 6) AS change,
       round(100.0 * (cur.byn_per_unit_e16 - prev.byn_per_unit_e16) / prev.byn_per_unit_e16, 4) AS change_pct,
       cur.rate_text,  -- the rate exactly as published
       CASE WHEN prev.date IS NULL THEN 'none'
            WHEN cur.byn_per_unit_e16 > prev.byn_per_unit_e16 THEN 'up' ELSE 'down' END AS direction
FROM codes
JOIN today
JOIN rates AS cur ON cur.code = codes.code AND cur.date = today.day
LEFT JOIN rates AS prev ON prev.code = cur.code AND prev.date = (
    SELECT p.date FROM rates AS p
    WHERE p.code = cur.code AND p.date < cur.date AND p.byn_per_unit_e16 <> cur.byn_per_unit_e16
    ORDER BY p.date DESC LIMIT 1);

CREATE VIEW upcoming AS
WITH RECURSIVE codes (code) AS (
    SELECT min(code) FROM rates
    UNION ALL
    SELECT (SELECT min(code) FROM rates WHERE code > codes.code) FROM codes WHERE codes.code IS NOT NULL
),
today (day) AS (SELECT date('now', '+3 hours'))  -- today in Minsk: UTC+3 all year, no daylight saving
SELECT cur.code, cur.date, cur.scale, cur.rate, cur.unit,
       prev.date AS prev_date,  -- last day of the previous distinct rate
       round(prev.byn_per_unit_e16 * cur.scale / 1e16, 6) AS prev_rate,  -- per the current scale, in BYN
       round((cur.byn_per_unit_e16 - prev.byn_per_unit_e16) * cur.scale / 1e16, 6) AS change,
       round(100.0 * (cur.byn_per_unit_e16 - prev.byn_per_unit_e16) / prev.byn_per_unit_e16, 4) AS change_pct,
       cur.rate_text,  -- the rate exactly as published
       CASE WHEN prev.date IS NULL THEN 'none'
            WHEN cur.byn_per_unit_e16 > prev.byn_per_unit_e16 THEN 'up' ELSE 'down' END AS direction
FROM codes
JOIN today
JOIN rates AS cur ON cur.code = codes.code AND cur.date > today.day
LEFT JOIN rates AS prev ON prev.code = cur.code AND prev.date = (
    SELECT p.date FROM rates AS p
    WHERE p.code = cur.code AND p.date < cur.date AND p.byn_per_unit_e16 <> cur.byn_per_unit_e16
    ORDER BY p.date DESC LIMIT 1);

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
SELECT code, date, date AS until, scale, rate, rate_text, unit, cur_id, periodicity, byn_per_unit_e16
FROM rates WHERE periodicity = 0
UNION ALL
SELECT m.code, m.date,
       min(date(m.date, 'start of month', '+1 month', '-1 day'),  -- the end of the month it was set in,
           coalesce((SELECT date(min(n.date), '-1 day') FROM rates AS n  -- or the day before the next one
                     WHERE n.code = m.code AND n.periodicity = 1 AND n.date > m.date), '9999-12-31')) AS until,
       m.scale, m.rate, m.rate_text, m.unit, m.cur_id, m.periodicity, m.byn_per_unit_e16
FROM rates AS m WHERE m.periodicity = 1;

CREATE TABLE bank_points (
    id INTEGER PRIMARY KEY,       -- ticker's number for the point, what bank_point_sets.point refers to
    bank TEXT NOT NULL,           -- the source: belarusbank
    point_id TEXT NOT NULL,       -- the bank's own id for it (Belarusbank's filial_id)
    city TEXT NOT NULL,           -- the locality, as the bank writes it: Минск
    city_type TEXT NOT NULL,      -- its kind, as written: г., г.п., агрогородок; '' when not given
    address TEXT NOT NULL,        -- street type, street and house, as written: пр. Партизанский 8-49
    label TEXT NOT NULL,          -- the point's name: Отделение 100/212
    hours TEXT NOT NULL,          -- opening hours, readable: Пн-Пт 09:00-19:00, Сб 09:00-15:00
    hours_text TEXT NOT NULL,     -- opening hours exactly as published
    first_seen TEXT NOT NULL,     -- UTC ISO-8601: the first answer that listed it
    last_seen TEXT NOT NULL,      -- UTC ISO-8601: the last answer that listed it (and did not refuse it)
    changed_at TEXT NOT NULL, latitude TEXT /* degrees, as published (MTBank's y); NULL when not given */, longitude TEXT /* degrees, as published (MTBank's x); NULL when not given */,     -- UTC ISO-8601: when its details above last changed
    UNIQUE (bank, point_id)
);

CREATE INDEX bank_points_city ON bank_points (city);

CREATE TABLE bank_polls (
    id INTEGER PRIMARY KEY,       -- in the order the polls started; bank_point_sets counts in these
    bank TEXT NOT NULL,           -- the source: belarusbank
    started_at TEXT NOT NULL,     -- UTC ISO-8601
    finished_at TEXT,             -- UTC ISO-8601, the time its rates were seen at; NULL while running or if the process died
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error')),  -- ok: its answer is stored
    points INTEGER NOT NULL DEFAULT 0,    -- points listed in the cities kept, and not refused
    quotes INTEGER NOT NULL DEFAULT 0,    -- non-zero rates accepted
    changed INTEGER NOT NULL DEFAULT 0,   -- rates new or changed at a point since the answer before
    ended INTEGER NOT NULL DEFAULT 0,     -- rates a point quoted in the answer before and no longer does
    refused INTEGER NOT NULL DEFAULT 0,   -- points and values refused (each logged in one line)
    error TEXT                    -- the one-line error, when status is error
);

CREATE INDEX bank_polls_bank ON bank_polls (bank, status, finished_at);

CREATE TABLE bank_sets (
    id INTEGER PRIMARY KEY,
    effective_at TEXT,            -- when the bank's rate set took effect, as published (Minsk time, no zone); NULL when not given
    digest INTEGER NOT NULL       -- a hash of effective_at and the values, by which ticker finds a set already stored
);

CREATE INDEX bank_sets_digest ON bank_sets (digest);

CREATE TABLE bank_set_values (
    rate_set INTEGER NOT NULL REFERENCES bank_sets (id),
    value INTEGER NOT NULL REFERENCES bank_values (id),
    PRIMARY KEY (rate_set, value)
) WITHOUT ROWID;

CREATE TABLE bank_point_sets (
    point INTEGER NOT NULL REFERENCES bank_points (id),
    first_poll INTEGER NOT NULL REFERENCES bank_polls (id),  -- the first answer in which the point quoted this set
    rate_set INTEGER REFERENCES bank_sets (id),  -- NULL: it quoted nothing (every value 0, refused, or not listed)
    last_poll INTEGER REFERENCES bank_polls (id),  -- the last answer in which it did; NULL while it still does
    PRIMARY KEY (point, first_poll)
) WITHOUT ROWID;

CREATE INDEX bank_point_sets_open ON bank_point_sets (point, rate_set) WHERE last_poll IS NULL;

CREATE TABLE daemon_jobs (
    job TEXT PRIMARY KEY,         -- a job of `ticker run` with a health of its own: belarusbank (its poll)
    running_since TEXT,           -- UTC ISO-8601 while it runs; NULL when idle
    next_run TEXT,                -- UTC ISO-8601: its next scheduled run
    last_success_at TEXT,         -- UTC ISO-8601
    last_success TEXT,            -- what its last successful run did
    last_error_at TEXT,           -- UTC ISO-8601
    last_error TEXT,              -- the one-line error of its last failed run
    failures INTEGER NOT NULL DEFAULT 0  -- failed runs in a row; 0 after a success
);

CREATE TABLE "bank_values" (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,           -- the currency the bank buys or sells: USD
    against TEXT NOT NULL,        -- what it pays or asks for it: BYN, or the second currency of a cross rate
    side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),  -- buy: the bank buys `code` (Belarusbank's _in); sell: it sells it (_out)
    scale INTEGER NOT NULL,       -- against BYN: the rate is BYN per this many units of `code` (RUB 100); crosses: 1
    rate_text TEXT NOT NULL,      -- the value exactly as published, trailing zeros kept; a cross rate: see `per` and db/README.md
    per_unit_e16 INTEGER NOT NULL CHECK (per_unit_e16 > 0),  -- the same per ONE unit of `code` x 10^16, exact: compare and subtract this
    rate REAL NOT NULL,           -- the published value as a float, for display and averages only
    checked INTEGER NOT NULL CHECK (checked IN (0, 1)),  -- 1: within a factor of 10 of NBRB's official rate; 0: none to check against
    channel TEXT NOT NULL DEFAULT '' CHECK (channel IN ('', 'cash', 'non-cash')),  -- at a cash desk, or by card or account; '' when the bank does not say
    min_amount TEXT NOT NULL DEFAULT '',  -- a tiered rate: the least amount of `code` it applies to, as published; '' untiered
    max_amount TEXT NOT NULL DEFAULT '',  -- the most, both ends included; '' untiered or no upper bound
    typical INTEGER NOT NULL DEFAULT 1 CHECK (typical IN (0, 1)),  -- 1: untiered, or the tier from 0 that a typical exchange gets
    per TEXT NOT NULL DEFAULT '',  -- a cross rate's sell side quoted like its buy side: `against` per 1 `code`; '' Belarusbank's way
    -- per_unit_e16 first: finds the points at a best rate, and never tempts a view into a currency's history
    UNIQUE (per_unit_e16, code, against, side, scale, rate_text, checked, channel, min_amount, max_amount, per)
);

CREATE VIEW bank_rates_now AS
SELECT p.bank, p.point_id, p.city, p.address, p.label, p.hours,
       v.code, v.against, v.side, v.scale, v.rate, v.rate_text, v.per_unit_e16,
       CASE WHEN v.against = 'BYN' THEN 'BYN per ' || v.scale || ' ' || v.code
            WHEN v.side = 'buy' OR v.per <> '' THEN v.against || ' per 1 ' || v.code
            ELSE v.code || ' per 1 ' || v.against END AS quoted,  -- what `rate` counts
       v.channel, v.min_amount, v.max_amount, v.typical, v.per,
       s.effective_at, v.checked,
       (SELECT finished_at FROM bank_polls WHERE id = (SELECT r.first_poll FROM bank_point_sets AS r WHERE r.point = ps.point AND r.first_poll > coalesce(
        (SELECT b.first_poll FROM bank_point_sets AS b WHERE b.point = ps.point AND b.first_poll < ps.first_poll
         AND NOT EXISTS (SELECT 1 FROM bank_set_values WHERE rate_set = b.rate_set AND value = m.value) ORDER BY b.first_poll DESC LIMIT 1), -1)
     ORDER BY r.first_poll LIMIT 1)) AS first_seen,  -- since when the point quotes this value
       p.last_seen,  -- the last answer, which quoted it
       p.latitude, p.longitude
FROM bank_point_sets AS ps INDEXED BY bank_point_sets_open  -- the sets quoted now: never the history behind them
JOIN bank_points AS p ON p.id = ps.point
LEFT JOIN bank_sets AS s ON s.id = ps.rate_set  -- LEFT: left out when effective_at is not asked for
JOIN bank_set_values AS m ON m.rate_set = ps.rate_set
JOIN bank_values AS v ON v.id = m.value
WHERE ps.last_poll IS NULL;

CREATE VIEW bank_best AS
SELECT city, code, against, side, channel, per, scale, rate, rate_text, per_unit_e16, quoted,
       (SELECT group_concat(bank) FROM (SELECT DISTINCT n.bank FROM bank_rates_now AS n WHERE n.city = b.city
        AND n.code = b.code AND n.against = b.against AND n.side = b.side AND n.channel = b.channel AND n.per = b.per
        AND n.typical = 1 AND n.per_unit_e16 = b.per_unit_e16 ORDER BY n.bank)) AS banks,  -- the banks offering it
       (SELECT count(*) FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = b.against
        AND n.side = b.side AND n.channel = b.channel AND n.per = b.per AND n.typical = 1
        AND n.per_unit_e16 = b.per_unit_e16) AS points,  -- points offering this best rate
       quoting,  -- points quoting this side at all
       as_of     -- the answer it comes from
FROM (SELECT city, code, against, side, channel, per, scale, rate, rate_text, per_unit_e16, quoted, last_seen AS as_of,
             count(*) AS quoting,
             -- best for the client, compared exactly: the most it gets, or the least it pays (a sell
             -- side against BYN, or quoted like its buy side); the one max() makes the other columns
             -- come from that row. Each channel apart; the tier a typical exchange gets; a city's points.
             max(CASE WHEN side = 'sell' AND (against = 'BYN' OR per <> '') THEN -per_unit_e16 ELSE per_unit_e16 END)
      FROM bank_rates_now WHERE typical = 1 AND city <> '' GROUP BY city, code, against, side, channel, per) AS b;

CREATE VIEW bank_spread AS
SELECT b.city, b.code, b.scale,
       (SELECT n.rate_text FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = 'BYN'
        AND n.side = 'buy' AND n.typical = 1 AND n.channel <> 'non-cash' AND n.per_unit_e16 = b.buy_e16
        LIMIT 1) AS buy,    -- the best (highest) buy rate, of any bank
       (SELECT group_concat(bank) FROM (SELECT DISTINCT n.bank FROM bank_rates_now AS n WHERE n.city = b.city
        AND n.code = b.code AND n.against = 'BYN' AND n.side = 'buy' AND n.typical = 1 AND n.channel <> 'non-cash'
        AND n.per_unit_e16 = b.buy_e16 ORDER BY n.bank)) AS buy_banks,  -- the banks offering it
       (SELECT n.rate_text FROM bank_rates_now AS n WHERE n.city = b.city AND n.code = b.code AND n.against = 'BYN'
        AND n.side = 'sell' AND n.typical = 1 AND n.channel <> 'non-cash' AND n.per_unit_e16 = b.sell_e16
        LIMIT 1) AS sell,  -- the best (lowest) sell rate, of any bank
       (SELECT group_concat(bank) FROM (SELECT DISTINCT n.bank FROM bank_rates_now AS n WHERE n.city = b.city
        AND n.code = b.code AND n.against = 'BYN' AND n.side = 'sell' AND n.typical = 1 AND n.channel <> 'non-cash'
        AND n.per_unit_e16 = b.sell_e16 ORDER BY n.bank)) AS sell_banks,
       o.date AS official_date,
       o.rate_text AS official,  -- NBRB's rate as published, per `official_scale` units
       o.scale AS official_scale,
       round(100.0 * (b.buy_e16 - o.byn_per_unit_e16) / o.byn_per_unit_e16, 2) AS buy_pct,    -- below 0: the bank buys under the official rate
       round(100.0 * (b.sell_e16 - o.byn_per_unit_e16) / o.byn_per_unit_e16, 2) AS sell_pct,  -- above 0: it sells over it
       b.as_of
FROM (SELECT city, code, max(scale) AS scale,
             max(CASE side WHEN 'buy' THEN per_unit_e16 END) AS buy_e16,    -- compared and subtracted exactly
             min(CASE side WHEN 'sell' THEN per_unit_e16 END) AS sell_e16,
             max(last_seen) AS as_of
      FROM bank_rates_now WHERE against = 'BYN' AND typical = 1 AND channel <> 'non-cash' AND city <> ''
      GROUP BY city, code) AS b
LEFT JOIN rates AS o ON o.code = b.code AND o.date = date(b.as_of, '+3 hours');

CREATE VIEW bank_history AS
SELECT p.bank, p.point_id, p.city, p.address, p.label,
       v.code, v.against, v.side, v.scale, v.rate, v.rate_text, v.per_unit_e16, CASE WHEN v.against = 'BYN' THEN 'BYN per ' || v.scale || ' ' || v.code
            WHEN v.side = 'buy' OR v.per <> '' THEN v.against || ' per 1 ' || v.code
            ELSE v.code || ' per 1 ' || v.against END AS quoted,
       v.channel, v.min_amount, v.max_amount, v.typical, v.per,
       s.effective_at,  -- of the set in which the point first quoted this value
       v.checked,
       f.finished_at AS first_seen,  -- the first answer that quoted this value here
       coalesce((SELECT l.finished_at FROM bank_point_sets AS e JOIN bank_polls AS l ON l.id = e.last_poll
                 WHERE e.point = ps.point AND e.first_poll < (SELECT z.first_poll FROM bank_point_sets AS z WHERE z.point = ps.point AND z.first_poll > ps.first_poll
     AND NOT EXISTS (SELECT 1 FROM bank_set_values WHERE rate_set = z.rate_set AND value = m.value) ORDER BY z.first_poll LIMIT 1) ORDER BY e.first_poll DESC LIMIT 1),
                p.last_seen) AS last_seen,  -- the last answer that quoted it
       (SELECT z.first_poll FROM bank_point_sets AS z WHERE z.point = ps.point AND z.first_poll > ps.first_poll
     AND NOT EXISTS (SELECT 1 FROM bank_set_values WHERE rate_set = z.rate_set AND value = m.value) ORDER BY z.first_poll LIMIT 1) IS NULL AS current  -- 1 while it is quoted now
FROM bank_points AS p
CROSS JOIN bank_point_sets AS ps ON ps.point = p.id  -- the points first: a point's history is a range
JOIN bank_set_values AS m ON m.rate_set = ps.rate_set
JOIN bank_values AS v ON v.id = m.value
LEFT JOIN bank_sets AS s ON s.id = ps.rate_set
JOIN bank_polls AS f ON f.id = ps.first_poll
WHERE NOT EXISTS (  -- a run starts here: the point's row before did not quote this value
    SELECT 1 FROM bank_point_sets AS b JOIN bank_set_values AS bm ON bm.rate_set = b.rate_set AND bm.value = v.id
    WHERE b.point = ps.point AND b.first_poll = (
        SELECT max(first_poll) FROM bank_point_sets WHERE point = ps.point AND first_poll < ps.first_poll));
