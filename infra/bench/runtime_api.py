"""A minimal AWS Lambda Runtime API on loopback, to measure a function binary without AWS.

It starts the function's `bootstrap` with AWS_LAMBDA_RUNTIME_API pointing here, hands it the
given API Gateway v2 events one by one (GET /next), and records when each response comes back
(POST /response). It prints JSON: the time from exec to the first response (the cold start,
secret fetch and table check included), the duration of every later invocation, each response's
status code, and the process's peak RSS (VmHWM) after the last event. `init_ms` is the part of
the cold start before the function asked for its first event (its start-up).

Usage: runtime_api.py BOOTSTRAP EVENTS.json [EVENTS.json ...]   (environment is passed through;
RUNTIME_API_LAST_BODY=FILE saves the body of the last response; RUNTIME_API_PHASES=1 runs the
function with RUST_LOG=warn,dispatch::cold_start=debug and adds `phases`, when each start-up
phase ended in ms since start-up began, and `calls`, the Secrets Manager calls and their ms)
"""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

events = [open(path).read() for path in sys.argv[2:]]
lock = threading.Lock()
state = {"next": 0, "served_at": {}, "responses": [], "done": threading.Event()}


class RuntimeApi(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.endswith("/runtime/invocation/next"):
            self.send_error(404)
            return
        with lock:
            index = state["next"]
            state["next"] += 1
        if index >= len(events):
            # No more events: hold the poll open until the function is killed (answering it would
            # make the runtime panic on a response without a request id).
            state["done"].wait(120)
            time.sleep(30)
            return
        request_id = f"{index}-{uuid.uuid4()}"
        body = events[index].encode()
        state["served_at"][request_id] = time.perf_counter()
        if index == 0:
            state["first_next"] = state["served_at"][request_id]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        payload = self.rfile.read(length)
        parts = self.path.split("/")
        request_id = parts[-2]
        now = time.perf_counter()
        try:
            status = json.loads(payload).get("statusCode")
        except ValueError:
            status = None
        with lock:
            state["responses"].append(
                {"id": request_id, "at": now, "status": status, "error": parts[-1] == "error", "payload": payload}
            )
            if len(state["responses"]) == len(events):
                state["done"].set()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "RUST_LOG": env.get("RUST_LOG", "warn"),
    })
    phases = os.environ.get("RUNTIME_API_PHASES") == "1"
    if phases:
        env["RUST_LOG"] = "warn,dispatch::cold_start=debug"
    started = time.perf_counter()
    # The function's stdout (its log and metric lines) goes to stderr: ours is the JSON report.
    process = subprocess.Popen(
        [sys.argv[1]], env=env, stdout=sys.stderr, stderr=subprocess.PIPE if phases else None
    )
    log = []
    if phases:
        def read_log():
            for line in process.stderr:
                log.append(line)
        reader = threading.Thread(target=read_log, daemon=True)
        reader.start()
    finished = state["done"].wait(120)
    rss = peak_rss_kb(process.pid) if process.poll() is None else None
    process.kill()
    process.wait()
    server.shutdown()
    marks, calls = {}, []
    if phases:
        reader.join(5)
        for line in log:
            try:
                fields = json.loads(line)["fields"]
            except (ValueError, KeyError, TypeError):
                sys.stderr.write(line.decode(errors="replace"))
                continue
            if "phase" in fields:
                marks[fields["phase"]] = round(fields["at_ms"], 2)
            elif "ms" in fields:
                call = " ".join(filter(None, [fields.get("message"), fields.get("stage")]))
                calls.append({"call": call, "ms": round(fields["ms"], 2)})
    if not finished:
        print(json.dumps({"error": "not every event got a response", "responses": len(state["responses"])}))
        sys.exit(1)
    responses = sorted(state["responses"], key=lambda r: int(r["id"].split("-")[0]))
    durations = [round((r["at"] - state["served_at"][r["id"]]) * 1000, 3) for r in responses]
    if os.environ.get("RUNTIME_API_LAST_BODY"):
        with open(os.environ["RUNTIME_API_LAST_BODY"], "w") as out:
            out.write(json.loads(responses[-1]["payload"]).get("body", ""))
    print(json.dumps({
        "cold_start_ms": round((responses[0]["at"] - started) * 1000, 2),
        # Of which: exec to the first GET /next (the function's start-up), the rest being the
        # first invocation (durations_ms[0]).
        "init_ms": round((state["first_next"] - started) * 1000, 2),
        "durations_ms": durations,
        "statuses": [r["status"] for r in responses],
        "peak_rss_kb": rss,
        **({"phases": marks, "calls": calls} if phases else {}),
    }))


main()
