"""The verifier on recorded runs (lab/tests/data/RUN/): the check list it
gives must be the one recorded with the run (case.json, from the verifier
before the lab's re-layout), and each rule must turn red on evidence made
wrong the way it guards against.

A recorded run is its folder as the lab left it, with the SMMU trace cut
to what the verifier reads (before the panic: register writes; after it: a
device's DMA until the capture kernel took it over) and gzipped."""
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import evidence  # noqa: E402
import protocol  # noqa: E402
import runs  # noqa: E402
import verify  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def cases():
    for name in sorted(os.listdir(DATA)):
        path = os.path.join(DATA, name, "case.json")
        if os.path.exists(path):
            with open(path) as f:
                yield name, json.load(f)


def materialize(name, root):
    """The recorded run as a run folder under root (the trace unzipped)."""
    dst = os.path.join(root, name)
    shutil.copytree(os.path.join(DATA, name), dst)
    gz = os.path.join(dst, "qemu.log.gz")
    if os.path.exists(gz):
        with gzip.open(gz, "rb") as f, open(os.path.join(dst, "qemu.log"), "wb") as out:
            shutil.copyfileobj(f, out)
        os.unlink(gz)
    return dst


def judge(root, case):
    run = runs.Run(**case["run"], root=root)
    ev = evidence.Evidence(run)
    if run.scenario.startswith("kunit"):
        return [list(x) for x in evidence.kunit_results(ev.serial)]
    checks = verify.run_checks(ev, SCENARIOS[run.scenario], case["with_crash"])
    return [[c.name, bool(c.ok), c.detail] for c in checks] + \
        [["observed", True, verify.observed_outcome(ev)]]


class Recorded(unittest.TestCase):
    """Each recorded run gives its recorded check list, line for line."""

    def test_cases_present(self):
        names = [n for n, _ in cases()]
        self.assertGreaterEqual(len(names), 5, names)

    def test_recorded_check_lists(self):
        with tempfile.TemporaryDirectory() as root:
            for name, case in cases():
                with self.subTest(run=name):
                    materialize(name, root)
                    self.assertEqual(judge(root, case), case["expected"])


