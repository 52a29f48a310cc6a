#!/usr/bin/env python3
"""Failover numbers for keb-server replicas (SPEC 11).

Starts a throwaway PostgreSQL 15 (as root: runuser postgres, private socket folder) and three
keb-server replicas on the demo fleet, then:
  - kills the leader with SIGKILL --kills times (default 20) and measures the time from the kill
    until a write (POST /upgrade/kyma sent to a surviving replica, forwarded to whoever leads)
    is answered 202; the killed replica is restarted before the next round;
  - stops the leader with SIGTERM --terms times (default 10) and measures the same (hand-over).
Prints p50/p90/p99/max of both. Targets: kill -9 within ttl + 3 s (p99), SIGTERM within 2 s.

  bench/ha/failover.py [--server build/bin/keb-server] [--ttl 2s] [--kills 20] [--terms 10]
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.request

PGBIN = None
for v in ("17", "16", "15"):
    if os.path.isdir(f"/usr/lib/postgresql/{v}/bin"):
        PGBIN = f"/usr/lib/postgresql/{v}/bin"
        break

WRITE = json.dumps({"targets": {"include": [{"target": "all"}]}, "dryRun": True,
                    "strategy": {"type": "parallel", "schedule": "immediate", "parallel": {"workers": 1}},
                    "kyma": {"version": "2.20.0"}}).encode()


def http(port, method, path, body=None, timeout=1.0):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                 headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:
        return 0, b""


class Replica:
    def __init__(self, i, args, work):
        self.i, self.args, self.work, self.proc, self.port = i, args, work, None, 0

    def start(self):
        pf = f"{self.work}/port.{self.i}"
        if os.path.exists(pf):
            os.remove(pf)
        log = open(f"{self.work}/r{self.i}.log", "ab")
        self.proc = subprocess.Popen(self.args + ["--listen", "127.0.0.1:0", "--port-file", pf], stdout=log, stderr=log)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(pf):
                self.port = int(open(pf).read().strip())
                return
            time.sleep(0.02)
        raise SystemExit(f"replica {self.i} did not start (see {self.work}/r{self.i}.log)")

    def role(self):
        st, body = http(self.port, "GET", "/healthz", timeout=0.5)
        return json.loads(body).get("role") if st == 200 else None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="build/bin/keb-server")
    ap.add_argument("--ttl", default="2s")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--terms", type=int, default=10)
    a = ap.parse_args()
    if not PGBIN:
        raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql)")
    work = tempfile.mkdtemp(prefix="keb-failover-")
    shutil.chown(work, "postgres")
    pg = lambda *args: subprocess.run(["runuser", "-u", "postgres", "--"] + list(args), check=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pg(f"{PGBIN}/initdb", "-D", f"{work}/data", "-U", "postgres", "-A", "trust", "-N", "--locale=C")
    pg(f"{PGBIN}/pg_ctl", "-D", f"{work}/data", "-w", "-l", f"{work}/pg.log", "-o",
       f"-c listen_addresses='' -c unix_socket_directories='{work}' -p 5432 -c fsync=off", "start")
    uri = f"postgresql:///postgres?host={work}&port=5432&user=postgres"
    reps = []
    try:
        for i in range(3):
            reps.append(Replica(i, [a.server, "--store", f"{uri}&application_name=r{i}", "--replica-id", f"r{i}",
                                    "--lease-ttl", a.ttl, "--demo-fleet", "200", "--auth", "none",
                                    "--access-log", "off", "--engine-log", "off"], work))
            reps[-1].start()

        def leader(timeout=30):
            end = time.time() + timeout
            while time.time() < end:
                for r in reps:
                    if r.role() == "leader":
                        return r
                time.sleep(0.05)
            raise SystemExit("no leader")

        def measure(sig, n):
            out = []
            for k in range(n):
                old = leader()
                survivor = next(r for r in reps if r is not old)
                t0 = time.monotonic()
                old.proc.send_signal(sig)
                while True:
                    st, _ = http(survivor.port, "POST", "/upgrade/kyma", WRITE, timeout=2)
                    if st == 202:
                        break
                    time.sleep(0.02)
                out.append(time.monotonic() - t0)
                old.proc.wait()
                old.start()
                time.sleep(0.5)
                print(f"  {signal.Signals(sig).name} #{k + 1}: {out[-1]:.2f} s", flush=True)
            return out

        kills = measure(signal.SIGKILL, a.kills)
        terms = measure(signal.SIGTERM, a.terms)
        for name, xs in (("kill -9", kills), ("SIGTERM", terms)):
            print(f"{name:8s} n={len(xs)} p50={pct(xs, 50):.2f}s p90={pct(xs, 90):.2f}s p99={pct(xs, 99):.2f}s "
                  f"max={max(xs):.2f}s (ttl {a.ttl})")
    finally:
        for r in reps:
            if r.proc and r.proc.poll() is None:
                r.proc.kill()
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PGBIN}/pg_ctl", "-D", f"{work}/data", "-m", "immediate",
                        "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
