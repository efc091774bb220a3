"""Fuzz target: the text engine (regex specs: klog, access and error logs); see targets.text."""

from harness import run, sample_lines
from targets import TEXT_SPECS

if __name__ == "__main__":
    run(
        "text",
        [bytes([i]) + b"\n".join(sample_lines(s)) + b"\n" for i, s in enumerate(TEXT_SPECS)]
        + [bytes([i]) + line for i, s in enumerate(TEXT_SPECS) for line in sample_lines(s)],
    )
