"""The parsers of lab/evidence.py on small crafted inputs."""
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import evidence  # noqa: E402
import protocol  # noqa: E402

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
