"""Runs the pinned Volatility 3 on the demo case's memory image with the ISF the workflow built
(both downloaded from the evidence bucket by `irf-lab case`), prints the first rows of
linux.pslist and checks that it shows the marker process the guest started, with its PID.

    demo-volatility.py VOL WORK_DIR
"""

import json
import os
import subprocess
import sys


def main() -> None:
    vol, work = sys.argv[1:3]
    case = json.load(open(f"{work}/case.json"))
    marker = case["marker"]
    # Volatility needs its cache directory to exist; the first run validates the ISF (~1 min).
    os.makedirs(f"{work}/volatility-cache", exist_ok=True)
    out = subprocess.run(
        [vol, "--offline", "-q", "-r", "json", "--cache-path", f"{work}/volatility-cache",
         "-s", case["isf"]["dir"], "-f", case["memory_image"]["file"], "linux.pslist.PsList"],
        capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"vol linux.pslist.PsList failed ({out.returncode}):\n{out.stderr}")
    rows = json.loads(out.stdout)
    print(f"linux.pslist.PsList: {len(rows)} processes; the first and the marker:")
    print(f"  {'PID':>6} {'PPID':>6}  COMM")
    hits = [r for r in rows if r["PID"] == marker["pid"] and r["COMM"] == marker["comm"]]
    for r in rows[:8] + hits:
        print(f"  {r['PID']:>6} {r['PPID']:>6}  {r['COMM']}")
    if not hits:
        sys.exit(f"the guest's marker {marker['comm']} (PID {marker['pid']}) is not in pslist")
    print(f"the guest's marker {marker['comm']} with PID {marker['pid']} is in the image")


if __name__ == "__main__":
    main()
