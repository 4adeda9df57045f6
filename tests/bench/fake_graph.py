#!/usr/bin/env python3
"""A stand-in for Meta's Graph API for the benchmark (LOKET_GRAPH_API_BASE): connecting a
WhatsApp Cloud API number reads GET /<version>/<phone-number-id>; a send (POST .../messages)
gets a new wamid. Usage: fake_graph.py PORT DISPLAY_NUMBER. Serves 127.0.0.1 only."""
import itertools
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, DISPLAY = int(sys.argv[1]), sys.argv[2]
sent = itertools.count(1)


class Graph(BaseHTTPRequestHandler):
    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # the phone-number record
        number_id = self.path.split("?")[0].rstrip("/").split("/")[-1]
        self.answer({"id": number_id, "display_phone_number": DISPLAY, "verified_name": "Loket bench"})

    def do_POST(self):  # a message send
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.bench{next(sent)}"}]})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Graph).serve_forever()
