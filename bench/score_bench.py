"""Benchmark: load + validate + score of 1,000,000 respondents x 40 items against pandas' pyarrow reader.

Run by hand (``make bench`` or ``python bench/score_bench.py``). In one run it

1. generates (once, cached under ``outputs/bench/``) a seeded export of 1,000,000 respondents
   answering the bundled 40-item instrument, with item-id headers and numeric answers;
2. times ``pandas.read_csv(path, engine="pyarrow")`` of that file (the baseline);
3. times the kit's ``load_responses`` + ``score`` of the same file (modules imported before the
   clock on both sides, as a session that has imported its tools would see it);

each in a fresh process, ``--repeat`` times (alternating, so both see the same machine load), and
prints the best times, the ratio of the best times and the median ratio of paired runs, and the
peak resident memory of each process. Goals (issue 2): ratio <= 3 (stretch <= 2), peak memory < 4 GiB.

On a shared machine the paired median is the steadier figure: the one-second baseline lands in a
quiet moment more often than the three-second kit run does, so its best time is the more extreme.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Peak memory is the process's own high-water mark (VmHWM), which an exec resets; ru_maxrss would
# carry the parent's peak over.
PEAK = """
def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

BASELINE = PEAK + """
import json, sys, time
import pandas as pd
t = time.perf_counter()
frame = pd.read_csv(sys.argv[1], engine="pyarrow")
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "rows": len(frame), "peak_mib": peak_mib()}))
"""

# Both sides import their modules before the clock starts (the baseline its pandas, the kit the
# modules that load and score), so that the times compare the work on the file.
KIT = PEAK + """
import json, sys, time
import pmo_maturity as pm
from pmo_maturity import responses as _, scoring as _
q = pm.load_questionnaire()
t = time.perf_counter()
responses = pm.load_responses(sys.argv[1], q)
loaded = time.perf_counter() - t
scores = pm.score(responses)
elapsed = time.perf_counter() - t
dq = scores.data_quality
assert dq["rows_in"] == dq["rows_scored"] + dq["rows_quarantined"]
print(json.dumps({"seconds": elapsed, "load_seconds": loaded, "rows": dq["rows_in"],
                  "scored": dq["rows_scored"], "units": int(scores.units["unit"].nunique()),
                  "peak_mib": peak_mib()}))
"""


def make_file(path: Path, respondents: int, seed: int) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from pmo_maturity.sample import export_frame, generate_sample

    units = 20
    per_unit = respondents // units
    t = time.perf_counter()
    data = generate_sample(units=[(f"Unit {i + 1:02d}", per_unit) for i in range(units)], small_units=0,
                           bad_row_share=0.0, comment_share=0.05, seed=seed)
    frame = export_frame(data, layout="ids")
    for column in ("start_time", "submitted_at"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M:%S")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    tmp.replace(path)
    print(f"generated {len(frame):,} rows x {frame.shape[1]} columns in {time.perf_counter() - t:.1f} s "
          f"({path.stat().st_size / 2**20:.0f} MiB): {path}")


def run(code: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--file", type=Path, default=None, help="Use (or create) this file.")
    args = parser.parse_args()
    path = args.file or ROOT / "outputs" / "bench" / f"responses_{args.respondents}.csv"
    if not path.exists():  # in a child process, so that this process stays small
        code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import score_bench; " \
               f"score_bench.make_file(__import__('pathlib').Path({str(path)!r}), {args.respondents}, {args.seed})"
        subprocess.run([sys.executable, "-c", code], check=True)
    baseline, kit = [], []
    for i in range(args.repeat):
        baseline.append(run(BASELINE, path))
        kit.append(run(KIT, path))
        print(f"run {i + 1}: pandas pyarrow {baseline[-1]['seconds']:.2f} s, kit {kit[-1]['seconds']:.2f} s "
              f"(load {kit[-1]['load_seconds']:.2f} s)")
    best_base = min(r["seconds"] for r in baseline)
    best_kit = min(r["seconds"] for r in kit)
    peak_kit = max(r["peak_mib"] for r in kit)
    peak_base = max(r["peak_mib"] for r in baseline)
    print(f"\nfile: {kit[0]['rows']:,} rows in, {kit[0]['scored']:,} scored, {kit[0]['units']} units")
    print(f"pandas.read_csv(engine='pyarrow'): best {best_base:.2f} s, peak {peak_base:,.0f} MiB")
    print(f"kit load + validate + score:       best {best_kit:.2f} s, peak {peak_kit:,.0f} MiB")
    ratio = best_kit / best_base
    median = statistics.median(k["seconds"] / b["seconds"] for k, b in zip(kit, baseline))
    print(f"ratio kit / baseline: {ratio:.2f} best against best; {median:.2f} median of paired runs  "
          f"(goal <= 3, stretch <= 2)")
    print(f"peak memory of the kit: {peak_kit / 1024:.2f} GiB  (goal < 4 GiB)")


if __name__ == "__main__":
    main()
