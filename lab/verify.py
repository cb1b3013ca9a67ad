"""What a pass is: every check of a run, judged from its evidence alone.

(a) the capture kernel reached init and saved the vmcore   (serial.log)
(b) the vmcore is ELF64, EM_AARCH64, with VMCOREINFO       (evidence.json)
(c) vmcore-dmesg extracts a log holding the sysrq panic    (vmcore-dmesg.txt)
(d) crash runs sys, log, bt, mod, kmem -i, ps on the vmcore (crash.txt)
(e) what each DMA device's transactions did from the panic
    to the capture kernel's takeover                       (qemu.log)
(f) no DMA access the crashed kernel had not granted       (qemu.log, serial.log)
(g) the capture kernel's reboot tore the SMMU down with
    GBPA.ABORT before SMMUEN was cleared                    (serial.log, qemu.log)
plus clean kernel logs (and no kmemleak leak on the debug configuration), the
expected outcome line, the boot mode, the
kselftest's KTAP and, where a scenario asks, the global error acknowledged.
Every check is a Check(name, ok, detail); nothing here writes or runs.
"""
import collections
import re

import protocol
from evidence import CLASSES, adoption_view, before_panic, boot_mode, dma_summary, id_list, \
    kernel_problems, kunit_results, lab_lines, outcome_lines, selftest_results, smmu_device

Check = collections.namedtuple("Check", "name ok detail")


def check_capture(ev):
    """(a)"""
    if "LAB: stage=capture" not in ev.serial:
        return False, "the capture kernel never reached init"
    saved = [d for d in lab_lines(ev.serial, "vmcore") if d.get("saved") == "1"]
    if not saved:
        err = lab_lines(ev.serial, "error")
        return False, "vmcore not saved" + (f": {err[-1]['error']}" if err else "")
    s = saved[-1]
    return True, f"saved {int(s['bytes']) >> 20} MiB in {s['seconds']} s"


KEXEC_ON_CRASH = 0x1
KEXEC_ARCH_AARCH64 = 183 << 16       # EM_AARCH64, in kexec_load()'s flags


def check_kexec_tools(ev):
    """The guest "kexec": Debian's kexec-tools loaded the capture kernel,
    through kexec_load(2) with KEXEC_ON_CRASH (its -d output prints the call
    just before making it, and it exits 0 only if the call succeeded), so the
    capture kernel got kexec-tools' ELF core header."""
    got = lab_lines(before_panic(ev.system_log), "loader")
    if not got or got[-1].get("loader") != "kexec-tools":
        return False, f"loaded by {got[-1].get('loader') if got else 'nothing that said so'}"
    if got[-1].get("rc") != "0":
        return False, f"kexec -p exited {got[-1].get('rc')}"
    calls = re.findall(r"kexec_load: entry = (0x[0-9a-f]+) flags = (0x[0-9a-f]+)", ev.system_log)
    if len(calls) != 1:
        return False, f"{len(calls)} kexec_load() calls printed by kexec -d, expected 1"
    entry, flags = calls[0][0], int(calls[0][1], 16)
    if flags != KEXEC_ON_CRASH | KEXEC_ARCH_AARCH64:
        return False, f"kexec_load() flags {flags:#x}, expected KEXEC_ON_CRASH | AArch64"
    return True, (f"{ev.boot.get('kexec_tools', 'kexec-tools')}: kexec -p -> kexec_load(entry "
                  f"{entry}, flags {flags:#x}: KEXEC_ON_CRASH, AArch64), exit 0")


