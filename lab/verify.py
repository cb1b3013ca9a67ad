"""Verify one lab run from the evidence it kept in its run folder.

(a) the capture kernel reached init and saved the vmcore   (serial.log)
(b) the vmcore is ELF64, EM_AARCH64, with VMCOREINFO       (vmcore)
(c) vmcore-dmesg extracts a log holding the sysrq panic    (host kexec-tools)
(d) crash loads vmlinux + vmcore and runs sys, log, bt     (arm64 crash, qemu-user)
(e) what happened to each DMA device's transactions from
    the panic on, from QEMU's SMMU trace                   (qemu.log)
Each check returns (ok, detail); ok is None where a check could not be made.
"""
import os
import re
import struct
import subprocess

import qemu

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(TOP, "build"))
CRASH_ROOT = os.path.join(BUILD, "crash-root")

SMMU_AIDR, SMMU_CR0, SMMU_STRTAB_BASE, SMMU_CMDQ_BASE = 0x1C, 0x20, 0x80, 0x90


def serial_text(rundir):
    with open(os.path.join(rundir, "serial.log"), "rb") as f:
        return f.read().decode("utf-8", "replace")


def split_log(rundir):
    """The serial log as (system kernel's part, capture kernel's part)."""
    text = serial_text(rundir)
    idx = text.find("Starting crashdump kernel")
    return (text, "") if idx < 0 else (text[:idx], text[idx:])


def lab_lines(text, key):
    """Values of "LAB: key..." lines, as dicts of key=value."""
    out = []
    for m in re.finditer(r"LAB: (" + re.escape(key) + r"[= ].*)", text):
        out.append(dict(re.findall(r'(\w+)=("[^"]*"|\S+)', m.group(1))))
    return out


def check_capture(rundir):
    text = serial_text(rundir)
    if "LAB: stage=capture" not in text:
        return False, "the capture kernel never reached init"
    saved = [d for d in lab_lines(text, "vmcore") if d.get("saved") == "1"]
    if not saved:
        err = lab_lines(text, "error")
        return False, "vmcore not saved" + (f": {err[-1]['error']}" if err else "")
    s = saved[-1]
    return True, f"saved {int(s['bytes']) >> 20} MiB in {s['seconds']} s"


def elf_end(path):
    """Parse the ELF core header: (end of the last segment, notes, error)."""
    with open(path, "rb") as f:
        eh = f.read(64)
        if len(eh) < 64 or eh[:4] != b"\x7fELF":
            return None, None, "no ELF magic"
        if eh[4] != 2 or eh[5] != 1:
            return None, None, "not ELF64 little-endian"
        e_type, e_machine = struct.unpack_from("<HH", eh, 16)
        if e_type != 4:
            return None, None, f"e_type {e_type}, not ET_CORE"
        if e_machine != 183:
            return None, None, f"e_machine {e_machine}, not EM_AARCH64"
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
        return end, notes, None


def check_vmcore(rundir):
    """(b), and cut the raw disk image down to the vmcore file."""
    img, core = os.path.join(rundir, "vmcore.img"), os.path.join(rundir, "vmcore")
    if os.path.exists(img):
        os.replace(img, core)
    if not os.path.exists(core):
        return False, "no vmcore"
    end, notes, err = elf_end(core)
    if err:
        return False, err
    saved = [d for d in lab_lines(serial_text(rundir), "vmcore") if d.get("saved") == "1"]
    if saved and int(saved[-1]["bytes"]) != end:
        return False, f"guest copied {saved[-1]['bytes']} bytes, ELF says {end}"
    if os.path.getsize(core) < end:
        return False, f"file shorter than the ELF segments ({end} bytes)"
    os.truncate(core, end)
    info = b"".join(notes.get("VMCOREINFO", [])).decode("ascii", "replace")
    if "OSRELEASE=" not in info or "CRASHTIME=" not in info:
        return False, "no VMCOREINFO note (OSRELEASE, CRASHTIME)"
    rel = re.search(r"OSRELEASE=(\S+)", info).group(1)
    cpus = len(notes.get("CORE", []))
    return True, f"ELF64 AArch64 core, {end >> 20} MiB, VMCOREINFO {rel}, {cpus} CPU notes"


