"""The lab's scenarios and what each variant must show: every expectation
of the lab is here (lab/verify.py applies them).

A scenario is what the system stage does before the panic (kernel
parameters, among them lab.* parameters of /init such as a mutation of the
live SMMU state, lab/guest/init.c) and, per variant, what the capture
kernel must then show.
"""
import dataclasses

from protocol import NIC_PCI_ID, NIC_SID, device_sid


@dataclasses.dataclass(frozen=True)
class Scenario:
    what: str
    # System kernel parameters (lab.* ones are /init's).
    system: str
    # Per variant, the line the capture kernel's log must show:
    #   "reset"     today's "SMMU currently enabled! Resetting..."
    #   "adopted"   the series' adoption line
    #   "fallback"  the series' refusal, its text matching `reason`, then reset
    #   "optout"    the series' opt-out line, then reset
    #   "normal"    neither reset nor adoption (the SMMU was not enabled)
    # On a machine with several SMMUs a tuple, one per SMMU (the line of
    # that SMMU's device).
    log_outcome: dict
    # Per variant, what the NIC's DMA in flight did from the panic to the
    # capture kernel's takeover (QEMU's trace):
    #   "adopted"   translated by the crashed kernel's table only
    #   "damage"    some untranslated or aborted (the baseline)
    #   "granted"   only rule (f), which every run gets
    #   "optional"  the same, and the window may hold none of its DMA: no
    #               check of its own (it could not fail), its DMA told in
    #               (f)'s detail (several SMMUs only)
    #   "off"       the SMMU was off at the panic and the capture kernel
    #               enabled it (nothing to judge of the DMA)
    # On a machine with several SMMUs a tuple, one per SMMU, for each DMA
    # device behind it (protocol.PLACES).
    dma: dict
    # A regex the refusal's reason ("fallback"), or the adoption line
    # ("adopted"), must match (several SMMUs: a tuple, None for any).
    reason: str = None
    # Capture kernel parameters, beside the lab's own.
    capture: str = ""
    modes: tuple = ("dt",)
    machine: str = "smmuv3"      # a machine of lab/qemu.py
    repeat: int = 0              # consecutive runs of it in `make faults`
    gerror: bool = False         # a global error latched at the panic must be acknowledged
    selftest_pass: tuple = ()    # kselftest cases that must pass on patched, not skip
    # How long the NIC's DMA into the crashed kernel's buffers must last
    # (lab/qemu.py SENDER_RATES, which owns the rates): "takeover";
    # "late_takeover", where the capture kernel takes the SMMUs over later
    # (several SMMUs); or "reboot", where (g) must see it still translated
    # after the dump was saved.
    sender: str = "takeover"
    # A fixture kernel (build/out-KERNEL: the series plus a lab-only patch of
    # lab/fixtures/, lab/build-kernel.sh) booted as both kernels in place of
    # patched's; such a scenario runs on patched alone.
    kernel: str = None
    # Stage 2 on patched: the VMIDs tagging the NIC's DMA are the reserved
    # ones up to its takeover, a new one after (needs the IOTLB trace).
    vmids: bool = False
    # Stage 1 on patched: per adopted SMMU, the ASIDs of the crashed
    # kernel's CDs (as /init read them) reserved on that SMMU (its view),
    # each device's DMA tagged with them up to its takeover and with one
    # its SMMU did not reserve after (needs the IOTLB trace).
    asids: bool = False
    # The dump disk's reads throttled (QEMU, bytes per second): the reads
    # of lab.disk_reader in flight at the panic then outlast the capture
    # kernel's takeover of the SMMUs (0: not throttled; the dump's writes
    # never are).
    disk_read_bps: int = 0
    # The guests (lab/initrd.py GUESTS) it runs with: "init" loads the
    # capture kernel with kexec_file_load(2); "kexec" with Debian's
    # kexec-tools (`kexec -p`: kexec_load(2), the ELF core header built by
    # kexec-tools, as Debian's kdump-tools loads it).
    guests: tuple = ("init",)


