#!/usr/bin/env python3
"""The kdump lab's command line: run scenarios on the built kernels, verify, report.

  lab.py run VARIANT [--mode dt|acpi] [--scenario NAME]   one run, its checks
  lab.py kunit VARIANT                                    the KUnit suites at boot
  lab.py demo                                             main scenario, A/B table
  lab.py check                                            every check, "N passed, N failed"
  lab.py faults [--modes dt,acpi] [--no-repeat]           the fault matrix in every mode
  lab.py selftest-views                                   the kselftest on crafted views

Variants are the kernels `make kernels` built: base (pristine Debian 6.12)
and patched (with the series), in build/out-VARIANT. Each stage has its
file: initrd.py builds the guest, qemu.py boots it, evidence.py collects
and parses what the run left, verify.py judges, report.py prints.
"""
import argparse
import itertools
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evidence  # noqa: E402
import initrd  # noqa: E402
import lint  # noqa: E402
import protocol  # noqa: E402
import qemu  # noqa: E402
import report  # noqa: E402
import runs  # noqa: E402
import selftest_views  # noqa: E402
import verify  # noqa: E402
from scenarios import KUNIT_GLOBS, KUNIT_SUITES, SCENARIOS, in_check  # noqa: E402

T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.0f}s] {msg}", flush=True)


def boot_scenario(run, with_crash=True):
    """Boot a kdump run, collect its evidence, judge it: its checks."""
    sc = SCENARIOS[run.scenario]
    image_initrd, facts = initrd.GUESTS[run.guest](run)
    log(f"run {run.name}: {sc.what}")
    boot = qemu.boot(run, image_initrd, qemu.kernel_params(run, sc), log=log, facts=facts,
                     sender=sc.sender, disk_read_bps=sc.disk_read_bps)
    if boot["reason"]:
        log(f"  FAILED at {boot['reached']}: {boot['reason']}; serial tail:")
        tail = evidence.read_text(run.path("serial")).splitlines()[-25:]
        print("\n".join("    | " + ln for ln in tail), flush=True)
    else:
        log(f"  finished in {boot['seconds']:.0f} s")
    evidence.collect(run, with_crash)
    ev = evidence.Evidence(run)
    return verify.run_checks(ev, sc, with_crash), ev


def kunit(variant, out=None):
    """Boot the variant with KUnit on, once per glob; its checks."""
    boots = []
    for i, glob in enumerate(KUNIT_GLOBS[variant]):
        run = runs.Run(variant, scenario=f"kunit-{i}", out=out)
        image_initrd, facts = initrd.GUESTS[run.guest](run)
        log(f"run {run.name}: KUnit suites {glob} at boot")
        qemu.boot(run, image_initrd, f"kunit.enable=1 kunit.filter_glob={glob} "
                  + protocol.param("stage", "kunit"), log=log,
                  stages=protocol.KUNIT_STAGES, facts=facts)
        boots.append((glob, evidence.Evidence(run)))
    return verify.kunit_checks(boots, KUNIT_SUITES[variant])


def matrix(variants, configs=("lab",), modes=None, repeats=False, select=None, only=None):
    """Run the scenarios on the variants and configurations: [report.Row].

    Each scenario runs in its own modes and guests, or in `modes` when
    given; select (name, variant, config, guest) picks the rows (None:
    all). The crash check (d) runs for the main scenario only (the same
    kind of vmcore each time)."""
    rows = []
    for name, sc in SCENARIOS.items():
        if only and name not in only:
            continue
        for config in configs:
            built = runs.built_variants(config)
            machine_modes = [m for m in modes or sc.modes if m in qemu.MACHINES[sc.machine].modes]
            for guest, mode, v in itertools.product(sc.guests, machine_modes, variants):
                if v not in built or select and not select(name, v, config, guest):
                    continue
                # A fixture kernel is the series plus a lab patch, built in
                # the lab configuration only.
                if sc.kernel and (v != "patched" or config != "lab"):
                    continue
                run = runs.Run(v, mode, name, config=config, machine=sc.machine,
                               out=sc.kernel, guest=guest)
                checks, ev = boot_scenario(run, with_crash=(name == "main"))
                if all(c.ok for c in checks):
                    log(f"  green: its dump deleted ({run.drop_core() >> 20} MiB)")
                rows.append(report.Row(name, v, mode, checks, verify.observed_outcome(ev),
                                       config, guest))
        if repeats and sc.repeat:
            for v in [x for x in variants if x != "base"]:
                good = 0
                for i in range(sc.repeat):
                    run = runs.Run(v, "dt", name, machine=sc.machine)
                    checks, _ = boot_scenario(run, with_crash=False)
                    good += all(c.ok for c in checks)
                    if all(c.ok for c in checks):
                        run.drop_core()
                    log(f"  repeat {i + 1}/{sc.repeat}: "
                        f"{'green' if all(c.ok for c in checks) else 'RED'}")
                rows.append(report.Row(
                    f"{name} x{sc.repeat}", v, "dt",
                    [verify.Check(f"{sc.repeat} consecutive runs green", good == sc.repeat,
                                  f"{good} of {sc.repeat} runs passed every check")],
                    f"{good}/{sc.repeat} green"))
    return rows


class _Result(unittest.TestResult):
    """One Check per test."""

    def __init__(self):
        super().__init__()
        self.checks = []

    def addSuccess(self, test):
        self.checks.append(verify.Check(test.id(), True, "ok"))

    def addFailure(self, test, err):
        self.checks.append(verify.Check(test.id(), False, str(err[1]).splitlines()[0][:200]))

    def addError(self, test, err):
        self.checks.append(verify.Check(test.id(), False, f"{err[0].__name__}: {err[1]}"[:200]))

    def addSkip(self, test, reason):
        self.checks.append(verify.Check(test.id(), False, f"skipped: {reason}"))