def check_vmcore(ev):
    """(b)"""
    core = ev.collected.get("vmcore")
    if core is None:
        return False, "no vmcore"
    if "error" in core:
        return False, core["error"]
    end = core["end"]
    saved = [d for d in lab_lines(ev.serial, "vmcore") if d.get("saved") == "1"]
    if saved and int(saved[-1]["bytes"]) != end:
        return False, f"guest copied {saved[-1]['bytes']} bytes, ELF says {end}"
    if core["size"] < end:
        return False, f"file shorter than the ELF segments ({end} bytes)"
    if not core["osrelease"] or not core["crashtime"]:
        return False, "no VMCOREINFO note (OSRELEASE, CRASHTIME)"
    return True, (f"ELF64 AArch64 core, {end >> 20} MiB, VMCOREINFO {core['osrelease']}, "
                  f"{core['cpu_notes']} CPU notes")


PANIC_LINE = "Kernel panic - not syncing: sysrq triggered crash"


def check_dmesg(ev):
    """(c)"""
    rc = ev.collected.get("vmcore_dmesg_rc")
    out = ev.text("vmcore_dmesg")
    if rc is None or out is None:
        return False, "no vmcore"
    if rc != 0:
        return False, f"vmcore-dmesg exit {rc}: {out.strip()[-200:]}"
    lines = out.count("\n")
    if PANIC_LINE not in out:
        return False, f"{lines} lines, no '{PANIC_LINE}'"
    return True, f"{lines} log lines, panic line present"


# What crash says on every healthy vmcore of this lab's kernel.
CRASH_ALLOWED = [
    r"cannot determine how modules are linked",
    r"WARNING: active task .* on cpu \d+ not found in PID hash",
    r"WARNING: kernel relocated",
    r"WARNING: no kernel module access",  # the lab kernel has no modules
]
CRASH_ERROR = re.compile(r"(^crash: |error|invalid|cannot |not found|WARNING|fail)", re.I | re.M)


def check_crash(ev):
    """(d)"""
    rc = ev.collected.get("crash_rc")
    if rc is None:
        return False, "crash did not run (no vmcore)"
    if rc == "timeout":
        return False, "crash timed out after 600 s"
    if isinstance(rc, str):
        return False, rc
    out = ev.text("crash") or ""
    problems = [ln for ln in out.splitlines() if CRASH_ERROR.search(ln)
                and not any(re.search(a, ln) for a in CRASH_ALLOWED)
                # the kernel log printed by "log" is the guest's, not crash's
                and not re.match(r"^\[\s*\d+\.\d+\]", ln)]
    if rc != 0:
        return False, f"crash exit {rc}: {(problems or out.splitlines()[-1:])[0][:160]}"
    want = {"sys": r"PANIC: \"sysrq: Trigger a crash|PANIC: \"Kernel panic - not syncing: sysrq",
            "bt": r"sysrq_handle_crash", "log": re.escape(PANIC_LINE),
            "mod": r"no modules installed|MODULE +NAME", "kmem -i": r"TOTAL MEM +\d+",
            "ps": r"PID +PPID +CPU +TASK .*\n(.*\n)*.* init\b"}
    missing = [k for k, pat in want.items() if not re.search(pat, out)]
    if missing:
        return False, f"no {', '.join(missing)} output"
    if problems:
        return False, f"{len(problems)} error lines, first: {problems[0][:160]}"
    return True, ("sys, log, bt, mod, kmem -i, ps: panic task, backtrace through "
                  "sysrq_handle_crash, memory and task tables")


def check_clean(ev):
    cap = ev.capture_log
    probs = kernel_problems(cap)
    return (not probs and bool(cap),
            probs[0][:120] if probs else ("no oops, BUG, WARN, hung task" if cap else
                                          "no capture kernel log"))


def check_system_clean(ev):
    """The system kernel's log up to the lab's panic: the same rule."""
    log = before_panic(ev.system_log)
    probs = kernel_problems(log)
    return (not probs and "LAB: stage=system" in log,
            probs[0][:120] if probs else ("no oops, BUG, WARN, lockdep or KASAN report"
                                          if log else "no system kernel log"))


