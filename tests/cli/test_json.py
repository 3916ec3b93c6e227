#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Validate `upci ... --json` against docs/cli-json.schema.json.

Usage: test_json.py PATH/TO/upci PATH/TO/cli-json.schema.json

Runs info/list/config/irq with --json on the sim models (and on the host's
own PCI functions through sysfs where there are any), validates every
document with a small JSON Schema validator (the keywords the schema uses;
python3-jsonschema, when installed, checks the same documents too), checks
that the numbers agree with the device (config space, irq counts), and
checks that the validator rejects broken documents. Last line:
"N passed, N failed".
"""
import copy
import json
import os
import re
import subprocess
import sys

UPCI, SCHEMA_PATH = sys.argv[1], sys.argv[2]
SCHEMA = json.load(open(SCHEMA_PATH))
passed = failed = 0


def ok(what):
    global passed
    passed += 1
    print(f"ok   - {what}")


def bad(what):
    global failed
    failed += 1
    print(f"FAIL - {what}")


def resolve(ref):
    assert ref.startswith("#/"), ref
    node = SCHEMA
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def type_ok(v, t):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    raise ValueError(f"schema uses unknown type {t}")


KNOWN = {"$schema", "$id", "title", "description", "$defs", "$ref", "oneOf", "allOf", "if", "then", "type",
         "const", "enum", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
         "minimum", "maximum", "pattern"}


def errors(v, s, path="$"):
    """The list of reasons @v does not match schema @s (empty: it does)."""
    unknown = set(s) - KNOWN
    if unknown:
        raise ValueError(f"validator does not know {unknown}")
    errs = []
    if "$ref" in s:
        errs += errors(v, resolve(s["$ref"]), path)
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(type_ok(v, t) for t in types):
            return errs + [f"{path}: {v!r} is not of type {s['type']}"]
    if "const" in s and (v != s["const"] or type(v) is not type(s["const"])):
        errs.append(f"{path}: {v!r} is not {s['const']!r}")
    if "enum" in s and not any(v == e and type(v) is type(e) for e in s["enum"]):
        errs.append(f"{path}: {v!r} is not one of {s['enum']}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            errs.append(f"{path}: {v} < {s['minimum']}")
        if "maximum" in s and v > s["maximum"]:
            errs.append(f"{path}: {v} > {s['maximum']}")
    if isinstance(v, str) and "pattern" in s and not re.search(s["pattern"], v):
        errs.append(f"{path}: {v!r} does not match {s['pattern']}")
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            errs.append(f"{path}: fewer than {s['minItems']} items")
        if "maxItems" in s and len(v) > s["maxItems"]:
            errs.append(f"{path}: more than {s['maxItems']} items")
        if "items" in s:
            for i, item in enumerate(v):
                errs += errors(item, s["items"], f"{path}[{i}]")
    if isinstance(v, dict):
        props = s.get("properties", {})
        for k in s.get("required", []):
            if k not in v:
                errs.append(f"{path}: missing {k}")
        for k, item in v.items():
            if k in props:
                errs += errors(item, props[k], f"{path}.{k}")
            elif s.get("additionalProperties") is False:
                errs.append(f"{path}: unexpected {k}")
    if "allOf" in s:
        for sub in s["allOf"]:
            errs += errors(v, sub, path)
    if "if" in s and not errors(v, s["if"], path) and "then" in s:
        errs += errors(v, s["then"], path)
    if "oneOf" in s:
        matches = [sub for sub in s["oneOf"] if not errors(v, sub, path)]
        if len(matches) != 1:
            errs.append(f"{path}: matches {len(matches)} of the oneOf alternatives, not exactly 1")
    return errs


try:
    import jsonschema  # optional: python3-jsonschema
    LIB = jsonschema.Draft202012Validator(SCHEMA)
except Exception:  # not installed, or too old for 2020-12
    LIB = None


def valid(doc, what):
    errs = errors(doc, SCHEMA)
    if LIB is not None:
        errs += [f"jsonschema: {e.message}" for e in LIB.iter_errors(doc)]
    if errs:
        bad(f"{what}: " + "; ".join(errs[:5]))
        return False
    ok(f"{what}: valid")
    return True


def run(*args):
    p = subprocess.run([UPCI, *args], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"upci {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def document(*args):
    what = "upci " + " ".join(args)
    try:
        doc = json.loads(run(*args))
    except Exception as e:  # a crash, an error exit or invalid JSON
        bad(f"{what}: {e}")
        return None
    return doc if valid(doc, what) else None


def check(cond, what):
    ok(what) if cond else bad(what)


# info on the models: the fields must agree with config space.
for uri in ["sim:edu", "sim:testdev?vectors=64"]:
    info = document("info", "--json", uri)
    dump = document("config", "--json", uri)
    if info and dump:
        cfg = bytes.fromhex(dump["data"])
        le16 = lambda o: cfg[o] | cfg[o + 1] << 8
        check(info["vendor_id"] == le16(0) and info["device_id"] == le16(2) and info["command"] == le16(4)
              and info["class"] == (cfg[9] | le16(10) << 8) and len(cfg) == info["config_size"],
              f"info --json {uri}: IDs, class and COMMAND match its config space")
        caps = [c["offset"] for c in info["capabilities"]]
        check(caps and caps[0] == cfg[0x34], f"info --json {uri}: first capability at the header's pointer")
testdev = document("info", "--json", "sim:testdev?vectors=64")
if testdev:
    check(testdev["interrupt_vectors"]["msix"] == 64 and any(b["index"] == 2 and b["mappable"] for b in testdev["bars"])
          and [e["name"] for e in testdev["extended_capabilities"]][:1] == ["Device Serial Number"],
          "info --json testdev: 64 MSI-X vectors, BAR2 mappable, DSN first extended capability")

# config: a masked write then a read, in order.
cfgdoc = document("config", "--json", "sim:edu", "COMMAND=6:4", "COMMAND", "CAP_MSI+2.w")
if cfgdoc:
    ops = cfgdoc["operations"]
    check(len(ops) == 3 and ops[0]["op"] == "write" and ops[0]["value"] == 4 and ops[0]["mask"] == 4
          and ops[1] == {"register": "COMMAND", "offset": 4, "width": 2, "op": "read", "value": 4}
          and ops[2]["offset"] == 0x42, "config --json: write COMMAND=6:4 then read 0004; CAP_MSI+2 at 42")

# irq: one object per line and event.
try:
    lines = run("irq", "sim:testdev", "--fire", "--count", "3", "--interval", "0", "--timeout", "2000",
                "--json").splitlines()
    events = [json.loads(line) for line in lines]
    if all(valid(e, f"irq --json line {i + 1}") for i, e in enumerate(events)):
        kinds = [e["event"] for e in events]
        check(kinds == ["enabled", "interrupt", "interrupt", "interrupt", "end"]
              and [e["vector"] for e in events[1:4]] == [0, 1, 2] and events[-1]["interrupts"] == 3
              and events[-1]["reason"] == "count", "irq --json: enabled, vectors 0 1 2, end with 3 interrupts")
except Exception as e:
    bad(f"irq --json: {e}")

# The host's own functions, read through sysfs (Linux with a PCI bus).
if os.path.isdir("/sys/bus/pci/devices"):
    lst = document("list", "--json")
    if lst is not None:
        want = sorted(os.listdir("/sys/bus/pci/devices"))
        check([f["address"] for f in lst["functions"]] == want, "list --json: every function sysfs has")
        for f in lst["functions"][:4]:
            info = document("info", "--json", f["address"])
            if info:
                check(info["backend"] in ("vfio", "sysfs") and info["address"] == f["address"]
                      and info["vendor_id"] == f["vendor_id"] and info["host"] is not None,
                      f"info --json {f['address']}: host function, IDs as listed")

# The validator must be able to say no.
if testdev:
    broken = []
    d = copy.deepcopy(testdev); d["vendor_id"] = 70000; broken.append(("vendor_id out of range", d))
    d = copy.deepcopy(testdev); del d["bars"]; broken.append(("bars missing", d))
    d = copy.deepcopy(testdev); d["extra"] = 1; broken.append(("unknown key", d))
    d = copy.deepcopy(testdev); d["bars"][0]["kind"] = "mem16"; broken.append(("bad BAR kind", d))
    d = copy.deepcopy(testdev); d["kind"] = "irq"; broken.append(("wrong kind", d))
    d = copy.deepcopy(testdev); d["revision"] = True; broken.append(("boolean for an integer", d))
    for what, doc in broken:
        check(errors(doc, SCHEMA), f"schema rejects a document with {what}")
    check(errors({"kind": "irq", "event": "end", "uri": "x", "time": 0.1}, SCHEMA) != [],
          "schema rejects an irq end event without its count")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
