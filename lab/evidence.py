"""A run's evidence: collected once after the boot, then parsed, never judged.

collect(run) turns the guest's dump disk into the vmcore and runs the host's
tools on it (vmcore-dmesg, crash), writing their output into the run folder
with their exit codes in evidence.json. Evidence(run) reads the folder: the
serial log split between the two kernels, the "LAB:" lines, QEMU's SMMU
trace classified, the KTAP of KUnit and of the kselftest. lab/verify.py
decides what of it is a pass.
"""
import functools
import json
import os
import re
import struct
import subprocess

import protocol
import qemu
import runs

# --- collect: after the boot, the only step that writes -------------------

CRASH_COMMANDS = "sys\nlog\nbt\nmod\nkmem -i\nps\nexit\n"
# qemu-user's CPU for crash: with the default ("max") the sysroot's glibc
# picks SVE string routines, which qemu-user emulates about 20 times slower.
CRASH_CPU = "cortex-a72"


def elf_core(path):
    """The ELF core header of a vmcore: {end, notes} or {error}.

    end is the end of the last segment; notes maps a note name to its
    descriptors."""
    with open(path, "rb") as f:
        eh = f.read(64)
        if len(eh) < 64 or eh[:4] != b"\x7fELF":
            return {"error": "no ELF magic"}
        if eh[4] != 2 or eh[5] != 1:
            return {"error": "not ELF64 little-endian"}
        e_type, e_machine = struct.unpack_from("<HH", eh, 16)
        if e_type != 4:
            return {"error": f"e_type {e_type}, not ET_CORE"}
        if e_machine != 183:
            return {"error": f"e_machine {e_machine}, not EM_AARCH64"}
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        end, notes = 0, {}
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _, off, _, _, filesz, _, _ = struct.unpack("<IIQQQQQQ", f.read(56))
            end = max(end, off + filesz)
            if p_type != 4:
                continue
            f.seek(off)
            data, pos = f.read(filesz), 0
            while pos + 12 <= len(data):
                namesz, descsz, _ = struct.unpack_from("<III", data, pos)
                pos += 12
                name = data[pos:pos + namesz].rstrip(b"\0").decode("ascii", "replace")
                pos += (namesz + 3) & ~3
                notes.setdefault(name, []).append(data[pos:pos + descsz])
                pos += (descsz + 3) & ~3
        return {"end": end, "notes": notes}


def vmcore_summary(path):
    """What the verifier needs of the vmcore's ELF header, as JSON."""
    core = elf_core(path)
    if "error" in core:
        return {"error": core["error"]}
    info = b"".join(core["notes"].get("VMCOREINFO", [])).decode("ascii", "replace")
    rel = re.search(r"OSRELEASE=(\S+)", info)
    return {"end": core["end"], "size": os.path.getsize(path),
            "osrelease": rel.group(1) if rel else None, "crashtime": "CRASHTIME=" in info,
            "cpu_notes": len(core["notes"].get("CORE", []))}


def tool(args, out_path, **kw):
    """Run a host tool, its output to out_path; its exit code, or "timeout"."""
    try:
        r = subprocess.run(args, capture_output=True, text=True, errors="replace", **kw)
    except subprocess.TimeoutExpired:
        return "timeout"
    with open(out_path, "w") as f:
        f.write(r.stdout + r.stderr)
    return r.returncode


def collect(run, with_crash):
    """The dump disk becomes the vmcore (cut to its ELF segments); then
    vmcore-dmesg and, with_crash, crash (Debian's arm64 build under
    qemu-user) read it. Writes evidence.json."""
    core, ev = run.path("vmcore"), {}
    if os.path.exists(run.path("disk")):
        os.replace(run.path("disk"), core)
    for stale in ("vmcore_dmesg", "crash"):
        if os.path.exists(run.path(stale)):
            os.unlink(run.path(stale))
    if os.path.exists(core):
        ev["vmcore"] = vmcore_summary(core)
        end = ev["vmcore"].get("end")
        if end is not None and ev["vmcore"]["size"] >= end:
            os.truncate(core, end)
        ev["vmcore_dmesg_rc"] = tool(["vmcore-dmesg", core], run.path("vmcore_dmesg"))
    if with_crash:
        crash = os.path.join(runs.CRASH_ROOT, "usr/bin/crash")
        if not os.path.exists(crash):
            ev["crash_rc"] = "crash not installed (make deps)"
        elif os.path.exists(core):
            ev["crash_rc"] = tool(["qemu-aarch64-static", "-cpu", CRASH_CPU, "-L",
                                   runs.CRASH_ROOT, crash, "-s",
                                   "--no_scroll", run.vmlinux, core], run.path("crash"),
                                  input=CRASH_COMMANDS, timeout=600,
                                  env=dict(os.environ, TERM="dumb"))
    with open(run.path("evidence"), "w") as f:
        json.dump(ev, f, indent=1, sort_keys=True)
    return ev


