"""The host-guest contract: what /init reads, the host writes; a run's
folder and QEMU's arguments follow from its coordinates."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import protocol  # noqa: E402
import qemu  # noqa: E402
import runs  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

INIT_C = os.path.join(runs.TOP, "lab/guest/init.c")


def init_source():
    with open(INIT_C) as f:
        return f.read()


def params(cmdline):
    """lab.KEY=VALUE of a command line, VALUE's commas back to spaces."""
    return {m.group(1): m.group(2).replace(",", " ")
            for m in re.finditer(r"(?:^| )lab\.(\w+)=(\S*)", cmdline)}


class Contract(unittest.TestCase):
    def test_every_param_init_reads_has_a_writer(self):
        read = set(re.findall(r'param\("(\w+)"', init_source()))
        written = {"stage"}  # the KUnit boot's, and inside lab.capture
        for sc in SCENARIOS.values():
            run = runs.Run("patched", "acpi", "main")
            written |= set(params(qemu.kernel_params(run, sc)))
        self.assertEqual(read - written, set())

    def test_markers_are_what_init_prints(self):
        src = init_source()
        for stage, (marker, _) in protocol.STAGES.items():
            key = marker.decode().removeprefix("LAB: ").rstrip()
            self.assertIn(f'say("{key}', src, stage)

    def test_no_machine_fact_in_init(self):
        src = init_source()
        for smmus in protocol.SMMUS.values():
            for smmu in smmus:
                self.assertNotIn(f"{smmu.base:#x}", src.lower())
        self.assertNotRegex(src, r"sid = (0x)?8\b|\{ *0x8, *0x10 *\}")

    def test_every_machine_has_its_smmu(self):
        self.assertEqual(set(qemu.MACHINES), set(protocol.SMMUS))
        run = runs.Run("patched", scenario="stage2", machine="smmuv3-s2")
        p = params(qemu.kernel_params(run, SCENARIOS["stage2"]))
        self.assertEqual(int(p["smmu"], 16), protocol.SMMUS["smmuv3-s2"][0].base)
        self.assertIn(f"lab.smmu={protocol.SMMUS['smmuv3-s2'][0].base:#x}", p["capture"])

    def test_capture_cmdline(self):
        run = runs.Run("patched", "acpi", "nic_no_driver")
        p = params(qemu.kernel_params(run, SCENARIOS["nic_no_driver"]))
        self.assertEqual(p["capture"], protocol.CAPTURE_CMDLINE + " lab.smmu=0x9050000"
                         " acpi=force initcall_blacklist=virtio_net_driver_init")
        self.assertEqual(p["sids"].split(), [f"{s:#x}" for s in protocol.DMA_DEVICES])
        self.assertEqual(int(p["smmu"], 16), protocol.SMMU.base)
        dt = params(qemu.kernel_params(runs.Run("base"), SCENARIOS["main"]))
        self.assertEqual(dt["capture"], protocol.CAPTURE_CMDLINE + " lab.smmu=0x9050000")
        # What /init reads in the capture kernel is on the capture command line.
        self.assertIn("smmu", params(dt["capture"]))

    def test_every_machine_places_its_devices(self):
        self.assertEqual(set(qemu.MACHINES), set(protocol.PLACES))
        for machine, places in protocol.PLACES.items():
            sids = protocol.dma_devices(machine)
            self.assertEqual(set(places), set(protocol.DEVICE_NAMES), machine)
            self.assertTrue(all(p.smmu < len(protocol.SMMUS[machine]) for p in places.values()))
            # A translation fault names a device's devfn only.
            self.assertEqual(len({s & 0xff for s in sids}), len(sids), machine)
            self.assertEqual(list(sids)[0], protocol.NIC_SID, machine)

    def test_two_smmus_params(self):
        run = runs.Run("patched", "acpi", "two_smmus_one_corrupt", machine="smmuv3x2")
        p = params(qemu.kernel_params(run, SCENARIOS["two_smmus_one_corrupt"]))
        self.assertEqual(p["smmu"], "0xc000000:0xc020000")
        self.assertEqual(p["sids"].split(), ["0x8", "0x900@1"])
        # The capture command line keeps both SMMUs (a comma would split them).
        self.assertEqual(params(p["capture"])["smmu"], "0xc000000:0xc020000")
        self.assertEqual(p["mutate"], "ste_cfg:2:0x900")
        self.assertEqual(p["disk_reader"], "1")
        self.assertIn(f"SID {0x900}'s", SCENARIOS["two_smmus_one_corrupt"].reason[1])

    def test_two_smmus_in_check(self):
        from scenarios import in_check
        for name in ("two_smmus", "two_smmus_one_corrupt"):
            sc = SCENARIOS[name]
            self.assertEqual(sc.modes, ("acpi",))
            self.assertTrue(set(sc.modes) <= set(qemu.MACHINES[sc.machine].modes))
            self.assertEqual(len(sc.log_outcome["patched"]), len(protocol.SMMUS[sc.machine]))
            self.assertTrue(in_check(name, "patched", "lab"))
            self.assertFalse(in_check(name, "base", "lab"))
            self.assertFalse(in_check(name, "patched", "debug"))

    def test_scenario_reasons_name_the_nic(self):
        self.assertIn(f"SID {protocol.NIC_SID}'s", SCENARIOS["ste_cfg_reserved"].reason)


