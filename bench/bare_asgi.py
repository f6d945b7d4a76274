"""The baseline of bench_serve: a bare ASGI application on the same server (uvicorn, uvloop,
httptools, no access log) answering each path with precomputed bytes and headers.

    python bench/bare_asgi.py ANSWERS.json PORT

ANSWERS.json maps "path?query" to {"headers": [[name, value], ...], "body": text}, as ticker
serve answered them.
"""

import json
import sys

import uvicorn


def app_for(answers: dict):
    prepared = {key.encode(): ([(k.encode(), v.encode()) for k, v in a["headers"]], a["body"].encode())
                for key, a in answers.items()}

    async def app(scope, receive, send):
        key = scope["path"].encode() + (b"?" + scope["query_string"] if scope["query_string"] else b"")
        headers, body = prepared.get(key, ([], b"not found"))
        await send({"type": "http.response.start", "status": 200 if key in prepared else 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


if __name__ == "__main__":
    answers = json.loads(open(sys.argv[1], encoding="utf-8").read())
    print("bare ASGI app ready", file=sys.stderr, flush=True)
    uvicorn.run(app_for(answers), host="127.0.0.1", port=int(sys.argv[2]), loop="uvloop", http="httptools",
                lifespan="off", access_log=False, log_level="warning", server_header=False)