# --- parsers: text in, facts out -------------------------------------------

def lab_lines(text, key):
    """Values of "LAB: key..." lines, as dicts of key=value."""
    out = []
    for m in re.finditer(r"LAB: (" + re.escape(key) + r"[= ].*)", text):
        out.append(dict(re.findall(r'(\w+)=("[^"]*"|\S+)', m.group(1))))
    return out


def kernel_problems(text):
    """Oops (any "Internal error", e.g. an external abort), BUG (KASAN's and
    sleeping-in-atomic's too), any WARNING (WARN's, and lockdep's and RCU's
    reports), debugobjects', hung tasks, panics in a kernel's log."""
    pats = [r"Internal error: ", r"\bBUG: ", r"(^|\] )WARNING: ", r"(^|\] )ODEBUG: ",
            r"blocked for more than \d+ seconds", r"Unable to handle kernel",
            r"Kernel panic - not syncing"]
    return [ln for ln in text.splitlines() if any(re.search(p, ln) for p in pats)]


def before_panic(system_log):
    """The system kernel's log up to the lab's panic (its own sysrq crash
    is expected)."""
    idx = system_log.find("LAB: panic ")
    return system_log if idx < 0 else system_log[:idx]


def boot_mode(text, smmu=protocol.SMMU):
    """Which firmware interface a kernel's log shows: 'acpi', 'dt' or None.

    ACPI: the IORT table is listed and the SMMU (a protocol.Smmu) is the
    platform device IORT creates; DT: the SMMU is the device tree's node."""
    acpi = "ACPI: IORT" in text and f"arm-smmu-v3 {smmu.acpi_name}" in text
    dt = f"arm-smmu-v3 {smmu.dt_name}" in text
    if acpi and not dt:
        return "acpi"
    if dt and not acpi:
        return "dt"
    return None


KTAP_RESULT = re.compile(r"^(\s*)(ok|not ok) \d+ (\S+)(.*)$")


def ktap_state(res, rest):
    return "skip" if "# SKIP" in rest else ("pass" if res == "ok" else "fail")


def kunit_results(text):
    """KUnit's KTAP in a serial log: [(suite, test, 'pass'|'fail'|'skip')].

    Only the tests of each suite are returned (the suites' own result lines
    and the cases of parameterised tests are not)."""
    out, suite = [], None
    for ln in text.splitlines():
        ln = re.sub(r"^\[\s*\d+\.\d+\] ", "", ln.rstrip())
        m = re.match(r"^    # Subtest: (\S+)", ln)
        if m:
            suite = m.group(1)
            continue
        m = KTAP_RESULT.match(ln)
        if not m or suite is None:
            continue
        indent, res, name, rest = m.groups()
        if len(indent) == 4:
            out.append((suite, name, ktap_state(res, rest)))
    return out


def selftest_results(capture_log):
    """The capture stage's kselftest run: (exit code or None, [(test, state)],
    the KTAP plan and totals lines), or None if /init did not run it."""
    start = capture_log.find("LAB: selftest=start")
    if start < 0:
        return None
    end = re.search(r"LAB: selftest=done rc=(\d+)", capture_log[start:])
    body = capture_log[start:start + end.start()] if end else capture_log[start:]
    tests, notes = [], []
    for ln in body.splitlines():
        ln = ln.rstrip("\r")
        m = KTAP_RESULT.match(ln)
        if m and not m.group(1):
            tests.append((m.group(3), ktap_state(m.group(2), m.group(4))))
        elif re.match(r"^1\.\.\d+", ln) or ln.startswith("# Totals"):
            notes.append(ln)
    return (int(end.group(1)) if end else None), tests, notes


