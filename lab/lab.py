#!/usr/bin/env python3
"""The kdump lab: run scenarios on the built variants, verify, report.

  lab.py run VARIANT [--mode dt|acpi] [--scenario NAME]   one run, its checks
  lab.py demo                                             main scenario, A/B table
  lab.py check                                            every check, "N passed, N failed"

Variants are the kernels `make kernels` built: base (pristine Debian 6.12)
and patched (with the series), in build/out-VARIANT.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lint  # noqa: E402
import qemu  # noqa: E402
import verify  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

TOP = verify.TOP
BUILD = verify.BUILD
T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.0f}s] {msg}", flush=True)


def variants():
    """The variants whose kernel exists, base first."""
    return [v for v in ("base", "patched")
            if os.path.exists(os.path.join(BUILD, f"out-{v}/arch/arm64/boot/Image"))]


def build_initrd(variant):
    """/init (static, arm64) + the capture kernel and its initrd, as cpio."""
    out = os.path.join(BUILD, f"out-{variant}")
    dest = os.path.join(out, "lab")
    os.makedirs(dest, exist_ok=True)
    init = os.path.join(BUILD, "guest-init")
    src = os.path.join(TOP, "lab/guest/init.c")
    if not os.path.exists(init) or os.path.getmtime(init) < os.path.getmtime(src):
        subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-o", init, src], check=True)
    gen = os.path.join(out, "usr/gen_init_cpio")
    image = os.path.join(out, "arch/arm64/boot/Image")
    base = ["dir /dev 0755 0 0", "nod /dev/console 0600 0 0 c 5 1", "dir /proc 0755 0 0",
            "dir /sys 0755 0 0", f"file /init {init} 0755 0 0"]
    cap = os.path.join(dest, "capture.cpio")
    sysrd = os.path.join(dest, "system.cpio")
    for path, extra in ((cap, []), (sysrd, [f"file /Image {image} 0644 0 0",
                                            f"file /capture.cpio {cap} 0644 0 0"])):
        spec = path + ".list"
        with open(spec, "w") as f:
            f.write("\n".join(base + extra) + "\n")
        with open(path, "wb") as f:
            subprocess.run([gen, spec], stdout=f, check=True)
    return image, sysrd


def run(variant, scenario="main", mode="dt"):
    """Boot one scenario; return its run folder and how far it got."""
    sc = SCENARIOS[scenario]
    image, initrd = build_initrd(variant)
    rundir = os.path.join(BUILD, "runs", f"{variant}-{mode}-{scenario}")
    log(f"run {variant}/{mode}/{scenario}: {sc['what']}")
    reached, reason, secs = qemu.boot(image, initrd, rundir, mode, sc.get("append", ""),
                                      log=log)
    if reason:
        log(f"  FAILED at {reached}: {reason}; serial tail:")
        tail = verify.serial_text(rundir).splitlines()[-25:]
        print("\n".join("    | " + ln for ln in tail), flush=True)
    else:
        log(f"  finished in {secs:.0f} s")
    return rundir, reason


KUNIT_SUITES = "arm-smmu-v3*"
# The suites each variant must run: base has the driver's own; the series
# adds the adoption tests (lab/kernel-series.config turns them on).
KUNIT_EXPECTED = {"base": {"arm-smmu-v3-kunit-test"},
                  "patched": {"arm-smmu-v3-kunit-test", "arm-smmu-v3-kdump-kunit-test"}}


def kunit(variant):
    """Boot the variant with KUnit on for the SMMUv3 suites; one result per test."""
    image, initrd = build_initrd(variant)
    rundir = os.path.join(BUILD, "runs", f"{variant}-kunit")
    log(f"run {variant}/kunit: KUnit suites {KUNIT_SUITES} at boot")
    reached, reason, secs = qemu.boot(
        image, initrd, rundir, "dt",
        f"kunit.enable=1 kunit.filter_glob={KUNIT_SUITES} lab.stage=kunit",
        log=log, stages=qemu.KUNIT_STAGES)
    res = [("kunit boot", reason is None, reason or f"booted and ran KUnit in {secs:.0f} s")]
    results = verify.kunit_results(rundir)
    ran = {suite for suite, _, _ in results}
    missing = KUNIT_EXPECTED[variant] - ran
    res.append(("kunit suites", not missing,
                f"missing: {', '.join(sorted(missing))}" if missing else
                f"{', '.join(sorted(ran))}: {len(results)} tests"))
    for suite, test, state in results:
        res.append((f"{suite}.{test}", state != "fail", state))
    return res


def checks(variant, scenario, mode, rundir, reason, with_crash=True):
    """Every check of one run: a list of (name, ok, detail)."""
    vmlinux = os.path.join(BUILD, f"out-{variant}/vmlinux")
    sc = SCENARIOS[scenario]
    res = [("run", reason is None, reason or "system, panic, capture, poweroff")]
    res.append(("(a) capture", *verify.check_capture(rundir)))
    res.append(("(b) vmcore", *verify.check_vmcore(rundir)))
    res.append(("(c) vmcore-dmesg", *verify.check_dmesg(rundir)))
    if with_crash:
        res.append(("(d) crash", *verify.check_crash(rundir, vmlinux)))
    cap = verify.split_log(rundir)[1]
    probs = verify.kernel_problems(cap)
    res.append(("capture log clean", not probs and bool(cap),
                probs[0][:120] if probs else ("no oops, BUG, WARN, hung task" if cap else
                                              "no capture kernel log")))
    outcome = sc["outcome"][variant]
    res.append(("outcome", *verify.check_outcome(rundir, outcome, sc.get("reason"))))
    got = (verify.boot_mode(rundir, capture=False), verify.boot_mode(rundir))
    res.append(("boot mode", got == (mode, mode),
                f"system kernel by {got[0] or 'unknown'}, capture kernel by {got[1] or 'unknown'}"))
    td = verify.trace_dma(rundir)
    expect = sc["expect"][variant]
    nic = qemu.sid(qemu.NIC_SLOT)
    if "error" in td:
        res.append(("(e) NIC DMA", False, td["error"]))
    else:
        c = verify.dma_summary(td, nic)
        if not td["capture_writes"]:
            ok, why = False, "the capture kernel never programmed the SMMU"
        elif sum(c.values()) == 0:
            ok, why = False, "no DMA from the NIC after the panic: nothing was in flight"
        elif expect == "damage":
            ok = c["untranslated"] + c["aborted"] > 0
            why = "baseline: untranslated or aborted DMA expected"
        elif expect == "adopted":
            ok = c["untranslated"] == 0 and c["aborted"] == 0 and c["new"] == 0 and c["old"] > 0
            why = "adopted: only the crashed kernel's translations expected"
        else:
            ok, why = False, f"unknown expectation {expect}"
        res.append(("(e) NIC DMA", ok, f"{why}; {verify.fmt_dma(c)}"))
    return res


def report(prefix, results):
    passed = failed = 0
    for name, ok, detail in results:
        word = "PASS" if ok else "FAIL"
        passed, failed = passed + bool(ok), failed + (not ok)
        print(f"{word} {prefix} {name}: {detail}", flush=True)
    return passed, failed


def cmd_run(a):
    rundir, reason = run(a.variant, a.scenario, a.mode)
    p, f = report(f"{a.variant}/{a.mode}/{a.scenario}",
                  checks(a.variant, a.scenario, a.mode, rundir, reason, not a.no_crash))
    print(f"{p} passed, {f} failed")
    return 1 if f else 0


def dma_lines(rundir):
    """Per DMA device: its counts from the panic to its takeover, and after."""
    td = verify.trace_dma(rundir)
    if "error" in td:
        return [td["error"]]
    out = []
    for sid, name in qemu.DMA_DEVICES.items():
        took = "taken over by the capture kernel" if sid in td["taken"] else "never taken over"
        out.append(f"sid {sid:#x} {name}, panic to takeover: "
                   f"{verify.fmt_dma(verify.dma_summary(td, sid))}; {took}")
    return out


def cmd_kunit(a):
    p, f = report(f"{a.variant}/kunit", kunit(a.variant))
    print(f"{p} passed, {f} failed")
    return 1 if f else 0


def verdict(variant, res):
    d = {name: (ok, detail) for name, ok, detail in res}
    good = all(ok for ok, _ in d.values())
    saved = "vmcore saved and verified" if all(
        d.get(k, (False,))[0] for k in ("(a) capture", "(b) vmcore", "(c) vmcore-dmesg",
                                        "(d) crash")) else "vmcore NOT verified"
    dma = d.get("(e) NIC DMA", (False, "no data"))[1].split("; ", 1)[-1]
    return f"{variant}: {'as expected' if good else 'NOT as expected'}: {saved}; " \
           f"NIC DMA from panic to takeover: {dma}"


def cmd_demo(a):
    vs = variants()
    if not vs:
        print("demo: no kernel built (make kernels)")
        return 1
    modes = a.modes.split(",")
    table, total_f = {}, 0
    for mode in modes:
        for v in vs:
            rundir, reason = run(v, "main", mode)
            res = checks(v, "main", mode, rundir, reason)
            table[(v, mode)] = res
            total_f += sum(1 for _, ok, _ in res if not ok)
    print()
    print("A/B: main scenario (panic with the NIC receiving), per variant and boot mode")
    cols = [(v, m) for m in modes for v in vs]
    names = [n for n, _, _ in table[cols[0]]]
    width = 20
    print(f"{'check':<22}" + "".join(f"{v + '/' + m:<{width}}" for v, m in cols))
    for n in names:
        row = f"{n:<22}"
        for col in cols:
            ok = next((ok for nn, ok, _ in table[col] if nn == n), None)
            row += f"{'-' if ok is None else ('pass' if ok else 'FAIL'):<{width}}"
        print(row)
    print()
    for col in cols:
        for n, ok, detail in table[col]:
            print(f"  {col[0]}/{col[1]} {n}: {detail}")
        for ln in dma_lines(os.path.join(BUILD, "runs", f"{col[0]}-{col[1]}-main")):
            print(f"  {col[0]}/{col[1]} {ln}")
    print()
    for col in cols:
        print("VERDICT " + verdict(col[0], table[col]) + f" [{col[1]}]")
    return 1 if total_f else 0


def cmd_check(a):
    log("lint: the maintainers' and 0-day's gates on patches/")
    passed, failed = lint.run()
    vs = variants()
    if not vs:
        print("FAIL kernels: none built")
        print("0 passed, 1 failed")
        return 1
    for v in vs:
        p, f = report(f"{v}/kunit", kunit(v))
        passed, failed = passed + p, failed + f
    for scenario, sc in SCENARIOS.items():
        for mode in sc.get("modes", ["dt"]):
            for v in vs:
                rundir, reason = run(v, scenario, mode)
                p, f = report(f"{v}/{mode}/{scenario}",
                              checks(v, scenario, mode, rundir, reason,
                                     with_crash=(scenario == "main")))
                passed, failed = passed + p, failed + f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("variant", choices=["base", "patched"])
    r.add_argument("--mode", default="dt", choices=["dt", "acpi"])
    r.add_argument("--scenario", default="main", choices=sorted(SCENARIOS))
    r.add_argument("--no-crash", action="store_true", help="skip the crash check (d)")
    k = sub.add_parser("kunit")
    k.add_argument("variant", choices=["base", "patched"])
    d = sub.add_parser("demo")
    d.add_argument("--modes", default="dt,acpi")
    sub.add_parser("check")
    a = ap.parse_args()
    return {"run": cmd_run, "demo": cmd_demo, "check": cmd_check, "kunit": cmd_kunit}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