MAIN = "lab.settle=2"
FALLBACK = {"base": "reset", "patched": "fallback"}
GRANTED = {"base": "granted", "patched": "granted"}
# The refusal of a table address by the crash-dump core's check
NOT_OLD_RAM = r"is not the crashed kernel's RAM"
NIC_IDS = rf"cannot reserve the IDs of SID {NIC_SID}'s STE"
# The lab fixture that makes the system kernel write a linear stream table.
LINEAR = "arm_smmu_v3.lab_sid_bits=8"
# Two SMMUs: the dump disk behind the second one, reading at the panic.
SECOND_DISK = device_sid("smmuv3x2", "disk")
# The disk's reads throttled to 16 KiB/s, one 64 KiB read per 4 s: the
# read in flight at the panic lands up to 4 s later, before or after the
# capture kernel's probe of the second SMMU. An adopting SMMU defers the
# disk's attach until its driver reset it (which completes the read): the
# read lands before the takeover. One that resets takes the disk over at
# once, and the read may land after (base, the fallback): there rule (f)
# only, on what the window holds.
TWO = dict(modes=("acpi",), machine="smmuv3x2", asids=True, disk_read_bps=16384,
           sender="late_takeover")


# The rows that also run with kexec-tools' ELF core header: the main one,
# and the refusals that the crash-dump core's address check answers from
# that header's PT_LOAD ranges.
BOTH_LOADERS = ("init", "kexec")


def fault(what, mutation, reason, **kw):
    """A corrupted state the capture kernel must refuse, then reset."""
    return Scenario(what, f"{MAIN} lab.mutate={mutation}", FALLBACK, GRANTED, reason=reason,
                    **kw)


def adopted(what, params="", **kw):
    """A state the capture kernel must adopt, the NIC's DMA kept translated
    (base: today's reset and its damage)."""
    return Scenario(what, f"{MAIN} {params}".strip(), {"base": "reset", "patched": "adopted"},
                    {"base": "damage", "patched": "adopted"}, **kw)


