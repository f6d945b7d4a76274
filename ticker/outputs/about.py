"""`ticker sources`: what each source in the registry gives, as its class's metadata says."""

import json

from .. import sources


def described() -> list[dict]:
    """Each source's metadata, in the registry's order."""
    found = []
    for source_id in sources.REGISTRY:
        source = sources.get(source_id)
        found.append({
            "id": source.id, "name": source.name, "kind": source.kind, "url": source.url,
            "since": source.coverage.since.isoformat(), "days": source.coverage.days,
            "history": source.coverage.history, "published": source.schedule.published,
            "poll": source.schedule.poll, "unverified": list(source.unverified),
        })
    return found


def sources_text() -> str:
    lines = []
    for s in described():
        lines += [f"{s['id']}  {s['name']} ({s['kind']})", f"  {s['url']}",
                  f"  rates: {s['days']}; since {s['since']}" + ("" if s["history"] else "; no history: asked now only"),
                  f"  published: {s['published']}",
                  "  polled: " + (f"{s['poll']} (Minsk time) by `ticker run`" if s["poll"] else "by the daily catch-up")]
        lines += [f"  unverified: {what}" for what in s["unverified"]]
        lines.append("")
    return "\n".join(lines)


def sources_json() -> str:
    return json.dumps(described(), indent=2, ensure_ascii=False) + "\n"