def check_kmemleak(ev):
    """The debug configuration's kmemleak, scanned by /init in the capture
    kernel after the dump was saved: no leak."""
    got = lab_lines(ev.capture_log, "kmemleak")
    if not got:
        return False, "no kmemleak scan in the capture kernel"
    leaks = int(got[-1]["leaks"])
    first = re.search(r"LAB: kmemleak\| (unreferenced object[^\r\n]*)", ev.capture_log)
    return leaks == 0, (f"{leaks} leaks, first: {first.group(1)[:100]}" if leaks else
                        "scanned twice after the dump was saved: no leak")


def check_outcome(ev, outcome, reason=None, smmu=None):
    """Does the capture kernel's log show the expected outcome (and reason)?
    (Of one SMMU's device only, a protocol.Smmu, where given.)"""
    cap = ev.capture_log
    if not cap:
        return False, "no capture kernel log"
    seen = outcome_lines(cap, smmu)
    said = "; ".join(m.group(0)[:220] for m in seen.values() if m) or "no SMMU reset or adoption line"
    want = {
        "reset": seen["reset"] and not seen["adopted"],
        "adopted": seen["adopted"] and not seen["reset"] and not seen["refused"]
        and (reason is None or re.search(reason, seen["adopted"].group(0))),
        "fallback": seen["refused"] and seen["reset"] and not seen["adopted"]
        and (reason is None or re.search(reason, seen["refused"].group(1))),
        "optout": seen["optout"] and seen["reset"] and not seen["adopted"],
        "normal": not seen["reset"] and not seen["adopted"] and not seen["refused"],
    }
    if outcome not in want:
        return False, f"unknown outcome {outcome}"
    return bool(want[outcome]), f"expected {outcome}: {said}"


def observed_outcome(ev):
    """What the capture kernel's log says it did, in a few words (with
    several SMMUs, per SMMU device)."""
    if not ev.capture_log:
        return "no capture kernel log"
    smmus = protocol.SMMUS[ev.run.machine]
    if len(smmus) > 1:
        return "; ".join(f"{smmu_device(ev.capture_log, s)} {smmu_outcome(ev, s)}"
                         for s in smmus)
    return smmu_outcome(ev)


def smmu_outcome(ev, smmu=None):
    seen = outcome_lines(ev.capture_log, smmu)
    if seen["adopted"]:
        return "adopted"
    if seen["optout"]:
        return "opted out, reset"
    if seen["refused"]:
        return f"fallback ({seen['refused'].group(1).strip()[:90]}), " + \
            ("reset" if seen["reset"] else "NO reset line")
    return "reset" if seen["reset"] else "normal probe"


def check_boot_mode(ev, mode):
    """Both kernels found every SMMU of the machine the way the mode asks."""
    smmus = protocol.SMMUS[ev.run.machine]

    def found(log):
        modes = {boot_mode(log, smmu) for smmu in smmus}
        return modes.pop() if len(modes) == 1 else None
    got = (found(ev.system_log), found(ev.capture_log))
    n = f" ({len(smmus)} SMMUs each)" if len(smmus) > 1 else ""
    return (got == (mode, mode),
            f"system kernel by {got[0] or 'unknown'}, capture kernel by {got[1] or 'unknown'}"
            + n)


def check_selftest(ev, expect, must_pass=()):
    """The kselftest's KTAP: "pass" (exit 0, a test passed, none failed,
    each of must_pass passed rather than skipped) or "skip" (exit 4,
    KSFT_SKIP, every test skipped)."""
    got = selftest_results(ev.capture_log)
    if got is None:
        return [Check("selftest", False, "the capture kernel did not run the kselftest")]
    rc, tests, notes = got
    plan = "; ".join(notes)
    if rc is None:
        return [Check("selftest", False, f"the kselftest did not finish ({len(tests)} results)")]
    if expect == "pass":
        ok = rc == 0 and any(s == "pass" for _, s in tests) and \
            not any(s == "fail" for _, s in tests)
    else:
        ok = rc == 4 and all(s == "skip" for _, s in tests)
    res = [Check("selftest", ok, f"expected {expect}: exit {rc}, {len(tests)} results; {plan}")]
    for name, state in tests:
        res.append(Check(f"selftest {name}",
                         state != "fail" and (expect == "pass" or state == "skip")
                         and (expect != "pass" or name not in must_pass or state == "pass"),
                         state + (" (must pass)" if expect == "pass" and name in must_pass
                                  else "")))
    missing = [n for n in must_pass if expect == "pass" and n not in dict(tests)]
    if missing:
        res.append(Check("selftest cases", False, f"missing: {', '.join(missing)}"))
    return res