def smmu_device(log, smmu):
    """The platform device of an SMMU (a protocol.Smmu) in a kernel's log:
    the device tree's node if the log names it, else IORT's device."""
    return smmu.dt_name if smmu.dt_name in log else smmu.acpi_name


def adoption_view(capture_log, smmu):
    """The series' debugfs view of an SMMU (a protocol.Smmu) as the kselftest
    printed it ("# DEVICE: key: value" lines): {key: value}; repeated keys
    (deferred) keep the last."""
    pat = re.compile(r"^# " + re.escape(smmu_device(capture_log, smmu))
                     + r": (\w+): (.*?)\r?$", re.M)
    return {k: v for k, v in pat.findall(capture_log)}


def id_list(text):
    """A bitmap list as the kernel prints it ("1-3,7", or "none"): a set."""
    out = set()
    for part in ("" if text in (None, "none") else text).split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    return out


OUTCOME_LINES = {
    "reset": r"SMMU currently enabled! Resetting",
    "adopted": r"kdump: adopted the crashed kernel's[^\r\n]*",
    "refused": r"kdump: not adopting the crashed kernel's stream table: ([^\r\n]*)",
    "optout": r"disabled by arm_smmu_v3\.kdump_adopt=0",
}


def outcome_lines(capture_log, smmu=None):
    """The capture kernel's SMMU outcome lines: {kind: match or None}; of
    one SMMU's device (a protocol.Smmu) only, where given."""
    if smmu is not None:
        dev = f"arm-smmu-v3 {smmu_device(capture_log, smmu)}: "
        capture_log = "\n".join(ln for ln in capture_log.splitlines() if dev in ln)
    return {k: re.search(p, capture_log) for k, p in OUTCOME_LINES.items()}


STE_CFG = {0: "abort", 4: "bypass", 5: "s1", 6: "s2", 7: "nested"}


# --- QEMU's SMMU trace ------------------------------------------------------

# A trace line: QEMU 10 prefixes "PID@SECONDS:", QEMU 11 an ISO-8601 time.
TRACE = re.compile(r"(?:\d+@[\d.]+:|[\d:T.-]+Z )?"
                   r"(smmuv3_\w+|smmu_iotlb_lookup_\w+|memory_region_ops_\w+) (.*)")
SMMU_MMIO = re.compile(r"addr: (0x[0-9a-f]+) val:(0x[0-9a-f]+) size: 0x([0-9a-f]+)")
MR_OPS = re.compile(r"addr (0x[0-9a-f]+) value (0x[0-9a-f]+) size (\d+)")
# QEMU names a device's IOMMU memory region "smmuv3-iommu-memory-region-DEVFN-N".
NAME_DEVFN = re.compile(r"smmuv3-iommu-memory-region-(\d+)-\d+")
CLASSES = ("old", "new", "untranslated", "ste_bypass", "in_capture_mem", "aborted",
           "crashed_faults", "gbpa_abort", "probed")
# What a translation did once the capture kernel had cleared SMMUEN last.
TEARDOWN_CLASSES = {"smmuv3_translate_disable": "untranslated",
                    "smmuv3_translate_bypass": "untranslated",
                    "smmuv3_translate_abort": "aborted"}


def smmu_access(ev, rest, smmus, by_address=False):
    """The SMMU register access of a trace event, or None: (the SMMU's index
    in smmus, a write?, offset, value, size). by_address (the machine's
    qemu.Machine.mmio_by_address): the memory_region_ops_read/write lines,
    which carry the absolute address: the SMMU is the one whose registers
    hold it; else QEMU's smmuv3_read/write_mmio lines (they carry the offset
    only, not which SMMU: one SMMU only). ValueError if the line's
    arguments do not parse."""
    if not by_address:
        if ev not in ("smmuv3_read_mmio", "smmuv3_write_mmio"):
            return None
        if len(smmus) != 1:
            raise ValueError(f"{ev} cannot tell {len(smmus)} SMMUs apart")
        a = SMMU_MMIO.search(rest)
        if not a:
            raise ValueError(f"unparsed {ev}: {rest.strip()}")
        return (0, ev == "smmuv3_write_mmio", int(a.group(1), 16), int(a.group(2), 16),
                int(a.group(3), 16))
    if not ev.startswith("memory_region_ops_"):
        return None
    a = MR_OPS.search(rest)
    if not a:
        raise ValueError(f"unparsed {ev}: {rest.strip()}")
    addr = int(a.group(1), 16)
    for k, smmu in enumerate(smmus):
        if smmu.base <= addr < smmu.base + protocol.SMMU_SIZE:
            return k, ev.endswith("_write"), addr - smmu.base, int(a.group(2), 16), \
                int(a.group(3))
    return None