PANIC_LINE = "Kernel panic - not syncing: sysrq triggered crash"


def check_dmesg(rundir):
    core = os.path.join(rundir, "vmcore")
    if not os.path.exists(core):
        return False, "no vmcore"
    r = subprocess.run(["vmcore-dmesg", core], capture_output=True, text=True, errors="replace")
    with open(os.path.join(rundir, "vmcore-dmesg.txt"), "w") as f:
        f.write(r.stdout + r.stderr)
    if r.returncode != 0:
        return False, f"vmcore-dmesg exit {r.returncode}: {r.stderr.strip()[:200]}"
    lines = r.stdout.count("\n")
    if PANIC_LINE not in r.stdout:
        return False, f"{lines} lines, no '{PANIC_LINE}'"
    return True, f"{lines} log lines, panic line present"


CRASH_COMMANDS = "sys\nlog\nbt\nexit\n"
# What crash 8.0.2 says on every healthy vmcore of this lab's kernel.
CRASH_ALLOWED = [
    r"cannot determine how modules are linked",
    r"WARNING: active task .* on cpu \d+ not found in PID hash",
    r"WARNING: kernel relocated",
    r"WARNING: no kernel module access",  # the lab kernel has no modules
]
CRASH_ERROR = re.compile(r"(^crash: |error|invalid|cannot |not found|WARNING|fail)", re.I | re.M)


def check_crash(rundir, vmlinux):
    core = os.path.join(rundir, "vmcore")
    crash = os.path.join(CRASH_ROOT, "usr/bin/crash")
    if not os.path.exists(crash):
        return False, "crash not installed (make deps)"
    if not os.path.exists(core):
        return False, "no vmcore"
    try:
        r = subprocess.run(["qemu-aarch64-static", "-L", CRASH_ROOT, crash, "-s", "--no_scroll",
                            vmlinux, core], input=CRASH_COMMANDS, capture_output=True, text=True,
                           errors="replace", timeout=600, env=dict(os.environ, TERM="dumb"))
    except subprocess.TimeoutExpired:
        return False, "crash timed out after 600 s"
    out = r.stdout + r.stderr
    with open(os.path.join(rundir, "crash.txt"), "w") as f:
        f.write(out)
    problems = [ln for ln in out.splitlines() if CRASH_ERROR.search(ln)
                and not any(re.search(a, ln) for a in CRASH_ALLOWED)
                # the kernel log printed by "log" is the guest's, not crash's
                and not re.match(r"^\[\s*\d+\.\d+\]", ln)]
    if r.returncode != 0:
        return False, f"crash exit {r.returncode}: {(problems or out.splitlines()[-1:])[0][:160]}"
    want = {"sys": r"PANIC: \"sysrq: Trigger a crash|PANIC: \"Kernel panic - not syncing: sysrq",
            "bt": r"sysrq_handle_crash", "log": re.escape(PANIC_LINE)}
    missing = [k for k, pat in want.items() if not re.search(pat, out)]
    if missing:
        return False, f"no {', '.join(missing)} output"
    if problems:
        return False, f"{len(problems)} error lines, first: {problems[0][:160]}"
    return True, "sys, log, bt: panic task, backtrace through sysrq_handle_crash"


TRACE = re.compile(r"(?:\d+@[\d.]+:)?(smmuv3_\w+) (.*)")
# QEMU names a device's IOMMU memory region "smmuv3-iommu-memory-region-DEVFN-N".
NAME_DEVFN = re.compile(r"smmuv3-iommu-memory-region-(\d+)-\d+")
CLASSES = ("old", "new", "untranslated", "ste_bypass", "in_capture_mem", "aborted",
           "crashed_faults", "gbpa_abort")
SMMU_GBPA, GBPA_ABORT, SMMU_GERROR = 0x44, 1 << 20, 0x60


