#!/usr/bin/env python3
"""python3-kubernetes (the official client) against keb-fake-gardener: list with
pagination, watch with resourceVersion, and a merge patch through CustomObjectsApi.
Exit 77 when the kubernetes package is not installed."""
import os, subprocess, sys, tempfile, time, threading

try:
    from kubernetes import client, config, watch
except ImportError:
    print("SKIP: python3-kubernetes not installed")
    sys.exit(77)

fake = sys.argv[1]
work = tempfile.mkdtemp(prefix="keb-pyk8s.")
kc, portf = os.path.join(work, "kc.yaml"), os.path.join(work, "port")
p = subprocess.Popen([fake, "--listen", "127.0.0.1:0", "--shoots", "40", "--seed", "3", "--token", "py-token",
                      "--project", "py", "--write-kubeconfig", kc, "--port-file", portf, "--speed", "1200",
                      "--kubernetes-versions", "1.29.5:1", "--bookmark-interval", "1s"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        if os.path.exists(portf) and os.path.getsize(portf) > 0 and os.path.exists(kc):
            break
        time.sleep(0.05)
    config.load_kube_config(config_file=kc)
    api = client.CustomObjectsApi()
    G, V, NS, PL = "core.gardener.cloud", "v1beta1", "garden-py", "shoots"
    names, cont, pages = [], None, 0
    while True:
        kw = {"limit": 15}
        if cont:
            kw["_continue"] = cont
        page = api.list_namespaced_custom_object(G, V, NS, PL, **kw)
        pages += 1
        names += [s["metadata"]["name"] for s in page["items"]]
        cont = page["metadata"].get("continue")
        if not cont:
            break
    assert pages == 3 and len(names) == 40 and len(set(names)) == 40, (pages, len(names))
    print("ok: paginated list, %d pages, %d shoots" % (pages, len(names)))
    rv = api.list_namespaced_custom_object(G, V, NS, PL, limit=1)["metadata"]["resourceVersion"]
    seen = []
    def run_watch():
        w = watch.Watch()
        for ev in w.stream(api.list_namespaced_custom_object, G, V, NS, PL, resource_version=rv,
                           timeout_seconds=4):
            seen.append((ev["type"], ev["object"]["metadata"]["name"],
                         ev["object"].get("status", {}).get("lastOperation", {}).get("state")))
    t = threading.Thread(target=run_watch)
    t.start()
    time.sleep(1)
    target = names[5]
    out = api.patch_namespaced_custom_object(G, V, NS, PL, target,
                                             {"spec": {"kubernetes": {"version": "1.30.2"}}})
    assert out["spec"]["kubernetes"]["version"] == "1.30.2"
    t.join()
    mine = [e for e in seen if e[1] == target]
    assert len(mine) >= 2 and mine[-1][2] == "Succeeded", seen
    print("ok: watch delivered %d events for %s, last state %s" % (len(mine), target, mine[-1][2]))
    try:
        api.patch_namespaced_custom_object(G, V, NS, PL, target, {"spec": {"kubernetes": {"version": "1.28.0"}}})
        raise AssertionError("downgrade accepted")
    except client.exceptions.ApiException as e:
        assert e.status == 422 and "downgrade" in e.body, (e.status, e.body)
    print("ok: 422 on downgrade")
    print("PASS")
finally:
    p.terminate()
    p.wait()
    subprocess.run(["rm", "-rf", work])
