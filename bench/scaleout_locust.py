"""Locust scenario of the scale-out proof (bench/scaleout.py): the load test's own users
(bench/locustfile.py: grassroots operators, district reviewers, the centre — 80 % reads) through
the stand-in for nginx, and writers that check what an acknowledgement means.

A writer (修改信息 of its own union, a new 联系人 every time) posts straight to the app servers in
turn (SCALEOUT_SERVERS), with the session it logged in with through the proxy — so each server
must accept the other's cookie and CSRF token (one SECRET_KEY). A write is acknowledged when its
server answers the redirect back to 修改信息 (the transaction has committed); the writer logs it
(`A` lines of SCALEOUT_LOG: time, server, 联系人), and bench/scaleout.py then finds every one of
them in the audit log. A server that refuses the connection (it was killed) never saw the request:
the writer sends it to the next server, as nginx's `proxy_next_upstream error` does. Every request
is logged too (`R` lines: time, ok / fail, name) so the script can tell when failures happened.
"""

import itertools
import os
import time

from locust import events, task

from bench.locustfile import ACCOUNTS, Base, Centre, District, Grassroots, inputs  # noqa: F401 — locust runs these users

LOG = open(os.environ["SCALEOUT_LOG"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 — open for the run
SERVERS = os.environ["SCALEOUT_SERVERS"].split(",")
_writers = itertools.cycle(ACCOUNTS["grassroots"])
_numbers = itertools.count(1)


@events.request.add_listener
def _log_request(request_type, name, response_time, response_length, exception=None, **_):
    state = "ok" if exception is None else "fail"
    LOG.write(f"R\t{time.time():.3f}\t{state}\t{name}\t{str(exception)[:120] if exception else ''}\n")


class Writer(Base):
    weight = 1

    def on_start(self):
        self.login(next(_writers))
        self.number = next(_numbers)
        self.form = inputs(self.read("/orgs/mine/edit", "GET /orgs/mine/edit").text).values
        self.turn = itertools.count(self.number)
        self.writes = 0

    @task
    def write(self):
        self.writes += 1
        contact = f"扩容{self.number}-{self.writes}"
        data = {k: self.form.get(k, "") for k in ("csrf_token", "name", "uscc", "union_no", "address", "phone")}
        data["contact"] = contact
        data["phone"] = data["phone"] or "021-63210000"
        first = next(self.turn)
        for i in range(len(SERVERS)):
            server = SERVERS[(first + i) % len(SERVERS)]
            label = "A" if server == SERVERS[0] else "B"
            with self.client.post(f"{server}/orgs/mine/edit", data=data, allow_redirects=False,
                                  name=f"POST /orgs/mine/edit (server {label})", catch_response=True) as r:
                if r.status_code == 0 and "refused" in str(r.error).lower():
                    r.success()  # never reached a server: the next one gets it
                    LOG.write(f"X\t{time.time():.3f}\t{server}\n")
                    continue
                if r.status_code in (302, 303) and r.headers.get("Location", "").endswith("/orgs/mine/edit"):
                    LOG.write(f"A\t{time.time():.3f}\t{server}\t{contact}\n")
                else:
                    r.failure(f"{r.status_code} {r.headers.get('Location', '')} {r.error or ''}"[:200])
                return