def check_gerror(ev):
    """Was the global error latched at the panic acknowledged by the time
    the capture kernel's /init ran? The state at the panic: the capture
    kernel's first reads of GERROR and GERRORN (QEMU's trace); after its
    probe: what the capture stage's /init printed."""
    cap = ev.smmu_regs("capture")
    td = ev.trace
    if "error" in td or cap is None:
        return False, "no trace, or no SMMU registers in the capture kernel"
    regs = td["gerror"]
    if len(regs) < 2:
        return False, "the capture kernel never read GERROR and GERRORN"
    before = regs[protocol.SMMU_GERROR] ^ regs[protocol.SMMU_GERROR + 4]
    after = cap["GERROR"] ^ cap["GERRORN"]
    if not before:
        return False, "no global error was active when the capture kernel started"
    return (not after, f"active GERROR bits when the capture kernel started {before:#x} "
            f"(its first reads), after its probe {after:#x}")


def fmt_dma(c):
    return (f"{c['old']} translated by the crashed kernel's table, {c['new']} by a new one, "
            f"{c['untranslated']} untranslated ({c['in_capture_mem']} into capture memory"
            + (f", {c['gbpa_abort']} after GBPA.ABORT" if c["gbpa_abort"] else "") + "), "
            + (f"{c['ste_bypass']} through bypass STEs, " if c["ste_bypass"] else "")
            + f"{c['aborted']} aborted"
            + (f" (+{c['crashed_faults']} faulted before the capture kernel touched the SMMU)"
               if c["crashed_faults"] else ""))


def check_dma(ev, dma, log_outcome, sid=protocol.NIC_SID, smmu=0):
    """(e): a device's DMA (the NIC's unless told) from the panic to its
    takeover, against the scenario's expectation (scenarios.Scenario.dma);
    smmu: the index of its SMMU, whose programming by the capture kernel
    it needs."""
    td = ev.trace
    if "error" in td:
        return False, td["error"]
    c = dma_summary(td, sid)
    name = "the NIC" if sid == protocol.NIC_SID else f"sid {sid:#x}"
    if not td["smmus"][smmu]["capture_writes"] and log_outcome != "normal":
        ok, why = False, "the capture kernel never programmed the SMMU" + \
            (f" {smmu}" if len(td["smmus"]) > 1 else "")
    elif sum(c.values()) == 0:
        ok = dma == "optional"
        why = f"no DMA from {name} after the panic" + (
            " (none required: rule (f) judges what there is)" if ok else
            ": nothing was in flight")
    elif dma == "damage":
        ok = c["untranslated"] + c["aborted"] > 0
        why = "baseline: untranslated or aborted DMA expected"
    elif dma == "adopted":
        ok = c["untranslated"] == 0 and c["aborted"] == 0 and c["new"] == 0 and c["old"] > 0
        why = "adopted: only the crashed kernel's translations expected"
        if len(td["smmus"]) > 1 and not c["probed"]:
            # Several SMMUs: the adoption is proven only by DMA that the
            # capture kernel's probe of the device's SMMU did not stop.
            ok = False
            why += ", and some after the capture kernel's probe of its SMMU: none"
    elif dma in ("granted", "optional"):
        ok, why = True, "DMA seen"
    else:
        ok, why = False, f"unknown expectation {dma}"
    probed = f", {c['probed']} of them after the capture kernel's probe of its SMMU" \
        if len(td["smmus"]) > 1 else ""
    return ok, f"{why}; {fmt_dma(c)}{probed}"


