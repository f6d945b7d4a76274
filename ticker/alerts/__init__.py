"""Alerts: the [[alerts]] rules (rules), what they fire on (firing), and its delivery through
Apprise, recorded once in the store (delivery)."""
