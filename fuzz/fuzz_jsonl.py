"""Fuzz target: the JSON-lines engine (vectorized decode, the robust fallback, payload keys,
time fields); see targets.jsonl."""

from harness import fixture_files, run, sample_lines
from targets import JSONL_SPECS

if __name__ == "__main__":
    seeds = [bytes([i]) + b"\n".join(sample_lines(s)) + b"\n" for i, s in enumerate(JSONL_SPECS)]
    seeds += [bytes([i]) + f for i, s in enumerate(JSONL_SPECS) for f in fixture_files(s)]
    run("jsonl", [s for s in seeds if len(s) > 1])
