"""The service: `ticker run`, the daemon (daemon), its timetable (schedule), the one-writer lock
(lock), its health row (health) and what runs after new rates are stored (hooks)."""
