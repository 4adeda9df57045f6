#!/usr/bin/env python3
"""Stand-ins for the provider APIs the benchmark connects WhatsApp numbers through, on one port
(LOKET_GRAPH_API_BASE and LOKET_TWILIO_API_BASE): Meta's Graph API (GET /<version>/<phone-number-id>
reads a Cloud API number; POST .../messages sends) and Twilio's FetchAccount
(GET /2010-04-01/Accounts/<sid>.json). Usage: fake_providers.py PORT. Serves 127.0.0.1 only."""
import itertools
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
sent = itertools.count(1)


class Providers(BaseHTTPRequestHandler):
    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        last = self.path.split("?")[0].rstrip("/").split("/")[-1]
        if self.path.startswith("/2010-04-01/Accounts/"):  # Twilio FetchAccount
            self.answer({"sid": last.removesuffix(".json"), "friendly_name": "Loket bench",
                         "status": "active", "type": "Full"})
        else:  # a Graph phone-number record
            self.answer({"id": last, "display_phone_number": "6281100000001", "verified_name": "Loket bench"})

    def do_POST(self):  # a Graph message send
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.bench{next(sent)}"}]})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Providers).serve_forever()
