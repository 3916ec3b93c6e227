#!/usr/bin/env python3
"""Generate one man page (section 3) per public call from the kernel-doc
comments in include/upci/upci.h, so the header stays the single source.
Usage: scripts/gen-man.py [OUTDIR]   (default docs/man/man3)"""
import os
import re
import sys

HDR = os.path.join(os.path.dirname(__file__), "..", "include", "upci", "upci.h")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "docs", "man", "man3")
os.makedirs(out, exist_ok=True)
text = open(HDR).read()

# Library calls (UPCI_API ...;) and the header's inline functions
# (static inline ... { : the synopsis ends at the brace).
pat = re.compile(r"/\*\*\n(.*?)\*/\n(UPCI_API[^;]*;|static inline[^{]*?)\s*\{?\n", re.S)
n = 0
for body, decl in pat.findall(text):
    lines = [re.sub(r"^ \* ?", "", l) for l in body.rstrip().split("\n")]
    m = re.match(r"(\w+)\(\) - (.*)", lines[0])
    if not m:
        continue
    name, summary = m.groups()
    params, desc, ret = [], [], []
    section = "params"
    for l in lines[1:]:
        if l.startswith("Return:"):
            section = "ret"
            ret.append(l[len("Return:"):].strip())
            continue
        if section == "params" and re.match(r"@\w+:", l):
            params.append(l)
            continue
        if section == "params" and params and l.startswith("  ") and l.strip():
            params[-1] += " " + l.strip()
            continue
        if section == "params" and not l.strip():
            section = "desc"
            continue
        (ret if section == "ret" else desc).append(l)
    decl = " ".join(decl.replace("UPCI_API ", "").split())
    if not decl.endswith(";"):
        decl += ";"

    def roff(s):
        return s.replace("\\", "\\\\").replace("-", "\\-")

    page = [f'.TH {name} 3 "" "upci" "upci manual"', ".SH NAME", f"{name} \\- {roff(summary)}",
            ".SH SYNOPSIS", ".nf", ".B #include <upci/upci.h>", ".PP", f".BI \"{roff(decl)}\"", ".fi"]
    if params:
        page += [".SH ARGUMENTS"]
        for p in params:
            k, v = p.split(":", 1)
            page += [".TP", f".I {k[1:]}", roff(v.strip())]
    if any(d.strip() for d in desc):
        page += [".SH DESCRIPTION"] + [roff(d) if d.strip() else ".PP" for d in desc]
    page += [".SH RETURN VALUE", roff(" ".join(r.strip() for r in ret if r.strip())),
             ".SH SEE ALSO", "upci(1), upci_strerror(3)"]
    with open(os.path.join(out, name + ".3"), "w") as f:
        f.write("\n".join(page) + "\n")
    n += 1
print(f"gen-man: {n} pages in {out}")
