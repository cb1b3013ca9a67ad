#!/usr/bin/env python3
"""Record lab runs as test cases, or refresh the recorded check lists.

  record.py RUN...     copy build/runs/RUN into lab/tests/data/RUN: its
                       evidence, the SMMU trace cut to what the verifier
                       reads and gzipped, and case.json, the check list the
                       verifier gives it now
  record.py --refresh  recompute every case.json with the verifier as it is
                       now, printing each check that changed

A refactoring of the lab must leave every case.json as it is (make unit);
a change of a rule refreshes them in the same commit, where the printed
changes are the review of the rule.
"""
import difflib
import gzip
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import evidence  # noqa: E402
import initrd  # noqa: E402
import protocol  # noqa: E402
import qemu  # noqa: E402
import runs  # noqa: E402
import test_verify  # noqa: E402

DATA = test_verify.DATA
FILES = ("serial", "boot", "evidence", "vmcore_dmesg", "crash")


def cut_trace(lines, after_per_sid=64, smmus=(protocol.SMMU,), sid_smmu=None,
              by_address=False):
    """Before the panic marker (the first SMMU_AIDR read of the first SMMU),
    only SMMU register writes matter (the stream table's base); after it, a
    device's DMA once the capture kernel took it over (its first CFGI_STE)
    is counted under "after", whose classes no check reads: its first few
    translations are kept (the VMIDs and ASIDs they were tagged with are
    read), and all from the dump-saved marker (the second read) on. An
    IOTLB lookup is kept with the translation it precedes. The MMIO of
    other devices than the SMMUs (machines with several SMMUs trace every
    device's) is dropped. smmus, sid_smmu: the machine's, as
    evidence.trace_dma() takes them."""
    events = evidence.trace_events(lines, smmus, by_address)
    devfn_sid = {s & 0xff: s for s in sid_smmu or {}}
    marks = evidence.markers(events)
    first = marks[0] if marks else len(lines)
    saved = marks[1] if len(marks) > 1 else len(lines)
    keep, taken, after, lookup = [], set(), {}, None
    for i, ln in enumerate(lines):
        ev, _, acc = events[i]
        if i < first:
            if acc and acc[1]:
                keep.append(ln)
            continue
        if ev and ev.startswith("memory_region_ops_") and not acc:
            continue
        if "smmu_iotlb_lookup_" in ln:
            lookup = ln
            continue
        m = re.search(r"smmuv3_cmdq_cfgi_ste.*?0x([0-9a-f]+)", ln)
        if m:
            taken.add(int(m.group(1), 16))
        m = re.search(r"smmuv3_translate_\w+ .*sid=0x([0-9a-f]+)", ln)
        sid = int(m.group(1), 16) if m else None
        m = re.search(r"smmuv3-iommu-memory-region-(\d+)-\d+ .*translation failed", ln)
        sid = devfn_sid.get(int(m.group(1)), int(m.group(1))) if m else sid
        if sid in taken and i < saved:
            after[sid] = after.get(sid, 0) + 1
            if after[sid] > after_per_sid:
                lookup = None
                continue
        if lookup and sid is not None:
            keep.append(lookup)
        lookup = None
        keep.append(ln)
    return keep


def parse_name(name):
    """A run folder's name back to its coordinates (runs.Run.name: the axes
    that are not the default lead, configuration, guest, machine, in that
    order); a fixture kernel's runs (its name in place of the variant) are
    patched's."""
    coords = {}
    axes = (("config", runs.CONFIGS[1:]), ("guest", [g for g in initrd.GUESTS if g != "init"]),
            ("machine", [m for m in qemu.MACHINES if m != "smmuv3"]))
    for axis, values in axes:
        for value in sorted(values, key=len, reverse=True):
            if name.startswith(value + "-"):
                coords[axis], name = value, name[len(value) + 1:]
                break
    variant, mode, scenario = name.split("-", 2)
    if variant not in runs.VARIANTS:
        coords["out"], variant = variant, "patched"
    return {**coords, "variant": variant, "mode": mode, "scenario": scenario}


def record(name):
    src_run = runs.Run(**parse_name(name))
    dst = os.path.join(DATA, name)
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    for what in FILES:
        if os.path.exists(src_run.path(what)):
            shutil.copy(src_run.path(what), dst)
    with open(src_run.path("qemu_log"), errors="replace") as f:
        kept = cut_trace(f.readlines(), smmus=protocol.SMMUS[src_run.machine],
                         sid_smmu=protocol.sid_smmu(src_run.machine),
                         by_address=qemu.MACHINES[src_run.machine].mmio_by_address)
    with gzip.GzipFile(os.path.join(dst, "qemu.log.gz"), "wb", mtime=0) as f:
        f.write("".join(kept).encode())
    case = {"run": parse_name(name),
            "with_crash": "crash_rc" in (evidence.read_json(src_run.path("evidence")) or {})}
    write_case(name, case)


def write_case(name, case):
    with tempfile.TemporaryDirectory() as root:
        test_verify.materialize(name, root)
        case["expected"] = test_verify.judge(root, case)
    with open(os.path.join(DATA, name, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")


def refresh():
    for name, case in test_verify.cases():
        before = [json.dumps(c) for c in case["expected"]]
        write_case(name, case)
        after = [json.dumps(c) for c in case["expected"]]
        for ln in difflib.unified_diff(before, after, name, name, n=0, lineterm=""):
            print(ln)


if __name__ == "__main__":
    if sys.argv[1:] == ["--refresh"]:
        refresh()
    elif sys.argv[1:] and not sys.argv[1].startswith("-"):
        for n in sys.argv[1:]:
            record(n)
    else:
        print(__doc__)
        sys.exit(2)