class Red(unittest.TestCase):
    """A recorded good run, made wrong in one way: the named check fails."""

    RUN = "patched-dt-main"

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.use(self.RUN)

    def use(self, run):
        """Work on another recorded run than RUN."""
        self.RUN = run
        shutil.rmtree(os.path.join(self.tmp, run), ignore_errors=True)
        materialize(run, self.tmp)
        with open(os.path.join(DATA, run, "case.json")) as f:
            self.case = json.load(f)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def edit(self, fname, old, new, count=1):
        path = os.path.join(self.tmp, self.RUN, fname)
        with open(path, errors="replace") as f:
            text = f.read()
        self.assertIn(old, text)
        with open(path, "w") as f:
            f.write(text.replace(old, new, count))

    def failing(self):
        got = judge(self.tmp, self.case)
        return {name for name, ok, _ in got if not ok}

    def test_unchanged_is_green(self):
        self.assertEqual(self.failing(), set())

    def test_capture_not_saved(self):
        self.edit("serial.log", "LAB: vmcore saved=1", "LAB: vmcore saved=0")
        self.assertIn("(a) capture", self.failing())

    def test_kexec_tools_load(self):
        """The guest "kexec": kexec-tools' kexec_load() with KEXEC_ON_CRASH."""
        self.use("kexec-patched-dt-main")
        self.assertEqual(self.failing(), set())
        for old, new in (("kexec_load: entry =", "kexec_file_load: entry ="),
                         ("flags = 0xb70001", "flags = 0xb70000"),
                         ("LAB: loader=kexec-tools rc=0", "LAB: loader=kexec-tools rc=1"),
                         ("LAB: loader=kexec-tools", "LAB: loader=kexec_file_load")):
            with self.subTest(edit=new):
                self.use("kexec-patched-dt-main")
                self.edit("serial.log", old, new)
                self.assertEqual(self.failing(), {"kexec-tools load"})

    def test_kexec_tools_load_only_for_its_guest(self):
        """The check belongs to the guest: the init guest's runs have none."""
        names = [c[0] for c in self.case["expected"]]
        self.assertNotIn("kexec-tools load", names)
        self.use("kexec-patched-dt-l2ptr_capture")
        self.assertIn("kexec-tools load", [c[0] for c in self.case["expected"]])

    def test_vmcore_size_mismatch(self):
        with open(os.path.join(self.tmp, self.RUN, "evidence.json")) as f:
            ev = json.load(f)
        ev["vmcore"]["end"] += 4096
        with open(os.path.join(self.tmp, self.RUN, "evidence.json"), "w") as f:
            json.dump(ev, f)
        self.assertIn("(b) vmcore", self.failing())

    def test_dmesg_without_panic(self):
        self.edit("vmcore-dmesg.txt", verify.PANIC_LINE, "Kernel panic - something else")
        self.assertIn("(c) vmcore-dmesg", self.failing())

    def test_crash_error_line(self):
        self.edit("crash.txt", "      PANIC:", "crash: cannot read something\n      PANIC:")
        self.assertIn("(d) crash", self.failing())

    def test_warning_in_capture_log(self):
        self.edit("serial.log", "LAB: stage=capture",
                  "WARNING: CPU: 0 PID: 1 at drivers/iommu/x.c:1 f+0x0/0x0\nLAB: stage=capture")
        self.assertIn("capture log clean", self.failing())

    def test_lockdep_in_system_log(self):
        self.edit("serial.log", "LAB: stage=system",
                  "LAB: stage=system\n[    9.9] WARNING: possible recursive locking detected")
        self.assertIn("system log clean", self.failing())

    def test_kmemleak(self):
        # A debug run's capture kernel reports a leak, or never scanned.
        self.case["run"]["config"] = "debug"
        os.rename(os.path.join(self.tmp, self.RUN), os.path.join(self.tmp, "debug-" + self.RUN))
        self.RUN = "debug-" + self.RUN
        self.assertEqual(self.failing(), {"kmemleak"})
        self.edit("serial.log", "LAB: reboot=1", "LAB: kmemleak leaks=0\nLAB: reboot=1",
                  count=-1)
        self.assertNotIn("kmemleak", self.failing())
        self.edit("serial.log", "LAB: kmemleak leaks=0",
                  "LAB: kmemleak| unreferenced object 0xffff0000c0de (size 64):\n"
                  "LAB: kmemleak leaks=1")
        self.assertIn("kmemleak", self.failing())

    def test_no_adoption_line(self):
        self.edit("serial.log", "kdump: adopted the crashed kernel's", "kdump: looked at the",
                  count=-1)
        self.assertIn("outcome", self.failing())

    def test_adoption_and_reset(self):
        self.edit("serial.log", "kdump: adopted the crashed kernel's",
                  "SMMU currently enabled! Resetting...\nkdump: adopted the crashed kernel's")
        self.assertIn("outcome", self.failing())

    def test_deferred_streams_skipped(self):
        # The case nic_no_driver exists for must pass, not skip.
        self.use("patched-dt-nic_no_driver")
        self.assertEqual(self.failing(), set())
        self.edit("serial.log", "\nok 3 smmu_view.deferred_streams",
                  "\nok 3 smmu_view.deferred_streams # SKIP nothing deferred")
        self.assertIn("selftest smmu_view.deferred_streams", self.failing())

    def test_gerror_left_active(self):
        self.use("patched-dt-gerror_latched")
        self.assertEqual(self.failing(), set())
        self.edit("serial.log", "LAB: smmu when=capture CR0=0x9 GERROR=0x1 GERRORN=0x1",
                  "LAB: smmu when=capture CR0=0x9 GERROR=0x1 GERRORN=0x0")
        self.assertIn("GERROR acknowledged", self.failing())

    def test_smmu_on_at_the_panic(self):
        self.use("patched-dt-smmu_off")
        self.assertEqual(self.failing(), set())
        self.edit("serial.log", "LAB: smmu when=panic CR0=0x0", "LAB: smmu when=panic CR0=0xd")
        self.assertIn("(e) SMMU off at the panic", self.failing())

    def test_capture_kernel_by_other_firmware(self):
        self.edit("serial.log", f"arm-smmu-v3 {protocol.SMMU.dt_name}", "arm-smmu-v3 other",
                  count=-1)
        self.assertIn("boot mode", self.failing())

    def test_selftest_case_failed(self):
        self.edit("serial.log", "ok 1 smmu_view.outcome", "not ok 1 smmu_view.outcome")
        self.assertTrue({"selftest", "selftest smmu_view.outcome"} <= self.failing())

    def after_panic(self, trace_lines):
        """Insert QEMU trace lines right after the panic marker."""
        path = os.path.join(self.tmp, self.RUN, "qemu.log")
        with open(path) as f:
            lines = f.readlines()
        marker = min(i for i, ln in enumerate(lines) if f"addr: {protocol.SMMU_AIDR:#x} " in ln)
        lines.insert(marker + 1, trace_lines)
        with open(path, "w") as f:
            f.writelines(lines)

    def test_new_table_translates(self):
        # The capture kernel installs a table of its own before it takes the
        # NIC over: translations after it count as "new".
        self.after_panic("1@1.0:smmuv3_read_mmio addr: 0x0 val:0x0 size: 0x4\n"
                         "1@1.0:smmuv3_write_mmio addr: 0x80 val:0x12345000 size: 0x8\n")
        self.assertTrue({"(e) NIC DMA", "(f) no new DMA access"} <= self.failing())

    def test_untranslated_dma(self):
        # One of the NIC's DMAs in the window passes with the SMMU disabled
        # (QEMU's line for it, as in a base run on QEMU 7.2).
        self.after_panic("1@1.0:smmuv3_translate_disable smmuv3-iommu-memory-region-8-1 "
                         f"sid={protocol.NIC_SID:#x} bypass (smmu disabled) iova:0xffff4002 "
                         "is_write=1\n")
        self.assertTrue({"(e) NIC DMA", "(f) no new DMA access"} <= self.failing())

    def test_no_dma_in_window(self):
        path = os.path.join(self.tmp, self.RUN, "qemu.log")
        with open(path) as f:
            lines = [ln for ln in f if "smmuv3_translate_" not in ln]
        with open(path, "w") as f:
            f.writelines(lines)
        self.assertTrue({"(e) NIC DMA", "(f) no new DMA access"} <= self.failing())

    def test_ste_not_translating(self):
        # The crashed kernel's STE for the NIC, as /init read it, in bypass:
        # translations through the old table were not granted.
        path = os.path.join(self.tmp, self.RUN, "serial.log")
        with open(path) as f:
            text = f.read()
        i = text.index(f"LAB: ste sid={protocol.NIC_SID:#x} ")
        j = text.index("w0=0x", i) + len("w0=0x")
        k = text.index(" ", j)
        with open(path, "w") as f:
            f.write(text[:j] + "9" + text[k:])   # V=1, Config 0b100: bypass
        self.assertIn("(f) no new DMA access", self.failing())

    def trace_edit(self, keep):
        """Keep the trace lines for which keep(index, line, lines) is true."""
        path = os.path.join(self.tmp, self.RUN, "qemu.log")
        with open(path) as f:
            lines = f.readlines()
        with open(path, "w") as f:
            f.writelines(ln for i, ln in enumerate(lines) if keep(i, ln, lines))

    def test_teardown_without_gbpa_abort(self):
        # The capture kernel clears SMMUEN at its reboot without having set
        # GBPA.ABORT (its last GBPA write dropped).
        gbpa = f"smmuv3_write_mmio addr: {protocol.SMMU_GBPA:#x} "
        self.trace_edit(lambda i, ln, lines: gbpa not in ln or
                        any(gbpa in x for x in lines[i + 1:]))
        self.assertEqual(self.failing(), {"(g) shutdown"})

    def test_smmuen_left_set_or_no_restart(self):
        cr0 = f"smmuv3_write_mmio addr: {protocol.SMMU_CR0:#x} val:0x0 "
        self.trace_edit(lambda i, ln, lines: cr0 not in ln or
                        any(cr0 in x for x in lines[i + 1:]))
        self.assertEqual(self.failing(), {"(g) shutdown"})
        self.use(self.RUN)
        self.edit("serial.log", "reboot: Restarting system", "reboot: Power down")
        self.assertEqual(self.failing(), {"(g) shutdown"})

    def test_unclaimed_nic_quiet_after_the_dump(self):
        # nic_unclaimed must see the NIC's DMA still running after the dump.
        self.use("patched-dt-nic_unclaimed")
        self.assertEqual(self.failing(), set())
        aidr = f"addr: {protocol.SMMU_AIDR:#x} "
        self.trace_edit(lambda i, ln, lines: "sid=0x8 " not in ln or
                        sum(aidr in x for x in lines[:i]) < 2)
        self.assertEqual(self.failing(), {"(g) shutdown"})

    def test_other_stages(self):
        # The machine promises stages 1 and 2: an SMMU_IDR0 without S2P fails.
        self.edit("qemu.log", f"smmuv3_read_mmio addr: {protocol.SMMU_IDR0:#x} val:0xd44101b",
                  f"smmuv3_read_mmio addr: {protocol.SMMU_IDR0:#x} val:0xd44101a", count=-1)
        self.assertEqual(self.failing(), {"SMMU stages"})

    def test_stage2_vmids(self):
        self.use("smmuv3-s2-patched-dt-stage2")
        self.assertEqual(self.failing(), set())
        # The first attach reuses a reserved VMID ...
        self.edit("serial.log", "vmids_reserved_list: 1-2", "vmids_reserved_list: 1-9")
        self.assertEqual(self.failing(), {"stage-2 VMIDs"})
        # ... or the NIC's DMA before it was tagged with one not reserved.
        self.use("smmuv3-s2-patched-dt-stage2")
        self.edit("serial.log", "vmids_reserved_list: 1-2", "vmids_reserved_list: 2")
        self.assertEqual(self.failing(), {"stage-2 VMIDs"})

    def test_linear_table_adopted_as_2_level(self):
        self.use("linear-dt-linear_table")
        self.assertEqual(self.failing(), set())
        self.edit("serial.log", "adopted the crashed kernel's linear stream table at",
                  "adopted the crashed kernel's 2-level stream table at", count=-1)
        self.assertEqual(self.failing(), {"outcome"})

    TWO = "smmuv3x2-patched-acpi-two_smmus"
    CORRUPT = "smmuv3x2-patched-acpi-two_smmus_one_corrupt"

    def smmu_line(self, kind, k, off, val, size=4):
        """A register access of SMMU k of the two-SMMU machine, as QEMU 11
        traces it (memory_region_ops_*)."""
        return (f"2026-12-02T05:14:12.000000Z memory_region_ops_{kind} cpu 0 mr 0x5555 addr "
                f"{protocol.SMMUS['smmuv3x2'][k].base + off:#x} value {val:#x} size {size} "
                f"name 'arm-smmuv3'\n")

    def test_two_smmus_second_one_reset(self):
        # The second SMMU's adoption line replaced by today's reset: its
        # own outcome fails, the first one's stays green.
        self.use(self.TWO)
        self.assertEqual(self.failing(), set())
        self.edit("serial.log", "arm-smmu-v3 arm-smmu-v3.1.auto: kdump: adopted the crashed",
                  "arm-smmu-v3 arm-smmu-v3.1.auto: SMMU currently enabled! Resetting...\n"
                  "[    1.0] arm-smmu-v3 arm-smmu-v3.1.auto: kdump: kept the crashed")
        self.assertEqual(self.failing(), {"outcome arm-smmu-v3.1.auto"})

    def test_two_smmus_table_replaced_on_the_second(self):
        # The capture kernel installs a new table on the second SMMU before
        # the disk's takeover: the disk's DMA after it is "new" there, and
        # the NIC's, behind the first SMMU, stays the crashed kernel's.
        self.use(self.TWO)
        path = os.path.join(self.tmp, self.RUN, "qemu.log")
        with open(path) as f:
            lines = f.readlines()
        probe = next(i for i, ln in enumerate(lines)
                     if f"addr {protocol.SMMUS['smmuv3x2'][1].base:#x} " in ln
                     and "ops_read" in ln and i > 1000)
        lines.insert(probe + 1, self.smmu_line("write", 1, protocol.SMMU_STRTAB_BASE,
                                               0x12345000, 8))
        with open(path, "w") as f:
            f.writelines(lines)
        self.assertEqual(self.failing(), {"(e) virtio-blk DMA (SMMU 1)",
                                          "(f) no new DMA access"})

    def test_two_smmus_table_replaced_on_the_first(self):
        # The same on the first SMMU: the NIC's DMA is "new", the disk's not.
        self.use(self.TWO)
        path = os.path.join(self.tmp, self.RUN, "qemu.log")
        with open(path) as f:
            lines = f.readlines()
        marker = min(i for i, ln in enumerate(lines)
                     if f"addr {protocol.SMMUS['smmuv3x2'][0].base + protocol.SMMU_AIDR:#x} "
                     in ln)
        lines.insert(marker + 1, self.smmu_line("read", 0, protocol.SMMU_IDR0, 0xd44101a)
                     + self.smmu_line("write", 0, protocol.SMMU_STRTAB_BASE, 0x12345000, 8))
        with open(path, "w") as f:
            f.writelines(lines)
        self.assertEqual(self.failing(), {"(e) virtio-net DMA (SMMU 0)",
                                          "(f) no new DMA access"})

    def test_two_smmus_nic_dma_required_after_its_smmus_probe(self):
        # The NIC's DMA stops before the capture kernel probes its SMMU
        # (the ring ran dry): its DMA up to then proves no adoption.
        self.use(self.TWO)
        base = protocol.SMMUS["smmuv3x2"][0].base

        window = []

        def before_probe(i, ln, lines):
            if "sid=0x8 " not in ln:
                return True
            if not window:
                marker = next(j for j, x in enumerate(lines)
                              if f"addr {base + protocol.SMMU_AIDR:#x} " in x)
                window.append(next(j for j, x in enumerate(lines)
                                   if j > marker and "ops_read" in x
                                   and f"addr {base + protocol.SMMU_IDR0:#x} " in x))
                window.append(next(j for j, x in enumerate(lines)
                                   if "cfgi_ste streamid= 0x8" in x))
            return not window[0] < i < window[1]

        self.trace_edit(before_probe)
        self.assertEqual(self.failing(), {"(e) virtio-net DMA (SMMU 0)"})

    def test_two_smmus_disk_dma_required_where_adopted(self):
        # No DMA of the disk in the window: red where its SMMU adopted,
        # allowed where it fell back (the reset takes the disk over at once).
        no_disk = (lambda i, ln, lines: "sid=0x900 " not in ln
                   and "memory-region-0-" not in ln)
        self.use(self.TWO)
        self.trace_edit(no_disk)
        self.assertEqual(self.failing(), {"(e) virtio-blk DMA (SMMU 1)", "ASIDs per SMMU"})
        self.use(self.CORRUPT)
        self.trace_edit(no_disk)
        self.assertEqual(self.failing(), set())

    def test_two_smmus_stages_per_smmu(self):
        # The second SMMU's first IDR0 read shows stage 2 too.
        self.use(self.TWO)
        idr0 = f"addr {protocol.SMMUS['smmuv3x2'][1].base + protocol.SMMU_IDR0:#x} value "
        self.edit("qemu.log", idr0 + "0xd44101a ", idr0 + "0xd44101b ", count=-1)
        self.assertEqual(self.failing(), {"SMMU stages"})

    def test_two_smmus_boot_mode_one_smmu_missing(self):
        # The capture kernel's log without the second SMMU's IORT device.
        self.use(self.TWO)
        path = os.path.join(self.tmp, self.RUN, "serial.log")
        with open(path) as f:
            text = f.read()
        i = text.index("Starting crashdump kernel")
        with open(path, "w") as f:
            f.write(text[:i] + text[i:].replace("arm-smmu-v3 arm-smmu-v3.1.auto",
                                                "arm-smmu-v3 other.1.auto"))
        self.assertIn("boot mode", self.failing())

    def test_two_smmus_marker_on_the_second(self):
        # /init's AIDR reads must be the first SMMU's: on the second they
        # mark nothing, and no window can be judged.
        self.use(self.TWO)
        first, second = (f"addr {s.base + protocol.SMMU_AIDR:#x} "
                         for s in protocol.SMMUS["smmuv3x2"])
        self.edit("qemu.log", first, second, count=-1)
        self.assertTrue({"(e) virtio-net DMA (SMMU 0)", "(e) virtio-blk DMA (SMMU 1)",
                         "(f) no new DMA access", "(g) shutdown", "SMMU stages"}
                        <= self.failing())

    def test_two_smmus_asids(self):
        # The second SMMU's view does not hold the ASID of its device's CD
        # (nor the tags of its DMA up to the takeover) ...
        self.use(self.TWO)
        self.edit("serial.log", "# arm-smmu-v3.1.auto: asids_reserved_list: 1",
                  "# arm-smmu-v3.1.auto: asids_reserved_list: 3")
        self.assertEqual(self.failing(), {"ASIDs per SMMU"})
        # ... or its new domain reuses an ASID it reserved.
        self.use(self.TWO)
        self.edit("serial.log", "# arm-smmu-v3.1.auto: asids_reserved_list: 1",
                  "# arm-smmu-v3.1.auto: asids_reserved_list: 1-2")
        self.assertEqual(self.failing(), {"ASIDs per SMMU"})
        # ... or the first SMMU's new domain one the first reserved. The
        # same value live on one SMMU and reserved on the other is no clash:
        # the recorded run has both ways round.
        self.use(self.TWO)
        got = {name: (ok, detail) for name, ok, detail in judge(self.tmp, self.case)}
        self.assertTrue(got["ASIDs per SMMU"][0])
        self.assertIn("new ASIDs that another SMMU keeps reserved: [1, 2]",
                      got["ASIDs per SMMU"][1])
        self.edit("serial.log", "# arm-smmu-v3.0.auto: asids_reserved_list: 2",
                  "# arm-smmu-v3.0.auto: asids_reserved_list: 1-2")
        self.assertEqual(self.failing(), {"ASIDs per SMMU"})

    def test_two_smmus_second_teardown_without_gbpa_abort(self):
        # The second SMMU's last GBPA write dropped: its teardown clears
        # SMMUEN without GBPA.ABORT, the first one's is fine.
        self.use(self.TWO)
        # (any memory region pointer: it is the recording's QEMU's)
        gbpa = re.compile(r"memory_region_ops_write cpu \d+ mr 0x[0-9a-f]+ addr "
                          f"{protocol.SMMUS['smmuv3x2'][1].base + protocol.SMMU_GBPA:#x} ")
        self.trace_edit(lambda i, ln, lines: not gbpa.search(ln) or
                        any(gbpa.search(x) for x in lines[i + 1:]))
        self.assertEqual(self.failing(), {"(g) shutdown"})

    def test_two_smmus_one_corrupt_outcomes(self):
        self.use(self.CORRUPT)
        self.assertEqual(self.failing(), set())
        # The corrupt SMMU adopting instead of falling back ...
        self.edit("serial.log", "arm-smmu-v3 arm-smmu-v3.1.auto: kdump: not adopting the "
                  "crashed kernel's stream table:", "arm-smmu-v3 arm-smmu-v3.1.auto: kdump: "
                  "adopted the crashed kernel's stream table:")
        self.assertEqual(self.failing(), {"outcome arm-smmu-v3.1.auto"})
        # ... or the sound one falling back with it, its view saying so.
        self.use(self.CORRUPT)
        self.edit("serial.log", "arm-smmu-v3 arm-smmu-v3.0.auto: kdump: adopted the",
                  "arm-smmu-v3 arm-smmu-v3.0.auto: kdump: not adopting the crashed kernel's "
                  "stream table: x\n[    1.0] arm-smmu-v3 arm-smmu-v3.0.auto: SMMU currently "
                  "enabled! Resetting...\n[    1.0] arm-smmu-v3 arm-smmu-v3.0.auto: the")
        self.edit("serial.log", "# arm-smmu-v3.0.auto: outcome: adopted",
                  "# arm-smmu-v3.0.auto: outcome: fallback")
        self.assertEqual(self.failing(), {"outcome arm-smmu-v3.0.auto", "ASIDs per SMMU"})

    def test_boot_timeout(self):
        with open(os.path.join(self.tmp, self.RUN, "boot.json"), "w") as f:
            json.dump({"reason": "timeout after 180 s waiting for capture"}, f)
        self.assertIn("run", self.failing())


if __name__ == "__main__":
    unittest.main()


class Contract(unittest.TestCase):
    """The scenarios' per-SMMU expectations have the shape the verifier
    zips them in (strict): on a machine with several SMMUs a tuple of one
    per SMMU for every variant, on one with a single SMMU a string."""

    def test_per_smmu_shapes(self):
        for name, sc in SCENARIOS.items():
            n = len(protocol.SMMUS[sc.machine])
            with self.subTest(scenario=name):
                for field in ("log_outcome", "dma"):
                    for variant, value in getattr(sc, field).items():
                        if n > 1:
                            self.assertIsInstance(value, tuple, f"{field}[{variant}]")
                            self.assertEqual(len(value), n, f"{field}[{variant}]")
                            self.assertTrue(all(isinstance(v, str) for v in value))
                        else:
                            self.assertIsInstance(value, str, f"{field}[{variant}]")
                if n > 1:
                    if sc.reason is not None:
                        self.assertIsInstance(sc.reason, tuple)
                        self.assertEqual(len(sc.reason), n)
                else:
                    self.assertTrue(sc.reason is None or isinstance(sc.reason, str))