def check_smmu_off(ev):
    """The crashed kernel left the SMMU off (all DMA bypass before the panic
    already): the capture kernel found it off and enabled it."""
    p, c = ev.smmu_regs("panic"), ev.smmu_regs("capture")
    ok = bool(p and c and not p["CR0"] & 1 and c["CR0"] & 1)
    return ok, (f"CR0 at the panic {p['CR0']:#x}, in the capture kernel {c['CR0']:#x}"
                if p and c else "no SMMU registers in the serial log")


def check_granted(ev):
    """(f): no device got DMA access the crashed kernel had not granted it.

    Per DMA device, from the panic to its takeover, against its own SMMU
    (the machine's placement, protocol.PLACES): nothing translated by a
    table the capture kernel built; translated by the crashed kernel's table
    only where its STE translated; bypass STEs only where its STE was
    bypass; untranslated only where its STE was bypass, or the SMMU was off
    at the panic (QEMU 8.0 and later honour GBPA.ABORT as hardware does: a
    reset aborts, it does not open DMA). Aborts are always allowed. Needs
    the STEs /init read before the panic, and DMA in the window."""
    td = ev.trace
    if "error" in td:
        return False, td["error"]
    stes = ev.crashed_stes()
    devices = protocol.dma_devices(ev.run.machine)
    panic = [ev.smmu_regs("panic", k) for k in range(len(protocol.SMMUS[ev.run.machine]))]
    if None in panic:
        return False, "no SMMU registers at the panic in the serial log"
    offs = [not p["CR0"] & 1 for p in panic]
    if not all(offs) and not stes:
        return False, "no STEs of the crashed kernel in the serial log"
    bad, seen = [], 0
    for sid, (_, k) in devices.items():
        c = dma_summary(td, sid)
        seen += sum(c[x] for x in ("old", "new", "untranslated", "ste_bypass", "aborted"))
        cfg = "off" if offs[k] else stes.get(sid, "invalid")
        why = []
        if c["new"]:
            why.append(f"{c['new']} translated by a new table")
        if c["old"] and cfg not in ("s1", "s2", "nested"):
            why.append(f"{c['old']} translated though its STE was {cfg}")
        if c["ste_bypass"] and cfg != "bypass":
            why.append(f"{c['ste_bypass']} through a bypass STE though its STE was {cfg}")
        if c["untranslated"] and cfg not in ("bypass", "off"):
            why.append(f"{c['untranslated']} untranslated though its STE was {cfg}"
                       + (f" ({c['gbpa_abort']} after GBPA.ABORT)" if c["gbpa_abort"] else ""))
        if why:
            bad.append(f"sid {sid:#x}: " + ", ".join(why))
    if bad:
        return False, "; ".join(bad)
    if not seen:
        return False, "no DMA in the window: nothing to judge"
    if len(panic) == 1:
        grants = "SMMU off at the panic" if offs[0] else ", ".join(
            f"{sid:#x} {cfg}" for sid, cfg in sorted(stes.items()))
    else:
        grants = ", ".join(f"{sid:#x} {'off' if offs[k] else stes.get(sid, 'invalid')} "
                           f"on SMMU {k}" for sid, (_, k) in devices.items())
    return True, f"only what the crashed kernel granted ({grants})"