def trace_events(lines, smmus, by_address=False):
    """Each trace line parsed once: (event or None, rest, SMMU access or
    None). ValueError, naming the line, if an SMMU access does not parse."""
    out = []
    for i, ln in enumerate(lines):
        m = TRACE.match(ln.strip())
        if not m:
            out.append((None, ln, None))
            continue
        ev, rest = m.groups()
        try:
            out.append((ev, rest, smmu_access(ev, rest, smmus, by_address)))
        except ValueError as e:
            raise ValueError(f"trace line {i + 1}: {e}") from None
    return out


def markers(events):
    """The lines of /init's SMMU_AIDR reads of the first SMMU: the panic,
    then the dump saved."""
    return [i for i, (_, _, acc) in enumerate(events)
            if acc and acc[0] == 0 and not acc[1] and acc[2] == protocol.SMMU_AIDR]


def trace_dma(lines, region, smmus=(protocol.SMMU,), sid_smmu=None, by_address=False):
    """Classify each device's DMA from the panic until the capture kernel
    takes it over, from QEMU's trace (a list of lines).

    The panic is the system stage's read of SMMU_AIDR (no driver reads it);
    the capture kernel's SMMU driver starts at its first read of SMMU_IDR0
    after it. A device is taken over at the capture kernel's first CFGI_STE
    for its stream ID; its DMA after that is counted under "after".
    Classes: "old"/"new", translated by the crashed kernel's stream table or
    by one the capture kernel installed; "untranslated" (SMMU disabled),
    "ste_bypass"; "in_capture_mem", those of either whose address lies in
    region (the capture kernel's memory); "aborted" (an STE abort or a
    translation fault, which QEMU logs as a guest error), "crashed_faults"
    the aborts before the capture kernel's driver started; "gbpa_abort", the
    untranslated ones after the capture kernel set GBPA.ABORT; "probed", those
    (but the first two) after the capture kernel started to probe the
    device's SMMU (its first read of SMMU_IDR0).
    /init's second SMMU_AIDR read, if any, marks the dump saved: "saved_dma"
    is each device's DMA from it to the teardown at the capture kernel's
    reboot.
    Also: the capture kernel's first reads of SMMU_IDR0, GERROR and GERRORN;
    per device and window the VMIDs and the ASIDs that tagged its
    translations (where the trace has the IOTLB lookups: the lookup of a
    translation's IOVA just before it); and its
    last teardown ("teardown", None if SMMUEN was set last): where it cleared
    SMMUEN, whether the last GBPA write before had set GBPA.ABORT, and what
    each DMA after it did.

    Several SMMUs (smmus, protocol.Smmu each; sid_smmu: {stream ID: index
    of its SMMU}, 0 for any other; by_address, as the machine's trace has
    them, qemu.Machine.mmio_by_address): each register access is the SMMU's
    whose registers hold its address (smmu_access()); the markers are the first
    SMMU's; each SMMU has its own stream table, capture start, GBPA and
    teardown, and a device's DMA is judged against its own SMMU's. "smmus"
    has the per-SMMU facts (capture_writes, gerror, teardown, idr0,
    crashed_strtab), the top-level ones are the first SMMU's. A translation
    fault names the device's devfn only: it is the stream ID of sid_smmu
    with that devfn. A trace line that does not parse: {"error": ...}."""
    sid_smmu = sid_smmu or {}
    devfn_sid = {s & 0xff: s for s in sid_smmu}
    try:
        events = trace_events(lines, smmus, by_address)
    except ValueError as e:
        return {"error": str(e)}
    marks = markers(events)
    if not marks:
        return {"error": "no panic marker (SMMU_AIDR read) in the trace"}
    last_marker = marks[0]
    saved = marks[1] if len(marks) > 1 else None
    saved_dma = {}
    st = [{"strtab": None, "crashed_strtab": None, "capture_started": False,
           "gbpa_abort": False, "gbpa_abort_set": False, "capture_writes": 0,
           "teardown": None, "gerror": {}} for _ in smmus]
    taken, counts, vmids, asids = set(), {}, {}, {}
    lookup = None

    def bump(sid, cls):
        started = st[sid_smmu.get(sid, 0)]["capture_started"]
        if cls == "aborted" and not started:
            cls = "crashed_faults"
        d = counts.setdefault(sid, {"capture": dict.fromkeys(CLASSES, 0),
                                    "after": dict.fromkeys(CLASSES, 0)})
        window = d["after" if sid in taken else "capture"]
        window[cls] += 1
        if started and cls in ("old", "new", "untranslated", "ste_bypass", "aborted"):
            window["probed"] += 1

    for i, (ev, rest, acc) in enumerate(events):
        if i == last_marker:
            for s in st:
                s["crashed_strtab"] = s["strtab"]
            continue
        if ev is None:
            d = NAME_DEVFN.search(rest)
            if i > last_marker and d and "translation failed" in rest:
                devfn = int(d.group(1))
                bump(devfn_sid.get(devfn, devfn), "aborted")
            continue
        if acc:
            k, write, addr, val, size = acc
            s = st[k]
            if write:
                if addr == protocol.SMMU_STRTAB_BASE:
                    s["strtab"] = val if size == 8 else (((s["strtab"] or 0) >> 32) << 32) | val
                elif addr == protocol.SMMU_STRTAB_BASE + 4:
                    s["strtab"] = ((s["strtab"] or 0) & 0xFFFFFFFF) | (val << 32)
                elif addr == protocol.SMMU_GBPA:
                    s["gbpa_abort_set"] = bool(val & protocol.GBPA_ABORT)
                    s["gbpa_abort"] |= s["capture_started"] and s["gbpa_abort_set"]
                elif addr == protocol.SMMU_CR0 and s["capture_started"]:
                    s["teardown"] = None if val & protocol.CR0_SMMUEN else {
                        "line": i + 1, "gbpa_abort": s["gbpa_abort_set"],
                        "untranslated": 0, "aborted": 0, "translated": 0}
                s["capture_writes"] += s["capture_started"]
            elif i > last_marker:
                if addr == protocol.SMMU_IDR0:
                    s["capture_started"] = True
                    s["gerror"].setdefault(addr, val)
                elif s["capture_started"] and addr in (protocol.SMMU_GERROR,
                                                       protocol.SMMU_GERROR + 4):
                    s["gerror"].setdefault(addr, val)
            continue
        if i < last_marker:
            continue
        if ev == "smmuv3_cmdq_cfgi_ste":
            taken.add(int(re.search(r"0x([0-9a-f]+)", rest).group(1), 16))
            continue
        if ev.startswith("smmu_iotlb_lookup_"):
            a = re.search(r"asid=(-?\d+) vmid=(-?\d+) addr=0x([0-9a-f]+)", rest)
            lookup = (int(a.group(3), 16), int(a.group(2)), int(a.group(1)))
            continue
        if not ev.startswith("smmuv3_translate_"):
            continue
        sid = int(re.search(r"sid=0x([0-9a-f]+)", rest).group(1), 16)
        s = st[sid_smmu.get(sid, 0)]
        if ev == "smmuv3_translate_success" and lookup:
            iova = int(re.search(r"iova=0x([0-9a-f]+)", rest).group(1), 16)
            if lookup[0] == iova:
                window = "after" if sid in taken else "capture"
                vmids.setdefault(sid, {"capture": set(), "after": set()})[window].add(lookup[1])
                asids.setdefault(sid, {"capture": set(), "after": set()})[window].add(lookup[2])
            lookup = None
        if s["teardown"] is not None:
            s["teardown"][TEARDOWN_CLASSES.get(ev, "translated")] += 1
        elif saved is not None and i > saved:
            d = saved_dma.setdefault(sid, {"untranslated": 0, "aborted": 0, "translated": 0})
            d[TEARDOWN_CLASSES.get(ev, "translated")] += 1
        if ev == "smmuv3_translate_success":
            bump(sid, "old" if s["strtab"] == s["crashed_strtab"] else "new")
        elif ev in ("smmuv3_translate_disable", "smmuv3_translate_bypass"):
            bump(sid, "untranslated" if ev == "smmuv3_translate_disable" else "ste_bypass")
            if ev == "smmuv3_translate_disable" and s["gbpa_abort"]:
                bump(sid, "gbpa_abort")
            iova = int(re.search(r"iova:0x([0-9a-f]+)", rest).group(1), 16)
            if region and region[0] <= iova < region[1]:
                bump(sid, "in_capture_mem")
        elif ev == "smmuv3_translate_abort":
            bump(sid, "aborted")
    per = [{"capture_writes": s["capture_writes"], "teardown": s["teardown"],
            "idr0": s["gerror"].pop(protocol.SMMU_IDR0, None), "gerror": s["gerror"],
            "crashed_strtab": s["crashed_strtab"]} for s in st]
    return {"counts": counts, "taken": taken, "capture_writes": per[0]["capture_writes"],
            "region": region, "gerror": per[0]["gerror"], "teardown": per[0]["teardown"],
            "vmids": vmids, "asids": asids, "idr0": per[0]["idr0"],
            "saved_marker": saved is not None, "saved_dma": saved_dma, "smmus": per}