SCENARIOS = {
    "main": adopted("clean panic with the NIC receiving", modes=("dt", "acpi"), repeat=20,
                    guests=BOTH_LOADERS),
    "two_devices": adopted("clean panic on CPU 1, the NIC receiving and the disk reading",
                           "lab.disk_reader=1 lab.panic_cpu=1"),
    "nic_no_driver": adopted("clean panic, the capture kernel without the NIC's driver "
                             "(its attach stays deferred; virtio-pci resets the device)",
                             capture="initcall_blacklist=virtio_net_driver_init",
                             selftest_pass=("smmu_view.deferred_streams",)),
    "stage2": adopted("clean panic on an SMMU with stage 2 only (QEMU 11): stage-2 DMA "
                      "domains, their VMIDs reserved and replaced at the first attach",
                      machine="smmuv3-s2", vmids=True, reason=r" [1-9]\d* VMIDs reserved"),
    "two_smmus": Scenario("two SMMUs (QEMU 11, one per root complex): the NIC behind the "
                          "first, the dump disk behind the second and reading",
                          f"{MAIN} lab.disk_reader=1",
                          {"base": ("reset", "reset"), "patched": ("adopted", "adopted")},
                          {"base": ("damage", "optional"), "patched": ("adopted", "adopted")},
                          **TWO),
    "two_smmus_one_corrupt": Scenario(
        "two SMMUs, the second one's table corrupt: the disk's STE with the reserved "
        "Config 0b010", f"{MAIN} lab.disk_reader=1 lab.mutate=ste_cfg:2:{SECOND_DISK:#x}",
        {"base": ("reset", "reset"), "patched": ("adopted", "fallback")},
        {"base": ("damage", "optional"), "patched": ("adopted", "optional")},
        reason=(None, rf"cannot reserve the IDs of SID {SECOND_DISK}'s STE"), **TWO),
    "nic_unclaimed": adopted("clean panic, the capture kernel leaves the NIC to pci-stub "
                             "(never reset: its DMA into the crashed kernel's buffers runs "
                             "until the reboot tears the SMMU down)",
                             capture=f"pci-stub.ids={NIC_PCI_ID}",
                             selftest_pass=("smmu_view.deferred_streams",), sender="reboot"),
    "linear_table": adopted("a linear stream table (the system kernel's SMMU capped to 8 "
                            "StreamID bits by a lab fixture)", LINEAR, kernel="linear",
                            reason=r"linear stream table at 0x[0-9a-f]+: 256 STEs"),
    "linear_ste_cfg": Scenario("a linear stream table, the NIC's STE with the reserved "
                               "Config 0b010", f"{MAIN} {LINEAR} lab.mutate=ste_cfg:2",
                               FALLBACK, GRANTED, reason=NIC_IDS, kernel="linear"),
    "l1_span": fault("L1 descriptor span 3 (not 0 or SPLIT+1)", "l1_span:3",
                     r"bad L1 descriptor 0 "),
    "l2ptr_zero": fault("L2 pointer 0", "l1_l2ptr:0", r"bad L1 descriptor 0 "),
    "l2ptr_misaligned": fault("L2 pointer not aligned to the L2 table's size",
                              "l1_l2ptr:0x40001040", r"bad L1 descriptor 0 "),
    "l2ptr_mmio": fault("L2 pointer into MMIO (the GIC distributor)", "l1_l2ptr:0x8000000",
                        NOT_OLD_RAM, guests=BOTH_LOADERS),
    "l2ptr_hole": fault("L2 pointer into a physical address hole", "l1_l2ptr:0x200000000",
                        NOT_OLD_RAM, guests=BOTH_LOADERS),
    "l2ptr_capture": fault("L2 pointer into the capture kernel's memory", "l1_l2ptr:crashk",
                           NOT_OLD_RAM, guests=BOTH_LOADERS),
    "ste_cfg_reserved": fault("the NIC's STE with the reserved Config 0b010", "ste_cfg:2",
                              NIC_IDS),
    "cd_ptr_garbage": fault("the NIC's S1ContextPtr beyond the output address size",
                            "ste_ctxptr:0xffffffffffc0", NIC_IDS),
    "cd_ptr_mmio": fault("the NIC's S1ContextPtr into MMIO (the GIC distributor)",
                         "ste_ctxptr:0x8000000", NOT_OLD_RAM),
    "strtab_geometry": fault("STRTAB_BASE_CFG.LOG2SIZE 17, beyond the SMMU's SIDSIZE 16",
                             "strtab_log2size:17", r"LOG2SIZE 17 exceeds SIDSIZE 16"),
    "gerror_latched": adopted("a command queue error latched in GERROR at the panic",
                              "lab.mutate=gerror_cmdq", gerror=True),
    "passthrough": Scenario("the system kernel booted with iommu.passthrough=1 (bypass STEs)",
                            f"{MAIN} iommu.passthrough=1",
                            {"base": "reset", "patched": "adopted"}, GRANTED),
    "optout": Scenario("the capture kernel given arm_smmu_v3.kdump_adopt=0", MAIN,
                       {"base": "reset", "patched": "optout"},
                       {"base": "damage", "patched": "damage"},
                       capture="arm_smmu_v3.kdump_adopt=0"),
    "smmu_off": Scenario("the SMMU disabled before the panic", f"{MAIN} lab.mutate=smmu_off",
                         {"base": "normal", "patched": "normal"},
                         {"base": "off", "patched": "off"}),
}


def in_check(name, variant, config, guest="init"):
    """The rows `make check` runs (in each scenario's own modes); `make
    faults` runs every row in both modes. On the lab configuration every
    scenario on patched and main on base; on the debug configuration
    (lockdep, KASAN, kmemleak) main and the refusals on patched, main on
    base; the guest "kexec" on the lab configuration only. A fixture
    kernel's scenarios run on patched's lab configuration alone, whatever
    this says (lab.matrix())."""
    if guest != "init" and config != "lab":
        return False
    if variant == "base":
        return name == "main"
    return config != "debug" or name == "main" or \
        SCENARIOS[name].log_outcome["patched"] == "fallback"


def is_test(scenario, variant):
    """Is this row a test? Every scenario on patched; on base only "main"
    (its damage is the baseline); the other base rows are a comparison of
    today's kernel with the same expectations, not counted."""
    return variant != "base" or scenario == "main"


# KUnit: one boot per glob (kunit.filter_glob takes one), and the suites
# that must run. The series adds one for the SMMUv3 adoption and one for
# the crash-dump core's helper (lab/kernel-series.config).
KUNIT_GLOBS = {"base": ("arm-smmu-v3*",), "patched": ("arm-smmu-v3*", "vmcore*")}
KUNIT_SUITES = {"base": ("arm-smmu-v3-kunit-test",),
                "patched": ("arm-smmu-v3-kunit-test", "arm-smmu-v3-kdump-kunit-test",
                            "vmcore_oldmem")}
