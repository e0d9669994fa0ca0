"""Load: 8 module runs at once over overlapping `users` lists (the same new user in several runs):
each user is created exactly once overall, every run succeeds, and the accounts are as asked.
(8 runs for one new user: tests/test_module.py::test_simultaneous_runs_for_one_new_user_create_it_once.)"""

import json
import subprocess
import uuid

from conftest import BINARY, assert_no_secret


def test_simultaneous_runs_over_overlapping_lists(synapse, run, tmp_path):
    prefix = "c" + uuid.uuid4().hex[:8]
    names = [f"{prefix}-{i:02d}" for i in range(16)]
    wanted = {n: {"password": f"pw-{n}-Ü", "admin": i % 3 == 0} for i, n in enumerate(names)}
    # Two users exist already: one as wanted, one to be promoted.
    synapse.create(names[5], wanted[names[5]]["password"], admin=False)
    assert wanted[names[5]]["admin"] is False
    wanted[names[6]]["admin"] = True
    synapse.create(names[6], wanted[names[6]]["password"], admin=False)

    # Run r ensures 10 consecutive users from 2r on (so each user is in 5 runs); 10 or more users
    # take the listing path, fewer the look-up path: runs 0-3 get 10, runs 4-7 only 6.
    lists = []
    for r in range(8):
        count = 10 if r < 4 else 6
        chosen = [names[(2 * r + k) % len(names)] for k in range(count)]
        lists.append([{"username": n, **wanted[n]} for n in chosen])
    procs = []
    for r, users in enumerate(lists):
        args = tmp_path / f"args-{r}"
        params = run.connection(users=users, concurrency=4, wait_timeout=30)
        args.write_text(json.dumps(dict(params, _ansible_check_mode=False)))
        procs.append(subprocess.Popen([BINARY, args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    secrets = [w["password"] for w in wanted.values()] + synapse.secrets
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert_no_secret(out + err, secrets)
        assert err == ""
        results.append(json.loads(out))

    assert [r.get("failed", False) for r in results] == [False] * 8, [r["msg"] for r in results]
    created = {n: 0 for n in names}
    promoted = {n: 0 for n in names}
    for result in results:
        for entry in result["users"]:
            assert entry.get("failed") is not True, entry
            created[entry["username"]] += entry["created"]
            promoted[entry["username"]] += entry["changed"] and not entry["created"]
    assert created == {n: 0 if n in names[5:7] else 1 for n in names}, created
    # Runs that looked before any of them promoted the user each promote it and say so: Synapse's
    # admin API has no compare-and-set that would tell the second it was already done.
    assert promoted[names[6]] >= 1 and sum(promoted.values()) == promoted[names[6]], promoted
    for n in names:
        assert synapse.is_admin(n) is wanted[n]["admin"], n
        assert synapse.can_log_in(n, wanted[n]["password"]), n

    again = run.module(run.connection(users=[{"username": n, **wanted[n]} for n in names]))
    assert again["changed"] is False and again["totals"]["unchanged"] == 16, again["msg"]