class RunRecord(unittest.TestCase):
    def test_name_and_folder(self):
        run = runs.Run("patched", "acpi", "l1_span")
        self.assertEqual(run.name, "patched-acpi-l1_span")
        self.assertEqual(run.dir, os.path.join(runs.RUNS, "patched-acpi-l1_span"))
        self.assertEqual(run.path("serial"), os.path.join(run.dir, "serial.log"))
        self.assertEqual(run.kernel, os.path.join(runs.BUILD, "out-patched"))
        self.assertEqual(runs.Run("base", out="x").kernel, os.path.join(runs.BUILD, "out-x"))

    def test_names_parse_back(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import record
        for coords in ({"variant": "base", "mode": "dt", "scenario": "main"},
                       {"variant": "patched", "mode": "acpi", "scenario": "l2ptr_mmio",
                        "guest": "kexec"},
                       {"variant": "patched", "mode": "dt", "scenario": "main",
                        "config": "debug", "guest": "kexec"},
                       {"variant": "patched", "mode": "acpi", "scenario": "two_smmus",
                        "machine": "smmuv3x2", "config": "debug"},
                       {"variant": "patched", "mode": "dt", "scenario": "linear_table",
                        "out": "linear"}):
            with self.subTest(**coords):
                self.assertEqual(record.parse_name(runs.Run(**coords).name), coords)

    def test_kexec_guest(self):
        run = runs.Run("patched", "dt", "main", guest="kexec")
        self.assertEqual(run.name, "kexec-patched-dt-main")
        self.assertNotEqual(run.guest_dir, runs.Run("patched").guest_dir)
        args, _ = qemu.command(run, "/initrd", "")
        self.assertIn("dtb-randomness=off", args)
        self.assertNotIn("dtb-randomness=off", qemu.command(runs.Run("patched"), "/i", "")[0])
        self.assertTrue(SCENARIOS["main"].guests[1:] == ("kexec",))

    def test_unknown_axis_values(self):
        with self.assertRaises(ValueError):
            runs.Run("other")
        with self.assertRaises(ValueError):
            runs.Run("base", version="1.0")

    def test_qemu_arguments(self):
        run = runs.Run("patched", "acpi", "main")
        args, _ = qemu.command(run, "/initrd", "x=1")
        self.assertIn(qemu.FIRMWARE, args)
        self.assertEqual(args[args.index("-kernel") + 1], run.image)
        self.assertTrue(args[-1].endswith("acpi=force x=1"))
        self.assertIn(f"addr={protocol.NIC_SLOT:#x}", " ".join(args))
        args, _ = qemu.command(runs.Run("patched"), "/initrd", "")
        self.assertNotIn("-bios", args)

    def test_two_smmus_arguments(self):
        run = runs.Run("patched", "acpi", "two_smmus", machine="smmuv3x2")
        args, _ = qemu.command(run, "/initrd", "", disk_read_bps=16384)
        line = " ".join(args)
        self.assertEqual(args[0], qemu.QEMU_ROOT)
        self.assertNotIn("iommu=", line)
        self.assertEqual(line.count("-device arm-smmuv3,primary-bus="), 2)
        self.assertIn(f"pxb-pcie,id=pcie.1,bus_nr={protocol.PXB_BUS},bus=pcie.0,"
                      f"addr={protocol.PXB_SLOT:#x}", line)
        self.assertRegex(line, r"virtio-net-pci,[^ ]*,bus=pcie\.0,addr=0x1( |$)")
        self.assertRegex(line, r"virtio-blk-pci,[^ ]*,bus=rp1,addr=0x0( |$)")
        self.assertIn("throttling.bps-read=16384", line)
        self.assertIn("memory_region_ops_write", args)
        self.assertNotIn("smmuv3_write_mmio", args)
        self.assertEqual(run.name, "smmuv3x2-patched-acpi-two_smmus")


if __name__ == "__main__":
    unittest.main()
