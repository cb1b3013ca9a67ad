"""The parsers of lab/evidence.py on small crafted inputs."""
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import evidence  # noqa: E402
import protocol  # noqa: E402
import qemu  # noqa: E402

NIC = protocol.NIC_SID


def rd(addr, val):
    return f"1@1.0:smmuv3_read_mmio addr: {addr:#x} val:{val:#x} size: 0x4\n"


def wr(addr, val, size=8):
    return f"1@1.0:smmuv3_write_mmio addr: {addr:#x} val:{val:#x} size: 0x{size}\n"


def tr(kind, sid=NIC, iova=0xfffff000):
    return f"1@1.0:smmuv3_translate_{kind} sid=0x{sid:x} iova:0x{iova:x} is_write=1\n"


MARKER = rd(protocol.SMMU_AIDR, 0)
START = rd(protocol.SMMU_IDR0, 0)


class TraceDma(unittest.TestCase):
    def classify(self, lines, region=(0xf0000000, 0x100000000)):
        return evidence.trace_dma(lines, region)

    def test_no_marker(self):
        self.assertIn("error", self.classify([wr(0x80, 0x1000), tr("success")]))

    def test_old_new_and_takeover(self):
        td = self.classify([
            wr(protocol.SMMU_STRTAB_BASE, 0x1000), tr("success"),  # before the panic
            MARKER, tr("success"), tr("success"),                   # crashed kernel's table
            START, wr(protocol.SMMU_STRTAB_BASE, 0x2000), tr("success"),  # a new table
            f"1@1.0:smmuv3_cmdq_cfgi_ste sid=0x{NIC:x}\n", tr("success")])
        c = evidence.dma_summary(td, NIC)
        self.assertEqual((c["old"], c["new"]), (2, 1))
        self.assertEqual(evidence.dma_summary(td, NIC, "after")["new"], 1)
        self.assertEqual(td["taken"], {NIC})
        self.assertEqual(td["capture_writes"], 1)

    def test_strtab_in_two_halves(self):
        td = self.classify([wr(0x80, 0x1000, 4), wr(0x84, 0x1, 4), MARKER, START,
                            wr(0x80, 0x1000, 4), wr(0x84, 0x1, 4), tr("success")])
        self.assertEqual(evidence.dma_summary(td, NIC)["old"], 1)

    def test_untranslated_gbpa_and_capture_memory(self):
        td = self.classify([MARKER, tr("disable", iova=0x1000), START,
                            wr(protocol.SMMU_GBPA, protocol.GBPA_ABORT, 4),
                            tr("disable", iova=0xf0001000), tr("bypass", iova=0x2000)])
        c = evidence.dma_summary(td, NIC)
        self.assertEqual((c["untranslated"], c["gbpa_abort"], c["in_capture_mem"],
                          c["ste_bypass"]), (2, 1, 1, 1))

    def test_aborts_before_and_after_the_capture_driver(self):
        fault = (f"smmuv3-iommu-memory-region-{NIC}-0 translation failed for "
                 f"iova=0x1000 (C_BAD_STE)\n")
        td = self.classify([fault, MARKER, fault, tr("abort"), START, fault])
        c = evidence.dma_summary(td, NIC)
        self.assertEqual((c["crashed_faults"], c["aborted"]), (2, 1))

    def test_dma_before_the_panic_marker_ignored(self):
        td = self.classify([tr("disable"), MARKER, tr("success")])
        c = evidence.dma_summary(td, NIC)
        self.assertEqual((c["untranslated"], c["old"]), (0, 1))

    def test_dump_saved_window_and_teardown(self):
        # The second marker is the dump saved; the capture kernel's last
        # clear of SMMUEN the teardown, with GBPA as its last write left it.
        td = self.classify([MARKER, START, wr(protocol.SMMU_GBPA, protocol.GBPA_ABORT, 4),
                            wr(protocol.SMMU_CR0, 0, 4), wr(protocol.SMMU_CR0, 1, 4),
                            tr("success"), MARKER, tr("success"), tr("disable", sid=0x10),
                            wr(protocol.SMMU_CR0, 0, 4), tr("abort")])
        self.assertTrue(td["saved_marker"])
        self.assertEqual(td["saved_dma"], {
            NIC: {"translated": 1, "untranslated": 0, "aborted": 0},
            0x10: {"translated": 0, "untranslated": 1, "aborted": 0}})
        self.assertEqual(td["teardown"], {"line": 10, "gbpa_abort": True, "untranslated": 0,
                                          "aborted": 1, "translated": 0})
        # SMMUEN set again last: no teardown; GBPA cleared before it: no abort.
        td = self.classify([MARKER, START, wr(protocol.SMMU_CR0, 0, 4),
                            wr(protocol.SMMU_CR0, 1, 4)])
        self.assertIsNone(td["teardown"])
        td = self.classify([MARKER, START, wr(protocol.SMMU_GBPA, protocol.GBPA_ABORT, 4),
                            wr(protocol.SMMU_GBPA, 0, 4), wr(protocol.SMMU_CR0, 0, 4)])
        self.assertFalse(td["teardown"]["gbpa_abort"])

    def test_vmids_and_idr0_of_qemu_11(self):
        # QEMU 11's trace lines start with an ISO-8601 time; an IOTLB lookup
        # of a translation's IOVA just before it gives its VMID.
        def t11(line):
            return "2026-12-02T04:40:19.553896Z " + line.split(":", 1)[1]

        def lookup(vmid, iova):
            return t11(f"1@1.0:smmu_iotlb_lookup_hit IOTLB cache HIT asid=-1 vmid={vmid} "
                       f"addr={iova:#x} hit=1 miss=1 hit rate=50\n")

        def ok(iova, sid=NIC):
            return t11(f"1@1.0:smmuv3_translate_success smmuv3-iommu-memory-region-8-1 "
                       f"sid={sid:#x} iova={iova:#x} translated=0x1 perm=0x3 stage=2\n")
        td = self.classify([t11(MARKER), t11(rd(protocol.SMMU_IDR0, 0xd441019)),
                            lookup(1, 0x1000), ok(0x1000), lookup(5, 0x2000), ok(0x3000),
                            t11(f"1@1.0:smmuv3_cmdq_cfgi_ste sid=0x{NIC:x}\n"),
                            lookup(3, 0x1000), ok(0x1000)])
        self.assertEqual(td["idr0"], 0xd441019)
        self.assertEqual(td["vmids"], {NIC: {"capture": {1}, "after": {3}}})
        self.assertEqual(evidence.dma_summary(td, NIC)["old"], 2)

    def test_gerror_first_reads_after_the_capture_start(self):
        td = self.classify([MARKER, rd(protocol.SMMU_GERROR, 9), START,
                            rd(protocol.SMMU_GERROR, 1), rd(protocol.SMMU_GERROR + 4, 0),
                            rd(protocol.SMMU_GERROR, 0)])
        self.assertEqual(td["gerror"], {protocol.SMMU_GERROR: 1, protocol.SMMU_GERROR + 4: 0})


