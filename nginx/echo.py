# An app for trying example.conf and the Envoy configs: answers every request
# with its method, path and headers as JSON, on 127.0.0.1:8080 or on the port
# given as its argument (`python3 nginx/echo.py 9080`; 0 picks a free one).
import http.server, json, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers)}, indent=1).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer
port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Echo)
print("echo: listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