def check_stages(ev):
    """Each SMMU implements the stages its machine promises (the capture
    kernel's first read of its SMMU_IDR0)."""
    smmus = protocol.SMMUS[ev.run.machine]
    if "error" in ev.trace:
        return False, ev.trace["error"]
    name = {(True, True): "stages 1 and 2", (True, False): "stage 1 only",
            (False, True): "stage 2 only", (False, False): "no stage"}
    oks, details = [], []
    for smmu, per in zip(smmus, ev.trace["smmus"], strict=True):
        idr0 = per["idr0"]
        if idr0 is None:
            oks.append(False)
            details.append("no SMMU_IDR0 read by the capture kernel")
            continue
        got = (bool(idr0 & protocol.IDR0_S1P), bool(idr0 & protocol.IDR0_S2P))
        oks.append(got == (smmu.s1, smmu.s2))
        details.append(f"SMMU_IDR0 {idr0:#x}: {name[got]}"
                       + ("" if oks[-1] else f", the machine promises {name[smmu.s1, smmu.s2]}"))
    if len(smmus) == 1:
        return oks[0], details[0]
    return all(oks), "; ".join(f"SMMU {k} ({smmu.base:#x}): {d}"
                               for k, (smmu, d) in enumerate(zip(smmus, details, strict=True)))


def check_vmids(ev):
    """Stage 2: the NIC's DMA up to its takeover was tagged with VMIDs the
    capture kernel reserved (its debugfs view, as the kselftest printed it),
    and after its first attach with a VMID it had not reserved (QEMU's IOTLB
    lookups)."""
    view = adoption_view(ev.capture_log, protocol.SMMUS[ev.run.machine][0])
    if "vmids_reserved_list" not in view:
        return False, "no vmids_reserved_list in the adoption view"
    reserved = id_list(view["vmids_reserved_list"])
    tags = ev.trace.get("vmids", {}).get(protocol.NIC_SID, {"capture": set(), "after": set()})
    old, new = tags["capture"], tags["after"]
    detail = (f"reserved {sorted(reserved)}; the NIC's DMA tagged {sorted(old)} up to its "
              f"takeover, {sorted(new)} after")
    return bool(reserved and old and new and old <= reserved and not new & reserved), detail


def check_asids(ev, outcomes):
    """Stage 1, several SMMUs: each SMMU's view (as the kselftest printed
    it) names the outcome expected of it; per SMMU that adopted, the view
    lists the ASIDs it reserved; they hold the ASID of
    the CD of each device behind it (/init, before the panic); the device's
    DMA up to its takeover was tagged with reserved ASIDs of its own SMMU,
    after it with one its SMMU had not reserved (QEMU's IOTLB lookups). The
    same value reserved on one SMMU and live on another is no clash: the
    detail names such values. outcomes: the expected outcome per SMMU."""
    smmus = protocol.SMMUS[ev.run.machine]
    devices = protocol.dma_devices(ev.run.machine)
    cds, tags = ev.crashed_asids(), ev.trace.get("asids", {})
    ok, parts, reserved = True, [], {}
    for k, (smmu, outcome) in enumerate(zip(smmus, outcomes, strict=True)):
        view = adoption_view(ev.capture_log, smmu)
        name = smmu_device(ev.capture_log, smmu)
        if view.get("outcome") != outcome or outcome != "adopted":
            good = view.get("outcome") == outcome
            ok &= good
            parts.append(f"{name}: view outcome {view.get('outcome', 'missing')}"
                         + ("" if good else f", expected {outcome}"))
            continue
        if "asids_reserved_list" not in view:
            ok = False
            parts.append(f"{name}: no asids_reserved_list in its view")
            continue
        mine = reserved[k] = id_list(view["asids_reserved_list"])
        part = [f"{name}: reserved {sorted(mine)}"]
        ok &= bool(mine)
        for sid, (_, at) in devices.items():
            if at != k:
                continue
            t = tags.get(sid, {"capture": set(), "after": set()})
            cd = cds.get(sid)
            good = cd is not None and cd in mine and bool(t["capture"]) and \
                t["capture"] <= mine and bool(t["after"]) and not t["after"] & mine
            ok &= good
            part.append(f"sid {sid:#x} CD ASID {cd}, DMA tagged {sorted(t['capture'])} up to "
                        f"its takeover, {sorted(t['after'])} after")
        parts.append(", ".join(part))
    both = set.intersection(*reserved.values()) if len(reserved) > 1 else set()
    live = sorted({a for sid, (_, k) in devices.items()
                   for a in tags.get(sid, {}).get("after", set())
                   for j, r in reserved.items() if j != k and a in r})
    parts.append(f"reserved on more than one SMMU: {sorted(both) or 'none'}; "
                 f"new ASIDs that another SMMU keeps reserved: {live or 'none'}")
    return ok, "; ".join(parts)


