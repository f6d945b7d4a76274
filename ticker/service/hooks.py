"""What the daemon runs after new rates are stored, in order, each on its own: one failing is
logged and recorded and never stops the others. A hook is `function(config)` reading the store."""

from importlib import import_module

# (what it refreshes, "module:function"), imported when first run.
HOOKS = [
    ("the charts and ticker files", "ticker.outputs.publish:refresh"),
    ("the alerts", "ticker.alerts.delivery:run"),
]


# Hooks with nothing to do under some configs are not run (nor logged as run) under them.
APPLIES = {
    "the alerts": lambda config: bool(config.alerts),
}


def applies(what: str, config) -> bool:
    return APPLIES.get(what, lambda config: True)(config)


# Which of them also run after a bank poll that changed a rate, and when: only what shows or
# watches bank rates, so that polling every 30 minutes never redraws the charts for nothing.
AFTER_BANK_RATES = {
    "the charts and ticker files": lambda config: bool(config.banks.outputs),
    "the alerts": lambda config: any(alert.side for alert in config.alerts),
}


def load(spec: str):
    module, name = spec.split(":")
    return getattr(import_module(module), name)