TWO = protocol.SMMUS["smmuv3x2"]
DISK2 = protocol.device_sid("smmuv3x2", "disk")


def mr(kind, k, off, val, size=4, base=None):
    """A QEMU 11 memory_region_ops_* line: an access of SMMU k (of TWO), or
    of another device at base."""
    addr = (TWO[k].base if base is None else base) + off
    name = "arm-smmuv3" if base is None else "pl011"
    return (f"2026-12-02T04:40:19.553896Z memory_region_ops_{kind} cpu 0 mr 0x5555{k}000 "
            f"addr {addr:#x} value {val:#x} size {size} name '{name}'\n")


def tr2(kind, sid, iova=0xfffff000):
    return "2026-12-02T04:40:19.553896Z " + tr(kind, sid, iova).split(":", 1)[1]


class TwoSmmus(unittest.TestCase):
    """The trace of a machine with two SMMUs: each register access is the
    SMMU's whose registers hold its address, each device judged against
    its own SMMU."""

    def classify(self, lines):
        return evidence.trace_dma(lines, (0xf0000000, 0x100000000), TWO,
                                  protocol.sid_smmu("smmuv3x2"),
                                  qemu.MACHINES["smmuv3x2"].mmio_by_address)

    def test_placement(self):
        self.assertEqual(protocol.dma_devices("smmuv3x2"),
                         {NIC: ("virtio-net", 0), 0x900: ("virtio-blk (dump disk)", 1)})
        self.assertEqual(protocol.sid_smmu("smmuv3"), {NIC: 0, protocol.DISK_SID: 0})

    def test_access_attribution(self):
        self.assertEqual(evidence.smmu_access("memory_region_ops_write",
                                              mr("write", 1, 0x80, 0x1000, 8).split(" ", 2)[2],
                                              TWO, True), (1, True, 0x80, 0x1000, 8))
        # Another device's registers, and the offset-only lines: not an SMMU's.
        self.assertIsNone(evidence.smmu_access(
            "memory_region_ops_read", mr("read", 0, 0x1c, 0, base=0x9000000).split(" ", 2)[2],
            TWO, True))
        self.assertIsNone(evidence.smmu_access("smmuv3_read_mmio",
                                               "addr: 0x1c val:0x0 size: 0x4(0)", TWO, True))
        # Offset-only lines cannot tell two SMMUs apart.
        with self.assertRaises(ValueError):
            evidence.smmu_access("smmuv3_read_mmio", "addr: 0x1c val:0x0 size: 0x4(0)", TWO)
        self.assertEqual(evidence.smmu_access("smmuv3_read_mmio",
                                              "addr: 0x1c val:0x0 size: 0x4(0)",
                                              (protocol.SMMU,)), (0, False, 0x1c, 0, 4))

    def test_unparsed_line_is_an_error(self):
        # A register access whose arguments do not parse: an error to
        # report, not an exception.
        td = self.classify(["2026-12-02T04:40:19.553896Z memory_region_ops_read cpu 0 "
                            "garbled\n"])
        self.assertIn("error", td)
        self.assertIn("trace line 1", td["error"])
        td = evidence.trace_dma(["smmuv3_read_mmio addr: garbled\n"], None)
        self.assertIn("unparsed smmuv3_read_mmio", td["error"])

    def test_machine_owns_the_mmio_events(self):
        for name, m in qemu.MACHINES.items():
            with self.subTest(machine=name):
                self.assertEqual(m.mmio_by_address, len(protocol.SMMUS[name]) > 1)

    def test_markers_are_the_first_smmus(self):
        # An AIDR read of the second SMMU, or another device's at the same
        # offset, marks nothing.
        td = self.classify([mr("read", 1, protocol.SMMU_AIDR, 0), tr2("success", NIC),
                            mr("read", 0, protocol.SMMU_AIDR, 0, base=0x9000000)])
        self.assertIn("error", td)
        td = self.classify([mr("read", 1, protocol.SMMU_AIDR, 0),
                            mr("read", 0, protocol.SMMU_AIDR, 0), tr2("success", NIC)])
        self.assertEqual(evidence.dma_summary(td, NIC)["old"], 1)
        self.assertFalse(td["saved_marker"])

    def test_tables_and_probes_per_smmu(self):
        td = self.classify([
            mr("write", 0, protocol.SMMU_STRTAB_BASE, 0x1000, 8),
            mr("write", 1, protocol.SMMU_STRTAB_BASE, 0x2000, 8),
            mr("read", 0, protocol.SMMU_AIDR, 0),
            # The first SMMU's probe starts and it installs a new table ...
            mr("read", 0, protocol.SMMU_IDR0, 0xd44101a),
            mr("write", 0, protocol.SMMU_STRTAB_BASE, 0x3000, 8),
            # ... the second's table stays the crashed kernel's, its probe
            # not started: a fault of the disk there is the crashed kernel's.
            tr2("success", NIC), tr2("success", DISK2),
            f"smmuv3-iommu-memory-region-0-3 translation failed for iova=0x1000 (C_BAD_STE)\n",
            mr("read", 1, protocol.SMMU_IDR0, 0xd44101b),
            tr2("abort", DISK2)])
        nic, disk = evidence.dma_summary(td, NIC), evidence.dma_summary(td, DISK2)
        self.assertEqual((nic["old"], nic["new"], nic["probed"]), (0, 1, 1))
        self.assertEqual((disk["old"], disk["new"], disk["crashed_faults"], disk["aborted"],
                          disk["probed"]), (1, 0, 1, 1, 1))
        self.assertEqual([p["idr0"] for p in td["smmus"]], [0xd44101a, 0xd44101b])
        self.assertEqual([p["crashed_strtab"] for p in td["smmus"]], [0x1000, 0x2000])
        self.assertEqual([p["capture_writes"] for p in td["smmus"]], [1, 0])
        self.assertEqual(td["idr0"], 0xd44101a)

    def test_teardown_per_smmu(self):
        # The second SMMU cleared SMMUEN without GBPA.ABORT; the first with
        # it; each one's DMA after its own teardown.
        td = self.classify([mr("read", 0, protocol.SMMU_AIDR, 0),
                            mr("read", 0, protocol.SMMU_IDR0, 0),
                            mr("read", 1, protocol.SMMU_IDR0, 0),
                            mr("read", 0, protocol.SMMU_AIDR, 0),
                            mr("write", 0, protocol.SMMU_GBPA, protocol.GBPA_ABORT),
                            mr("write", 0, protocol.SMMU_CR0, 0),
                            tr2("success", DISK2),
                            mr("write", 1, protocol.SMMU_CR0, 0),
                            tr2("disable", DISK2), tr2("abort", NIC)])
        self.assertEqual(td["smmus"][0]["teardown"], {
            "line": 6, "gbpa_abort": True, "untranslated": 0, "aborted": 1, "translated": 0})
        self.assertEqual(td["smmus"][1]["teardown"], {
            "line": 8, "gbpa_abort": False, "untranslated": 1, "aborted": 0, "translated": 0})
        self.assertEqual(td["saved_dma"], {DISK2: {"translated": 1, "untranslated": 0,
                                                   "aborted": 0}})

    def test_asid_tags(self):
        def lookup(asid, iova):
            return (f"2026-12-02T04:40:19.553896Z smmu_iotlb_lookup_miss IOTLB cache MISS "
                    f"asid={asid} vmid=-1 addr={iova:#x} hit=0 miss=1 hit rate=0\n")

        def ok(sid, iova):
            return (f"2026-12-02T04:40:19.553896Z smmuv3_translate_success "
                    f"smmuv3-iommu-memory-region-0-3 sid={sid:#x} iova={iova:#x} "
                    f"translated=0x1 perm=0x3 stage=1\n")
        td = self.classify([mr("read", 0, protocol.SMMU_AIDR, 0),
                            lookup(1, 0x1000), mr("read", 0, 0, 0, base=0x9000000),
                            ok(DISK2, 0x1000), lookup(2, 0x2000), ok(NIC, 0x2000),
                            f"2026-12-02T04:40:19.553896Z smmuv3_cmdq_cfgi_ste "
                            f"streamid= {DISK2:#x}\n", lookup(2, 0x3000), ok(DISK2, 0x3000)])
        self.assertEqual(td["asids"], {DISK2: {"capture": {1}, "after": {2}},
                                       NIC: {"capture": {2}, "after": set()}})


