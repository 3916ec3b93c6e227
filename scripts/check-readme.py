#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The README shows examples/hello.c, examples/tour.c and
examples/dma_space.c (each from its first #include on): fail when one
differs, so the examples users copy are the ones the tests run."""
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
readme = (root / "README.md").read_text()
for name in ("hello.c", "tour.c", "dma_space.c"):
    code = (root / "examples" / name).read_text()
    code = code[code.index("#include <"):]
    if "```c\n" + code + "```\n" not in readme:
        sys.exit(f"README.md: a C example differs from examples/{name}; copy it over")