def crash_region(rundir):
    m = re.search(r"crashkernel reserved: 0x([0-9a-f]+) - 0x([0-9a-f]+)", serial_text(rundir))
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def trace_dma(rundir):
    """Classify each device's DMA from the panic until the capture kernel takes it over.

    The panic is marked in the trace by the system stage's read of SMMU_AIDR
    (no driver reads it). A device is taken over when the capture kernel first
    invalidates its STE (CFGI_STE for its stream ID): from then on its DMA is
    the capture kernel's own. Classes in that window: "old", translated while
    the crashed kernel's stream table was installed; "new", translated by a
    table the capture kernel installed; "untranslated" (SMMU disabled),
    "ste_bypass" (through an STE in bypass), "in_capture_mem" the untranslated
    or bypassed ones whose address lies in the
    capture kernel's reserved memory; "aborted" (STE abort, or a translation
    fault: QEMU logs those as guest errors, the capture kernel never enables
    the event queue); "crashed_faults", faults before the capture kernel's
    SMMU driver started (its first read of SMMU_IDR0, which a running driver
    never reads again), under the crashed kernel's own configuration (an
    IOVA the crashed kernel never mapped: the same in every variant);
    "gbpa_abort", the untranslated ones after the capture kernel had set
    GBPA.ABORT (QEMU 7.2 has no GBPA: hardware aborts those).
    DMA after the takeover is counted under "after".
    """
    path = os.path.join(rundir, "qemu.log")
    if not os.path.exists(path):
        return {"error": "no qemu.log"}
    region = crash_region(rundir)
    with open(path, errors="replace") as f:
        lines = f.readlines()
    last_marker = max((i for i, ln in enumerate(lines)
                       if "smmuv3_read_mmio" in ln and f"addr: {SMMU_AIDR:#x} " in ln), default=None)
    if last_marker is None:
        return {"error": "no panic marker (SMMU_AIDR read) in the trace"}
    strtab = crashed_strtab = None
    capture_started = gbpa_abort = False
    capture_writes = 0
    taken = set()
    counts = {}

    def bump(sid, cls):
        if cls == "aborted" and not capture_started:
            cls = "crashed_faults"
        d = counts.setdefault(sid, {"capture": dict.fromkeys(CLASSES, 0),
                                    "after": dict.fromkeys(CLASSES, 0)})
        d["after" if sid in taken else "capture"][cls] += 1

    for i, ln in enumerate(lines):
        if i == last_marker:
            crashed_strtab = strtab
            continue
        m = TRACE.match(ln.strip())
        if not m:
            d = NAME_DEVFN.search(ln)
            if i > last_marker and d and "translation failed" in ln:
                bump(int(d.group(1)), "aborted")
            continue
        ev, rest = m.groups()
        if ev == "smmuv3_write_mmio":
            a = re.search(r"addr: (0x[0-9a-f]+) val:(0x[0-9a-f]+) size: 0x(\d+)", rest)
            addr, val, size = int(a.group(1), 16), int(a.group(2), 16), int(a.group(3), 16)
            if addr == SMMU_STRTAB_BASE:
                strtab = val if size == 8 else (((strtab or 0) >> 32) << 32) | val
            elif addr == SMMU_STRTAB_BASE + 4:
                strtab = ((strtab or 0) & 0xFFFFFFFF) | (val << 32)
            elif addr == SMMU_GBPA and capture_started and val & GBPA_ABORT:
                gbpa_abort = True
            capture_writes += capture_started
            continue
        if ev == "smmuv3_read_mmio" and i > last_marker and rest.startswith("addr: 0x0 "):
            capture_started = True
        if i < last_marker:
            continue
        if ev == "smmuv3_cmdq_cfgi_ste":
            taken.add(int(re.search(r"0x([0-9a-f]+)", rest).group(1), 16))
            continue
        if not ev.startswith("smmuv3_translate_"):
            continue
        sid = int(re.search(r"sid=0x([0-9a-f]+)", rest).group(1), 16)
        if ev == "smmuv3_translate_success":
            bump(sid, "old" if strtab == crashed_strtab else "new")
        elif ev in ("smmuv3_translate_disable", "smmuv3_translate_bypass"):
            bump(sid, "untranslated" if ev == "smmuv3_translate_disable" else "ste_bypass")
            if ev == "smmuv3_translate_disable" and gbpa_abort:
                bump(sid, "gbpa_abort")
            iova = int(re.search(r"iova:0x([0-9a-f]+)", rest).group(1), 16)
            if region and region[0] <= iova < region[1]:
                bump(sid, "in_capture_mem")
        elif ev == "smmuv3_translate_abort":
            bump(sid, "aborted")
    return {"counts": counts, "taken": taken, "capture_writes": capture_writes,
            "region": region}


