#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The README shows examples/hello.c (from its first #include on): fail
when the two differ, so the example users copy is the one the tests run."""
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
code = (root / "examples" / "hello.c").read_text()
code = code[code.index("#include <stdio.h>"):]
readme = (root / "README.md").read_text()
if "```c\n" + code + "```\n" not in readme:
    sys.exit("README.md: the C example differs from examples/hello.c; copy it over")
# The DMA example (examples/dma_space.c), from its first #include on.
code = (root / "examples" / "dma_space.c").read_text()
code = code[code.index("#include <errno.h>"):]
if "```c\n" + code + "```\n" not in readme:
    sys.exit("README.md: the DMA example differs from examples/dma_space.c; copy it over")
