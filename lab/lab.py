#!/usr/bin/env python3
"""The kdump lab: run scenarios on the built variants, verify, report.

  lab.py run VARIANT [--mode dt|acpi] [--scenario NAME]   one run, its checks
  lab.py demo                                             main scenario, A/B table
  lab.py check                                            every check, "N passed, N failed"
  lab.py faults [--modes dt,acpi] [--no-repeat]           the fault matrix in every mode

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
import selftest_views  # noqa: E402
import verify  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

TOP = verify.TOP
BUILD = verify.BUILD
T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.0f}s] {msg}", flush=True)


# lab.py run/kunit --out NAME: boot build/out-NAME (OUTNAME=NAME of
# build-kernel.sh) with the expectations of the variant given.
OUT = {}


def outdir(variant):
    return os.path.join(BUILD, f"out-{OUT.get(variant, variant)}")


def variants():
    """The variants whose kernel exists, base first."""
    return [v for v in ("base", "patched")
            if os.path.exists(os.path.join(BUILD, f"out-{v}/arch/arm64/boot/Image"))]


SELFTEST = "arm_smmu_v3_kdump"


def selftest_binary(variant):
    """The series' kselftest (build-kernel.sh builds it with the series):
    the variant's own, else the patched build's, so that a base capture
    kernel runs it too (and must skip)."""
    for v in (variant, "patched"):
        path = os.path.join(outdir(v), "selftest", SELFTEST)
        if os.path.exists(path):
            return path
    return None


def build_initrd(variant):
    """/init (static, arm64) + the capture kernel and its initrd, as cpio."""
    out = outdir(variant)
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
    test = selftest_binary(variant)
    capx = ["dir /selftest 0755 0 0", f"file /selftest/{SELFTEST} {test} 0755 0 0"] if test else []
    for path, extra in ((cap, capx), (sysrd, [f"file /Image {image} 0644 0 0",
                                              f"file /capture.cpio {cap} 0644 0 0"])):
        spec = path + ".list"
        with open(spec, "w") as f:
            f.write("\n".join(base + extra) + "\n")
        with open(path, "wb") as f:
            subprocess.run([gen, spec], stdout=f, check=True)
    return image, sysrd


def run(variant, scenario="main", mode="dt", append=""):
    """Boot one scenario; return its run folder and how far it got."""
    sc = SCENARIOS[scenario]
    image, initrd = build_initrd(variant)
    rundir = os.path.join(BUILD, "runs", f"{OUT.get(variant, variant)}-{mode}-{scenario}")
    log(f"run {variant}/{mode}/{scenario}: {sc['what']}")
    reached, reason, secs = qemu.boot(image, initrd, rundir, mode,
                                      f"{sc.get('append', '')} {append}".strip(), log=log)
    if reason:
        log(f"  FAILED at {reached}: {reason}; serial tail:")
        tail = verify.serial_text(rundir).splitlines()[-25:]
        print("\n".join("    | " + ln for ln in tail), flush=True)
    else:
        log(f"  finished in {secs:.0f} s")
    return rundir, reason


# One boot per glob (kunit.filter_glob takes one). The series adds a
# suite of its own for the SMMUv3 adoption and one for the crash-dump core's
# helper (lab/kernel-series.config turns them on).
KUNIT_GLOBS = {"base": ["arm-smmu-v3*"], "patched": ["arm-smmu-v3*", "vmcore*"]}
KUNIT_EXPECTED = {"base": {"arm-smmu-v3-kunit-test"},
                  "patched": {"arm-smmu-v3-kunit-test", "arm-smmu-v3-kdump-kunit-test",
                              "vmcore_oldmem"}}


def kunit(variant):
    """Boot the variant with KUnit on for its suites; one result per test."""
    image, initrd = build_initrd(variant)
    res, results = [], []
    for i, glob in enumerate(KUNIT_GLOBS[variant]):
        rundir = os.path.join(BUILD, "runs", f"{OUT.get(variant, variant)}-kunit"
                              + (f"-{i}" if i else ""))
        log(f"run {variant}/kunit: KUnit suites {glob} at boot")
        reached, reason, secs = qemu.boot(
            image, initrd, rundir, "dt",
            f"kunit.enable=1 kunit.filter_glob={glob} lab.stage=kunit",
            log=log, stages=qemu.KUNIT_STAGES)
        res.append((f"kunit boot {glob}", reason is None,
                    reason or f"booted and ran KUnit in {secs:.0f} s"))
        results += verify.kunit_results(rundir)
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
    vmlinux = os.path.join(outdir(variant), "vmlinux")
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
    if selftest_binary(variant):
        # The series' kselftest: passes in a capture kernel with the series,
        # skips in one without (no adoption view in debugfs).
        res += verify.check_selftest(rundir, "skip" if variant == "base" else "pass",
                                     sc.get("selftest_pass", ()))
    if sc.get("gerror"):
        state, detail = verify.check_gerror(rundir)
        res.append(("GERROR acknowledged", state == "acked", detail))
    td = verify.trace_dma(rundir)
    expect = sc["expect"][variant]
    nic = qemu.sid(qemu.NIC_SLOT)
    if expect == "off":
        # The crashed kernel left the SMMU off: every DMA was bypass before
        # the panic already; what counts is that the capture kernel found it
        # off and enabled it through the normal probe.
        p, c = verify.smmu_regs(rundir, "panic"), verify.smmu_regs(rundir, "capture")
        ok = bool(p and c and not p["CR0"] & 1 and c["CR0"] & 1)
        res.append(("(e) SMMU off at the panic", ok,
                    f"CR0 at the panic {p['CR0']:#x}, in the capture kernel {c['CR0']:#x}"
                    if p and c else "no SMMU registers in the serial log"))
        return res
    if "error" in td:
        res.append(("(e) NIC DMA", False, td["error"]))
    else:
        c = verify.dma_summary(td, nic)
        if not td["capture_writes"] and sc["outcome"][variant] != "normal":
            ok, why = False, "the capture kernel never programmed the SMMU"
        elif sum(c.values()) == 0:
            ok, why = False, "no DMA from the NIC after the panic: nothing was in flight"
        elif expect == "damage":
            ok = c["untranslated"] + c["aborted"] > 0
            why = "baseline: untranslated or aborted DMA expected"
        elif expect == "adopted":
            ok = c["untranslated"] == 0 and c["aborted"] == 0 and c["new"] == 0 and c["old"] > 0
            why = "adopted: only the crashed kernel's translations expected"
        elif expect == "granted":
            ok, why = True, "DMA seen"
        else:
            ok, why = False, f"unknown expectation {expect}"
        res.append(("(e) NIC DMA", ok, f"{why}; {verify.fmt_dma(c)}"))
    res.append(("(f) no new DMA access", *verify.check_granted(rundir, td)))
    return res


def report(prefix, results):
    passed = failed = 0
    for name, ok, detail in results:
        word = "PASS" if ok else "FAIL"
        passed, failed = passed + bool(ok), failed + (not ok)
        print(f"{word} {prefix} {name}: {detail}", flush=True)
    return passed, failed


def cmd_run(a):
    rundir, reason = run(a.variant, a.scenario, a.mode, a.append)
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


def counted(name, variant):
    """Is this row a test? Every scenario on patched; on base only "main"
    (its damage is the baseline); the other base rows are a comparison."""
    return variant != "base" or name == "main"


def matrix(vs, modes, with_repeats=False, own_modes=True, base_rows=None, only=None):
    """Run every scenario on the variants:
    [(scenario, variant, mode, checks, observed outcome)].

    With own_modes, each scenario runs in its own modes (default dt),
    otherwise in `modes`; base runs the scenarios in base_rows (None: all).
    The crash check (d) runs for the main scenario only (it takes ~40 s and
    reads the same kind of vmcore every time)."""
    out = []
    for name, sc in SCENARIOS.items():
        if only and name not in only:
            continue
        for mode in (sc.get("modes", ["dt"]) if own_modes else modes):
            for v in vs:
                if v == "base" and base_rows is not None and name not in base_rows:
                    continue
                rundir, reason = run(v, name, mode)
                res = checks(v, name, mode, rundir, reason, with_crash=(name == "main"))
                out.append((name, v, mode, res, verify.observed_outcome(rundir)))
        if with_repeats and sc.get("repeat"):
            for v in [x for x in vs if x != "base"]:
                good = 0
                for i in range(sc["repeat"]):
                    rundir, reason = run(v, name, "dt")
                    res = checks(v, name, "dt", rundir, reason, with_crash=False)
                    good += all(ok for _, ok, _ in res)
                    log(f"  repeat {i + 1}/{sc['repeat']}: "
                        f"{'green' if all(ok for _, ok, _ in res) else 'RED'}")
                out.append((f"{name} x{sc['repeat']}", v, "dt",
                            [(f"{sc['repeat']} consecutive runs green", good == sc["repeat"],
                              f"{good} of {sc['repeat']} runs passed every check")],
                            f"{good}/{sc['repeat']} green"))
    return out


def report_rows(rows):
    """Print every check of the rows; count those of the rows that are tests."""
    passed = failed = 0
    for name, v, mode, res, _ in rows:
        if counted(name.split()[0], v):
            p, f = report(f"{v}/{mode}/{name}", res)
            passed, failed = passed + p, failed + f
        else:
            for n, ok, detail in res:
                print(f"{'BASE-OK' if ok else 'BASE-SHORT'} {v}/{mode}/{name} {n}: {detail}")
    return passed, failed


def print_matrix(rows):
    """The table: scenario x variant: expected, observed, verdict."""
    print()
    print("Fault matrix: scenario, variant/mode, expected (outcome; DMA), observed, result")
    for name, v, mode, res, seen in rows:
        sc = SCENARIOS.get(name)
        if sc:
            exp = sc["outcome"][v] + (f" /{sc['reason']}/" if sc["outcome"][v] == "fallback"
                                      else "") + f"; {sc['expect'][v]}" \
                + ("; GERROR acked" if sc.get("gerror") else "")
        else:
            exp = "every run green"
        bad = [n for n, ok, _ in res if not ok]
        if counted(name.split()[0], v):
            verdict = "MATCH" if not bad else "MISMATCH: " + ", ".join(bad)
        else:
            verdict = "base meets it" if not bad else "base falls short: " + ", ".join(bad)
        print(f"  {name:<17} {v + '/' + mode:<13} expected {exp:<50} observed {seen:<50} {verdict}")
    tests = [r for r in rows if counted(r[0].split()[0], r[1])]
    good = sum(1 for r in tests if all(ok for _, ok, _ in r[3]))
    print(f"{good} of {len(tests)} rows as expected"
          + (f"; base falls short in {sum(1 for r in rows if r not in tests and not all(ok for _, ok, _ in r[3]))}"
             f" of {len(rows) - len(tests)} comparison rows" if len(rows) > len(tests) else ""))


def cmd_faults(a):
    vs = [v for v in variants() if v in a.variants.split(",")]
    rows = matrix(vs, a.modes.split(","), with_repeats=not a.no_repeat, own_modes=False,
                  only=a.scenarios.split(",") if a.scenarios else None)
    passed, failed = report_rows(rows)
    print_matrix(rows)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


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
    if "patched" in vs:
        # The kselftest must catch an inconsistent view: crafted ones.
        p, f = report("patched", selftest_views.checks(selftest_binary("patched")))
        passed, failed = passed + p, failed + f
    # The matrix in dt (main in acpi too), base only for the main scenario;
    # `make faults` runs every scenario in both modes on both variants and
    # repeats the main scenario.
    rows = matrix(vs, None, base_rows={"main"})
    p, f = report_rows(rows)
    passed, failed = passed + p, failed + f
    print_matrix(rows)
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
    r.add_argument("--out", help="boot build/out-OUT instead of build/out-VARIANT")
    r.add_argument("--append", default="", help="more system kernel parameters (ad hoc runs)")
    k = sub.add_parser("kunit")
    k.add_argument("variant", choices=["base", "patched"])
    k.add_argument("--out", help="boot build/out-OUT instead of build/out-VARIANT")
    d = sub.add_parser("demo")
    d.add_argument("--modes", default="dt,acpi")
    sub.add_parser("check")
    f = sub.add_parser("faults")
    f.add_argument("--modes", default="dt,acpi")
    f.add_argument("--variants", default="base,patched")
    f.add_argument("--no-repeat", action="store_true", help="skip the repeated runs")
    f.add_argument("--scenarios", help="only these scenarios (comma-separated)")
    a = ap.parse_args()
    if getattr(a, "out", None):
        OUT[a.variant] = a.out
    return {"run": cmd_run, "demo": cmd_demo, "check": cmd_check, "kunit": cmd_kunit,
            "faults": cmd_faults}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