def dma_summary(td, sid, window="capture"):
    """One device's counts in a window ("capture" or "after"), by class."""
    return td.get("counts", {}).get(sid, {}).get(window, dict.fromkeys(CLASSES, 0))


def fmt_dma(c):
    return (f"{c['old']} translated by the crashed kernel's table, {c['new']} by a new one, "
            f"{c['untranslated']} untranslated ({c['in_capture_mem']} into capture memory"
            + (f", {c['gbpa_abort']} after GBPA.ABORT" if c["gbpa_abort"] else "") + "), "
            + (f"{c['ste_bypass']} through bypass STEs, " if c["ste_bypass"] else "")
            + f"{c['aborted']} aborted"
            + (f" (+{c['crashed_faults']} faulted before the capture kernel touched the SMMU)"
               if c["crashed_faults"] else ""))


def kernel_problems(text):
    """Oops (any "Internal error", e.g. an external abort), BUG, WARN, hung
    tasks, panics in a log (the capture kernel's: the system kernel's own
    sysrq panic is in the other part)."""
    pats = [r"Internal error: ", r"\bBUG: ", r"WARNING: CPU: \d+ PID: \d+",
            r"blocked for more than \d+ seconds", r"Unable to handle kernel",
            r"Kernel panic - not syncing"]
    return [ln for ln in text.splitlines() if any(re.search(p, ln) for p in pats)]


def boot_mode(rundir, capture=True):
    """Which firmware interface a kernel used: 'acpi', 'dt' or None.

    capture=True reads the capture kernel's log, False the system kernel's.
    ACPI: the IORT table is listed and the SMMU is the platform device IORT
    creates; DT: the SMMU is the device tree's smmuv3@9050000 node.
    """
    text = split_log(rundir)[1 if capture else 0]
    acpi = "ACPI: IORT" in text and "arm-smmu-v3 arm-smmu-v3.0.auto" in text
    dt = "arm-smmu-v3 9050000.smmuv3" in text
    if acpi and not dt:
        return "acpi"
    if dt and not acpi:
        return "dt"
    return None


KTAP_RESULT = re.compile(r"^(\s*)(ok|not ok) \d+ (\S+)(.*)$")


def kunit_results(rundir):
    """KUnit's KTAP from the serial log: [(suite, test, 'pass'|'fail'|'skip')].

    Only the tests of each suite are returned (the suites' own result lines
    and the cases of parameterised tests are not).
    """
    out, suite = [], None
    for ln in serial_text(rundir).splitlines():
        ln = re.sub(r"^\[\s*\d+\.\d+\] ", "", ln.rstrip())
        m = re.match(r"^    # Subtest: (\S+)", ln)
        if m:
            suite = m.group(1)
            continue
        m = KTAP_RESULT.match(ln)
        if not m or suite is None:
            continue
        indent, res, name, rest = m.groups()
        if len(indent) != 4:
            continue
        state = "skip" if "# SKIP" in rest else ("pass" if res == "ok" else "fail")
        out.append((suite, name, state))
    return out


OUTCOME_LINES = {
    "reset": r"SMMU currently enabled! Resetting",
    "adopted": r"kdump: adopted the crashed kernel's[^\r\n]*",
    "refused": r"kdump: not adopting the crashed kernel's stream table: ([^\r\n]*)",
    "optout": r"disabled by arm_smmu_v3\.kdump_adopt=0",
}


