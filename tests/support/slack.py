"""A Slack stand-in: a real HTTP server on the loopback interface that records every webhook POST."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SlackListener:
    """Records every POST as (path, parsed JSON); answers each path with scripted statuses, then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.scripted: dict[str, list[int]] = {}
        self.always: dict[str, int] = {}
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                listener.received.append((self.path, json.loads(body)))
                queue = listener.scripted.get(self.path, [])
                status = queue.pop(0) if queue else listener.always.get(self.path, 200)
                answer = {200: b"ok", 404: b"no_service"}.get(status, b"")
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def bodies(self, path: str) -> list[Any]:
        return [body for received_path, body in self.received if received_path == path]

    def clear(self) -> None:
        self.received.clear()
        self.scripted.clear()
        self.always.clear()

    def __enter__(self) -> SlackListener:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