def dma_summary(td, sid, window="capture"):
    """One device's counts in a window ("capture" or "after"), by class."""
    return td.get("counts", {}).get(sid, {}).get(window, dict.fromkeys(CLASSES, 0))


# --- one run's evidence, read once -----------------------------------------

def read_text(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


class Evidence:
    """What a run folder holds, parsed on first use."""

    def __init__(self, run):
        self.run = run
        self.serial = read_text(run.path("serial")) or ""
        self.boot = read_json(run.path("boot")) or {}
        self.collected = read_json(run.path("evidence")) or {}
        idx = self.serial.find(protocol.CAPTURE_START)
        self.system_log, self.capture_log = \
            (self.serial, "") if idx < 0 else (self.serial[:idx], self.serial[idx:])

    def text(self, what):
        """vmcore-dmesg's or crash's output (None if it did not run)."""
        return read_text(self.run.path(what))

    @functools.cached_property
    def trace(self):
        path = self.run.path("qemu_log")
        if not os.path.exists(path):
            return {"error": "no qemu.log"}
        with open(path, errors="replace") as f:
            return trace_dma(f.readlines(), self.crash_region,
                             protocol.SMMUS[self.run.machine],
                             protocol.sid_smmu(self.run.machine),
                             qemu.MACHINES[self.run.machine].mmio_by_address)

    @property
    def crash_region(self):
        m = re.search(r"crashkernel reserved: 0x([0-9a-f]+) - 0x([0-9a-f]+)", self.serial)
        return (int(m.group(1), 16), int(m.group(2), 16)) if m else None

    def smmu_regs(self, when, index=0):
        """The registers /init printed ("system", "panic" or "capture") of the
        SMMU of that index (protocol.SMMUS[machine])."""
        for d in lab_lines(self.serial, "smmu"):
            if d.get("when") == when and int(d.get("index", "0")) == index:
                return {k: int(v, 16) for k, v in d.items()
                        if k not in ("when", "index", "base")}
        return None

    def crashed_stes(self):
        """The crashed kernel's STE for each DMA device, read by /init before
        the mutation: {sid: "invalid" | "abort" | "bypass" | "s1" | ...}."""
        out = {}
        for d in lab_lines(self.system_log, "ste"):
            w0 = int(d["w0"], 16)
            out[int(d["sid"], 16)] = STE_CFG.get((w0 >> 1) & 7, "reserved") \
                if w0 & 1 else "invalid"
        return out

    def crashed_asids(self):
        """The ASID of each stage-1 DMA device's CD (substream 0) in the
        crashed kernel, read by /init before the mutation: {sid: asid}."""
        return {int(d["sid"], 16): int(d["asid"]) for d in lab_lines(self.system_log, "cd")
                if d.get("valid") == "1"}