def check_outcome(rundir, outcome, reason=None):
    """Does the capture kernel's log show the expected outcome (and reason)?"""
    cap = split_log(rundir)[1]
    if not cap:
        return False, "no capture kernel log"
    seen = {k: re.search(p, cap) for k, p in OUTCOME_LINES.items()}
    said = "; ".join(m.group(0)[:220] for m in seen.values() if m) or "no SMMU reset or adoption line"
    want = {
        "reset": seen["reset"] and not seen["adopted"],
        "adopted": seen["adopted"] and not seen["reset"] and not seen["refused"],
        "fallback": seen["refused"] and seen["reset"] and not seen["adopted"]
        and (reason is None or re.search(reason, seen["refused"].group(1))),
        "optout": seen["optout"] and seen["reset"] and not seen["adopted"],
        "normal": not seen["reset"] and not seen["adopted"] and not seen["refused"],
    }
    if outcome not in want:
        return False, f"unknown outcome {outcome}"
    return bool(want[outcome]), f"expected {outcome}: {said}"


def selftest_results(rundir):
    """The capture stage's kselftest run: (exit code or None, [(test, state)],
    the KTAP plan/skip lines). None if /init did not run it."""
    cap = split_log(rundir)[1]
    start = cap.find("LAB: selftest=start")
    if start < 0:
        return None
    end = re.search(r"LAB: selftest=done rc=(\d+)", cap[start:])
    body = cap[start:start + end.start()] if end else cap[start:]
    tests, notes = [], []
    for ln in body.splitlines():
        ln = ln.rstrip("\r")
        m = KTAP_RESULT.match(ln)
        if m and not m.group(1):
            rest = m.group(4)
            state = "skip" if "# SKIP" in rest else ("pass" if m.group(2) == "ok" else "fail")
            tests.append((m.group(3), state))
        elif re.match(r"^1\.\.\d+", ln) or ln.startswith("# Totals"):
            notes.append(ln)
    return (int(end.group(1)) if end else None), tests, notes


def check_selftest(rundir, expect, must_pass=()):
    """Checks of the kselftest's KTAP: "pass" (exit 0, a test passed, none
    failed, and each of must_pass passed rather than skipped) or "skip"
    (exit 4: KSFT_SKIP, every test skipped)."""
    got = selftest_results(rundir)
    if got is None:
        return [("selftest", False, "the capture kernel did not run the kselftest")]
    rc, tests, notes = got
    plan = "; ".join(notes)
    if rc is None:
        return [("selftest", False, f"the kselftest did not finish ({len(tests)} results)")]
    if expect == "pass":
        ok = rc == 0 and any(s == "pass" for _, s in tests) and \
            not any(s == "fail" for _, s in tests)
    else:
        ok = rc == 4 and all(s == "skip" for _, s in tests)
    res = [("selftest", ok, f"expected {expect}: exit {rc}, {len(tests)} results; {plan}")]
    for name, state in tests:
        res.append((f"selftest {name}", state != "fail" and (expect == "pass" or state == "skip")
                    and (expect != "pass" or name not in must_pass or state == "pass"),
                    state + (" (must pass)" if expect == "pass" and name in must_pass else "")))
    missing = [n for n in must_pass if expect == "pass" and n not in dict(tests)]
    if missing:
        res.append(("selftest cases", False, f"missing: {', '.join(missing)}"))
    return res


STE_CFG = {0: "abort", 4: "bypass", 5: "s1", 6: "s2", 7: "nested"}


def crashed_stes(rundir):
    """The crashed kernel's STE for each DMA device, read by /init before
    the mutation: {sid: "invalid" | "abort" | "bypass" | "s1" | ...}."""
    out = {}
    for d in lab_lines(split_log(rundir)[0], "ste"):
        w0 = int(d["w0"], 16)
        out[int(d["sid"], 16)] = STE_CFG.get((w0 >> 1) & 7, "reserved") if w0 & 1 else "invalid"
    return out


def smmu_regs(rundir, when):
    """The SMMU registers /init printed ("system", "panic" or "capture")."""
    for d in lab_lines(serial_text(rundir), "smmu"):
        if d.get("when") == when:
            return {k: int(v, 16) for k, v in d.items() if k != "when"}
    return None