class Logs(unittest.TestCase):
    def test_adoption_view_and_id_lists(self):
        log = (f"# {protocol.SMMU.dt_name}: vmids_reserved_list: 1-3,7\n"
               f"# other.smmuv3: vmids_reserved_list: 9\n"
               f"# {protocol.SMMU.dt_name}: asids_reserved_list: none\r\n")
        view = evidence.adoption_view(log, protocol.SMMU)
        self.assertEqual(view, {"vmids_reserved_list": "1-3,7", "asids_reserved_list": "none"})
        self.assertEqual(evidence.id_list(view["vmids_reserved_list"]), {1, 2, 3, 7})
        self.assertEqual(evidence.id_list("none"), set())
        self.assertEqual(evidence.adoption_view("", protocol.SMMU), {})

    def test_outcome_lines_per_smmu(self):
        log = ("[    1.0] arm-smmu-v3 arm-smmu-v3.0.auto: kdump: adopted the crashed kernel's "
               "2-level stream table at 0x1000: 256 L1 entries\n"
               "[    1.1] arm-smmu-v3 arm-smmu-v3.1.auto: kdump: not adopting the crashed "
               "kernel's stream table: cannot reserve\n"
               "[    1.2] arm-smmu-v3 arm-smmu-v3.1.auto: SMMU currently enabled! Resetting...\n")
        first, second = (evidence.outcome_lines(log, s) for s in TWO)
        self.assertTrue(first["adopted"] and not first["refused"] and not first["reset"])
        self.assertTrue(second["refused"] and second["reset"] and not second["adopted"])
        self.assertTrue(all(evidence.outcome_lines(log)[k] for k in ("adopted", "reset")))

    def test_boot_mode(self):
        dt = f"arm-smmu-v3 {protocol.SMMU.dt_name}: probing"
        acpi = f"ACPI: IORT 0x...\narm-smmu-v3 {protocol.SMMU.acpi_name}: probing"
        self.assertEqual(evidence.boot_mode(dt), "dt")
        self.assertEqual(evidence.boot_mode(acpi), "acpi")
        self.assertIsNone(evidence.boot_mode(dt + "\n" + acpi))
        self.assertIsNone(evidence.boot_mode("nothing"))
        # The SMMU by IORT without the table listed is not an ACPI boot.
        self.assertIsNone(evidence.boot_mode(f"arm-smmu-v3 {protocol.SMMU.acpi_name}: x"))

    def test_kernel_problems(self):
        for bad in ("Internal error: synchronous external abort: 0000000096000010",
                    "BUG: KASAN: slab-out-of-bounds", "WARNING: CPU: 0 PID: 1 at x.c:1",
                    "INFO: task init:1 blocked for more than 120 seconds.",
                    "Unable to handle kernel paging request",
                    "Kernel panic - not syncing: Attempted to kill init!",
                    "[    1.0] WARNING: possible circular locking dependency detected",
                    "[    1.0] WARNING: suspicious RCU usage",
                    "[    1.0] BUG: sleeping function called from invalid context at x.c:1",
                    "[    1.0] ODEBUG: free active (active state 0) object: x"):
            self.assertEqual(evidence.kernel_problems("ok\n" + bad + "\nok"), [bad])
        self.assertEqual(evidence.kernel_problems(
            'DEBUG: fine\nLAB: warning="no debugfs"\n[    1.0] x: see WARNING: below'), [])

    def test_before_panic(self):
        log = "a\nLAB: stage=system\nLAB: panic cpu=0\nInternal error: Oops\n"
        self.assertEqual(evidence.before_panic(log), "a\nLAB: stage=system\n")

    def test_lab_lines(self):
        got = evidence.lab_lines('LAB: smmu when=panic CR0=0x5\nLAB: error="a b: c"\n', "smmu")
        self.assertEqual(got, [{"when": "panic", "CR0": "0x5"}])
        self.assertEqual(evidence.lab_lines('LAB: error="a b: c"', "error"),
                         [{"error": '"a b: c"'}])

    def test_kunit_results(self):
        log = "\n".join([
            "[    1.0] KTAP version 1", "[    1.0] 1..1",
            "[    1.0]     KTAP version 1", "[    1.0]     # Subtest: suite-a",
            "[    1.0]     1..3",
            "[    1.0]         ok 1 param case",
            "[    1.0]     ok 1 test_one",
            "[    1.0]     not ok 2 test_two",
            "[    1.0]     ok 3 test_three # SKIP not here",
            "[    1.0] ok 1 suite-a"])
        self.assertEqual(evidence.kunit_results(log), [
            ("suite-a", "test_one", "pass"), ("suite-a", "test_two", "fail"),
            ("suite-a", "test_three", "skip")])

    def test_selftest_results(self):
        cap = "LAB: selftest=start\nTAP version 13\n1..2\nok 1 a.b\nnot ok 2 a.c\n" \
              "# Totals: pass:1 fail:1\nLAB: selftest=done rc=1\n"
        self.assertEqual(evidence.selftest_results(cap),
                         (1, [("a.b", "pass"), ("a.c", "fail")],
                          ["1..2", "# Totals: pass:1 fail:1"]))
        self.assertEqual(evidence.selftest_results("LAB: selftest=start\n1..0 # SKIP x\n"),
                         (None, [], ["1..0 # SKIP x"]))
        self.assertIsNone(evidence.selftest_results("no selftest"))