def lab_tests():
    """The lab's own unit tests (lab/tests, on recorded runs): one Check each."""
    suite = unittest.defaultTestLoader.discover(os.path.join(runs.TOP, "lab/tests"))
    result = _Result()
    suite.run(result)
    return result.checks or [verify.Check("lab unit tests", False, "no test found")]


def cmd_run(a):
    sc = SCENARIOS[a.scenario]
    run = runs.Run(a.variant, a.mode or sc.modes[0], a.scenario, config=a.config,
                   out=a.out or sc.kernel, machine=a.machine or sc.machine, guest=a.guest)
    checks, _ = boot_scenario(run, not a.no_crash)
    p, f = report.report(f"{a.variant}/{run.mode}/{a.scenario}", checks)
    print(f"{p} passed, {f} failed")
    return 1 if f else 0


def cmd_kunit(a):
    p, f = report.report(f"{a.variant}/kunit", kunit(a.variant, a.out))
    print(f"{p} passed, {f} failed")
    return 1 if f else 0


def cmd_demo(a):
    variants = runs.built_variants()
    if not variants:
        print("demo: no kernel built (make kernels)")
        return 1
    table, evs = {}, {}
    for mode in a.modes.split(","):
        for v in variants:
            table[(v, mode)], evs[(v, mode)] = boot_scenario(runs.Run(v, mode, "main"))
    report.demo_table(table, evs)
    return 1 if any(not c.ok for checks in table.values() for c in checks) else 0


def cmd_faults(a):
    variants = [v for v in runs.built_variants() if v in a.variants.split(",")]
    configs = [c for c in a.configs.split(",") if runs.built_variants(c)]
    rows = matrix(variants, configs, a.modes.split(","), repeats=not a.no_repeat,
                  only=a.scenarios.split(",") if a.scenarios else None)
    passed, failed = report.report_rows(rows)
    report.print_matrix(rows)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_selftest_views(a):
    p, f = report.report("patched", selftest_views.checks(
        initrd.selftest_binary(runs.Run("patched"))))
    print(f"{p} passed, {f} failed")
    return 1 if f else 0


def cmd_check(a):
    """Fastest first: the lab's own tests, the gates, KUnit, the kselftest on
    crafted views, then the matrix (dt; main in acpi too; base: main)."""
    passed = failed = 0

    def stage(name, checks_or_counts):
        nonlocal passed, failed
        t = time.monotonic()
        p, f = checks_or_counts() if callable(checks_or_counts) else checks_or_counts
        passed, failed = passed + p, failed + f
        log(f"stage {name}: {p} passed, {f} failed in {time.monotonic() - t:.0f} s")

    stage("lab unit tests", lambda: report.report("lab", lab_tests()))
    stage("lint", lint.run)
    variants = runs.built_variants()
    if not variants:
        print("FAIL kernels: none built")
        print(f"{passed} passed, {failed + 1} failed")
        return 1
    for v in variants:
        stage(f"kunit {v}", lambda: report.report(f"{v}/kunit", kunit(v)))
    if "patched" in variants:
        # The kselftest must catch an inconsistent view: crafted ones.
        stage("selftest views", lambda: report.report("patched", selftest_views.checks(
            initrd.selftest_binary(runs.Run("patched")))))
    rows = []

    def rows_stage():
        configs = [c for c in runs.CONFIGS if runs.built_variants(c)]
        rows.extend(matrix(variants, configs, select=in_check))
        return report.report_rows(rows)
    stage("matrix", rows_stage)
    report.print_matrix(rows)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("variant", choices=runs.VARIANTS)
    r.add_argument("--mode", choices=sorted(qemu.MODES),
                   help="the boot mode (default: the scenario's first)")
    r.add_argument("--scenario", default="main", choices=sorted(SCENARIOS))
    r.add_argument("--no-crash", action="store_true", help="skip the crash check (d)")
    r.add_argument("--out", help="boot build/out-OUT instead of build/out-VARIANT")
    r.add_argument("--config", default=runs.CONFIGS[0], choices=runs.CONFIGS)
    r.add_argument("--guest", default="init", choices=sorted(initrd.GUESTS),
                   help="kexec: load the capture kernel with Debian's kexec-tools")
    r.add_argument("--machine", choices=sorted(qemu.MACHINES),
                   help="another QEMU machine than the scenario's")
    k = sub.add_parser("kunit")
    k.add_argument("variant", choices=runs.VARIANTS)
    k.add_argument("--out", help="boot build/out-OUT instead of build/out-VARIANT")
    d = sub.add_parser("demo")
    d.add_argument("--modes", default="dt,acpi")
    sub.add_parser("check")
    sub.add_parser("selftest-views")
    f = sub.add_parser("faults")
    f.add_argument("--modes", default="dt,acpi")
    f.add_argument("--variants", default="base,patched")
    f.add_argument("--configs", default=",".join(runs.CONFIGS))
    f.add_argument("--no-repeat", action="store_true", help="skip the repeated runs")
    f.add_argument("--scenarios", help="only these scenarios (comma-separated)")
    a = ap.parse_args()
    return {"run": cmd_run, "demo": cmd_demo, "check": cmd_check, "kunit": cmd_kunit,
            "faults": cmd_faults, "selftest-views": cmd_selftest_views}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
