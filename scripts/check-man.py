#!/usr/bin/env python3
"""Fail when docs/man/man3 differs from what gen-man.py makes of the public
headers (upci.h, model.h)."""
import filecmp
import os
import subprocess
import sys
import tempfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
with tempfile.TemporaryDirectory() as d:
    subprocess.run([sys.executable, os.path.join(root, "scripts", "gen-man.py"), d], check=True, stdout=subprocess.DEVNULL)
    have = os.path.join(root, "docs", "man", "man3")
    cmp = filecmp.dircmp(d, have)
    bad = cmp.left_only + cmp.right_only + cmp.diff_files
    if bad:
        print("stale man pages (run scripts/gen-man.py):", " ".join(sorted(bad)))
        sys.exit(1)
print("man pages up to date")