RESTART = re.compile(r"LAB: reboot=1\s*\n(?:.*\n)*?.*reboot: Restarting system")


def check_shutdown(ev, sender):
    """After the dump the capture kernel reboots, as distributions' kdump
    tooling does: the kernel's restart path ran (the serial log), and it
    tore the SMMU down last with GBPA.ABORT in effect when SMMUEN was
    cleared, so that no DMA passed untranslated from the dump saved (/init's
    second marker) on (QEMU's trace). Where the scenario keeps the NIC's DMA
    running until the reboot (a device no driver quiesced), the NIC must
    have been translated after the dump was saved. (QEMU resets the machine
    right after the teardown: DMA after it is seen only if it comes within
    microseconds; any that does must be aborted.)"""
    if not RESTART.search(ev.capture_log):
        return False, "no \"reboot: Restarting system\" after /init's reboot"
    td = ev.trace
    if "error" in td:
        return False, td["error"]
    if not td["saved_marker"]:
        return False, "no dump-saved marker (the second SMMU_AIDR read) in the trace"
    downs = [per["teardown"] for per in td["smmus"]]
    several = len(downs) > 1
    if None in downs:
        return False, "SMMUEN was still set when the capture kernel rebooted" + \
            (f" (SMMU {downs.index(None)})" if several else "")
    before = {k: sum(d[k] for d in td["saved_dma"].values())
              for k in ("translated", "untranslated", "aborted")}
    nic = td["saved_dma"].get(protocol.NIC_SID, {}).get("translated", 0)
    detail = (f"from the dump saved to the teardown {before['translated']} DMA translated "
              f"({nic} of the NIC), {before['untranslated']} untranslated, "
              f"{before['aborted']} aborted; " + "; ".join(
                  (f"SMMU {k}: " if several else "")
                  + f"SMMUEN cleared at trace line {down['line']} "
                  + ("after GBPA.ABORT was set" if down["gbpa_abort"] else
                     "with GBPA.ABORT clear")
                  + f", after it {down['translated'] + down['untranslated']} DMA passed, "
                  f"{down['aborted']} aborted" for k, down in enumerate(downs)))
    if sender == "reboot" and not nic:
        return False, "no NIC DMA in flight after the dump was saved to judge; " + detail
    ok = not before["untranslated"] and all(
        down["gbpa_abort"] and not down["untranslated"] and not down["translated"]
        for down in downs)
    return ok, detail