def elf_core(machine=183, note_name=b"VMCOREINFO", note=b"OSRELEASE=6.12\nCRASHTIME=1\n",
             tail=4096):
    """A minimal ELF64 core: one PT_NOTE, one PT_LOAD of `tail` bytes."""
    name = note_name + b"\0"
    desc = note + b"\0" * (-len(note) % 4)
    notes = struct.pack("<III", len(name), len(desc), 0) + name + \
        b"\0" * (-len(name) % 4) + desc
    phoff, phnum = 64, 2
    note_off = phoff + 56 * phnum
    load_off = note_off + len(notes)
    eh = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 4, machine, 1, 0, phoff, 0, 0, 64, 56, phnum, 0, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 4, 0, note_off, 0, 0, len(notes), 0, 0) + \
        struct.pack("<IIQQQQQQ", 1, 0, load_off, 0, 0, tail, tail, 0)
    return eh + ph + notes + b"\1" * tail


class ElfCore(unittest.TestCase):
    def summary(self, data):
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            return evidence.vmcore_summary(f.name)

    def test_good_core(self):
        data = elf_core()
        s = self.summary(data)
        self.assertEqual((s["end"], s["size"], s["osrelease"], s["crashtime"], s["cpu_notes"]),
                         (len(data), len(data), "6.12", True, 0))

    def test_bad_cores(self):
        self.assertEqual(self.summary(b"\0" * 128), {"error": "no ELF magic"})
        self.assertEqual(self.summary(elf_core(machine=62)),
                         {"error": "e_machine 62, not EM_AARCH64"})
        s = self.summary(elf_core(note_name=b"OTHER"))
        self.assertIsNone(s["osrelease"])
        self.assertEqual(self.summary(elf_core()[:-100])["size"], len(elf_core()) - 100)


if __name__ == "__main__":
    unittest.main()
