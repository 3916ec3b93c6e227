#!/usr/bin/env python3
"""Fail when a layer includes what it must not:
- src/core includes nothing from the model layer (src/model);
- the built-in models (edu, testdev) and examples/gpio are written against
  the public device-author API: besides system headers they include only
  upci/model.h, upci/upci.h and their own register maps."""
import glob
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
inc = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
bad = []


def includes(path):
    """(name, system): system when written <name>, as a system header is."""
    return [(h, d == "<") for d, h in inc.findall(open(path).read())]


model_headers = {os.path.basename(p) for p in glob.glob(os.path.join(root, "src", "model", "*.h"))}
for p in glob.glob(os.path.join(root, "src", "core", "*.[ch]")):
    for h, _ in includes(p):
        if os.path.basename(h) in model_headers:
            bad.append(f"{os.path.relpath(p, root)} includes {h} (src/model)")

public = {"upci/model.h", "upci/upci.h"}
authors = {
    "src/model/edu.c": {"edu_regs.h"},
    "src/model/testdev.c": {"testdev_regs.h", "testdev_dma.h"},
    "src/model/testdev_dma.c": {"testdev_regs.h", "testdev_dma.h"},
    "src/model/testdev_dma.h": set(),
    "examples/gpio/gpio.c": {"gpio.h"},
    "examples/gpio/main.c": {"gpio.h"},
}
# Every header of the project's own: a quoted name of one of these is not
# a system header, whatever its spelling.
ours = {os.path.basename(p) for p in glob.glob(os.path.join(root, "src", "**", "*.h"), recursive=True)}
for rel, own in authors.items():
    for h, angled in includes(os.path.join(root, rel)):
        if h in public or h in own:
            continue
        if angled and os.path.basename(h) not in ours:
            continue
        bad.append(f"{rel} includes {h}: not the public device API")

if bad:
    print("\n".join(bad))
    sys.exit(1)
print("layers: src/core includes nothing from src/model; edu, testdev and the GPIO example use upci/model.h only")