def run_checks(ev, scenario, with_crash=True):
    """Every check of one kdump run (ev: its Evidence, scenario: its
    scenarios.Scenario) as a list of Check."""
    variant, mode = ev.run.variant, ev.run.mode
    boot = ev.boot
    res = [Check("run", not boot.get("reason") and bool(boot),
                 boot.get("reason") or (", ".join(protocol.KDUMP_STAGES) if boot else
                                        "no boot record"))]
    if ev.run.guest == "kexec":
        res.append(Check("kexec-tools load", *check_kexec_tools(ev)))
    res.append(Check("(a) capture", *check_capture(ev)))
    res.append(Check("(b) vmcore", *check_vmcore(ev)))
    res.append(Check("(c) vmcore-dmesg", *check_dmesg(ev)))
    if with_crash:
        res.append(Check("(d) crash", *check_crash(ev)))
    res.append(Check("system log clean", *check_system_clean(ev)))
    res.append(Check("capture log clean", *check_clean(ev)))
    if ev.run.config == "debug":
        res.append(Check("kmemleak", *check_kmemleak(ev)))
    log_outcome = scenario.log_outcome[variant]
    smmus = protocol.SMMUS[ev.run.machine]
    if len(smmus) == 1:
        res.append(Check("outcome", *check_outcome(ev, log_outcome, scenario.reason)))
    else:
        # One outcome per SMMU, each from the lines of its own device.
        reasons = scenario.reason or (None,) * len(smmus)
        for smmu, outcome, reason in zip(smmus, log_outcome, reasons, strict=True):
            res.append(Check(f"outcome {smmu.acpi_name}",
                             *check_outcome(ev, outcome, reason, smmu)))
    res.append(Check("boot mode", *check_boot_mode(ev, mode)))
    if boot.get("selftest"):
        # The series' kselftest: passes in a capture kernel with the series,
        # skips in one without (no adoption view in debugfs).
        res += check_selftest(ev, "skip" if variant == "base" else "pass",
                              scenario.selftest_pass)
    if scenario.gerror:
        res.append(Check("GERROR acknowledged", *check_gerror(ev)))
    dma = scenario.dma[variant]
    if dma == "off":
        res.append(Check("(e) SMMU off at the panic", *check_smmu_off(ev)))
        return res
    info = []
    if len(smmus) == 1:
        res.append(Check("(e) NIC DMA", *check_dma(ev, dma, log_outcome)))
    else:
        # Each device against its own SMMU's expectation; an "optional"
        # one cannot fail: its DMA is told in (f)'s detail, not checked.
        devices = protocol.dma_devices(ev.run.machine)
        if len(dma) != len(smmus):
            raise ValueError(f"{len(dma)} DMA expectations for {len(smmus)} SMMUs")
        for sid, (name, k) in devices.items():
            what = f"{name.split()[0]} DMA (SMMU {k})"
            ok, detail = check_dma(ev, dma[k], log_outcome[k], sid, k)
            if dma[k] == "optional":
                info.append(f"{what}, not judged by (e): {detail}")
            else:
                res.append(Check(f"(e) {what}", ok, detail))
    ok, detail = check_granted(ev)
    res.append(Check("(f) no new DMA access", ok, "; ".join([detail] + info)))
    res.append(Check("(g) shutdown", *check_shutdown(ev, scenario.sender)))
    res.append(Check("SMMU stages", *check_stages(ev)))
    if scenario.vmids and variant == "patched":
        res.append(Check("stage-2 VMIDs", *check_vmids(ev)))
    if scenario.asids and variant == "patched":
        res.append(Check("ASIDs per SMMU", *check_asids(ev, log_outcome)))
    return res


def kunit_checks(boots, expected_suites):
    """KUnit boots [(glob, Evidence)]: each booted, the expected suites ran,
    and one check per test."""
    res, results = [], []
    for glob, ev in boots:
        reason = ev.boot.get("reason") if ev.boot else "no boot record"
        res.append(Check(f"kunit boot {glob}", not reason,
                         reason or f"booted and ran KUnit in {ev.boot['seconds']:.0f} s"))
        results += kunit_results(ev.serial)
    ran = {suite for suite, _, _ in results}
    missing = set(expected_suites) - ran
    res.append(Check("kunit suites", not missing,
                     f"missing: {', '.join(sorted(missing))}" if missing else
                     f"{', '.join(sorted(ran))}: {len(results)} tests"))
    for suite, test, state in results:
        res.append(Check(f"{suite}.{test}", state != "fail", state))
    return res


__all__ = ["Check", "run_checks", "kunit_checks", "observed_outcome", "fmt_dma", "CLASSES"]
