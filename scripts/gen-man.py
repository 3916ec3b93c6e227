#!/usr/bin/env python3
"""Generate one man page (section 3) per public call from the kernel-doc
comments in the public headers - include/upci/upci.h (the driver API) and
include/upci/model.h (the device-author API) - so the headers stay the
single source.
Usage: scripts/gen-man.py [OUTDIR]   (default docs/man/man3)"""
import os
import re
import sys

INC = os.path.join(os.path.dirname(__file__), "..", "include", "upci")
# header, what its pages' SEE ALSO names
HEADERS = [
    ("upci.h", "upci(1), upci_strerror(3)"),
    ("model.h", "upci(1), upci_strerror(3), upci_model_register(3), upci_server_start(3)"),
]
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "docs", "man", "man3")
os.makedirs(out, exist_ok=True)

# A kernel-doc comment directly followed by a declaration - a library call
# (UPCI_API ...;) or an inline function of the header (static inline ... {:
# the synopsis ends at the brace); the body may not contain "*/" (so it
# never runs across a comment before a macro).
pat = re.compile(r"/\*\*\n((?:(?!\*/).)*?)\*/\n(UPCI_API[^;]*;|static inline[^{]*?)\s*\{?\n", re.S)


def roff(s):
    return s.replace("\\", "\\\\").replace("-", "\\-")


def page(header, see_also, body, decl):
    lines = [re.sub(r"^ \* ?", "", l) for l in body.rstrip().split("\n")]
    m = re.match(r"(\w+)\(\) - (.*)", lines[0])
    if not m:
        return None, None
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
    text = [f'.TH {name} 3 "" "upci" "upci manual"', ".SH NAME", f"{name} \\- {roff(summary)}",
            ".SH SYNOPSIS", ".nf", f".B #include <upci/{header}>", ".PP", f".BI \"{roff(decl)}\"", ".fi"]
    if params:
        text += [".SH ARGUMENTS"]
        for p in params:
            k, v = p.split(":", 1)
            text += [".TP", f".I {k[1:]}", roff(v.strip())]
    if any(d.strip() for d in desc):
        text += [".SH DESCRIPTION"] + [roff(d) if d.strip() else ".PP" for d in desc]
    text += [".SH RETURN VALUE", roff(" ".join(r.strip() for r in ret if r.strip())),
             ".SH SEE ALSO", see_also]
    return name, "\n".join(text) + "\n"


n = 0
for header, see_also in HEADERS:
    text = open(os.path.join(INC, header)).read()
    for body, decl in pat.findall(text):
        name, content = page(header, see_also, body, decl)
        if not name:
            continue
        with open(os.path.join(out, name + ".3"), "w") as f:
            f.write(content)
        n += 1
print(f"gen-man: {n} pages in {out}")