def check_granted(rundir, td):
    """No device got DMA access the crashed kernel had not granted it.

    Per DMA device, from the panic to its takeover: nothing translated by a
    table the capture kernel built; translations through the crashed
    kernel's table only where its STE translated; bypass STEs only where its
    STE was bypass; untranslated DMA only where its STE was bypass, or the
    SMMU was off at the panic, or after the capture kernel set GBPA.ABORT
    (which hardware honours and QEMU 7.2 does not implement). Aborts are
    always allowed. Needs evidence: the STEs /init read before the panic,
    and DMA from the NIC in the window.
    """
    if "error" in td:
        return False, td["error"]
    stes = crashed_stes(rundir)
    panic = smmu_regs(rundir, "panic")
    if panic is None:
        return False, "no SMMU registers at the panic in the serial log"
    off = not panic["CR0"] & 1
    if not off and not stes:
        return False, "no STEs of the crashed kernel in the serial log"
    bad, seen = [], 0
    for sid in qemu.DMA_DEVICES:
        c = dma_summary(td, sid)
        seen += sum(c[k] for k in ("old", "new", "untranslated", "ste_bypass", "aborted"))
        cfg = "off" if off else stes.get(sid, "invalid")
        why = []
        if c["new"]:
            why.append(f"{c['new']} translated by a new table")
        if c["old"] and cfg not in ("s1", "s2", "nested"):
            why.append(f"{c['old']} translated though its STE was {cfg}")
        if c["ste_bypass"] and cfg != "bypass":
            why.append(f"{c['ste_bypass']} through a bypass STE though its STE was {cfg}")
        open_ = c["untranslated"] - c["gbpa_abort"]
        if open_ and cfg not in ("bypass", "off"):
            why.append(f"{open_} untranslated without GBPA.ABORT though its STE was {cfg}")
        if why:
            bad.append(f"sid {sid:#x}: " + ", ".join(why))
    if bad:
        return False, "; ".join(bad)
    if not seen:
        return False, "no DMA in the window: nothing to judge"
    grants = "SMMU off at the panic" if off else ", ".join(
        f"{sid:#x} {cfg}" for sid, cfg in sorted(stes.items()))
    return True, f"only what the crashed kernel granted ({grants})"


def check_gerror(rundir):
    """Was the global error latched at the panic acknowledged by the time
    the capture kernel's /init ran? ("acked" | "latched" | None, detail)

    /init fires the error after its last line, just before the panic, so
    the state at the panic comes from QEMU's trace: the capture kernel's
    first reads of GERROR and GERRORN. The state after its probe is what
    the capture stage's /init printed."""
    path = os.path.join(rundir, "qemu.log")
    cap = smmu_regs(rundir, "capture")
    if not os.path.exists(path) or cap is None:
        return None, "no trace, or no SMMU registers in the capture kernel"
    regs, marker, started = {}, False, False
    with open(path, errors="replace") as f:
        for ln in f:
            m = TRACE.match(ln.strip())
            if not m or m.group(1) != "smmuv3_read_mmio":
                continue
            a = re.search(r"addr: (0x[0-9a-f]+) val:(0x[0-9a-f]+)", m.group(2))
            addr, val = int(a.group(1), 16), int(a.group(2), 16)
            if addr == SMMU_AIDR:
                marker, started, regs = True, False, {}
            elif marker and addr == 0:
                started = True
            elif started and addr in (SMMU_GERROR, SMMU_GERROR + 4) and addr not in regs:
                regs[addr] = val
    if len(regs) < 2:
        return None, "the capture kernel never read GERROR and GERRORN"
    before = regs[SMMU_GERROR] ^ regs[SMMU_GERROR + 4]
    after = cap["GERROR"] ^ cap["GERRORN"]
    if not before:
        return None, "no global error was active when the capture kernel started"
    return ("latched" if after else "acked",
            f"active GERROR bits when the capture kernel started {before:#x} (its first "
            f"reads), after its probe {after:#x}")


def observed_outcome(rundir):
    """What the capture kernel's log says it did, in a few words."""
    cap = split_log(rundir)[1]
    if not cap:
        return "no capture kernel log"
    seen = {k: re.search(p, cap) for k, p in OUTCOME_LINES.items()}
    if seen["adopted"]:
        return "adopted"
    if seen["optout"]:
        return "opted out, reset"
    if seen["refused"]:
        return f"fallback ({seen['refused'].group(1).strip()[:90]}), " + \
            ("reset" if seen["reset"] else "NO reset line")
    return "reset" if seen["reset"] else "normal probe"
