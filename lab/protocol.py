"""The contract between the host and the guest's /init (lab/guest/init.c).

The host tells /init what to do with lab.KEY=VALUE kernel parameters (a
comma in VALUE stands for a space); /init tells the host what it saw with
console lines "LAB: key=value ...". The SMMU's place and the devices' stream
IDs are facts of the QEMU machine that both sides need: they are decided
here and passed to /init as parameters.
"""
import collections

# The stages of a run, in order: the line /init prints when it reaches one,
# and the seconds (under TCG) the stage may take from the previous one.
STAGES = {
    "kunit": (b"LAB: stage=kunit", 300),       # QEMU start -> KUnit ran, /init started
    "system": (b"LAB: stage=system", 180),     # QEMU start -> the system kernel's /init
    "panic": (b"LAB: panic ", 120),            # -> the panic
    "capture": (b"LAB: stage=capture", 180),   # -> the capture kernel's /init
    "poweroff": (b"LAB: poweroff=1", 600),     # -> QEMU exits
    "reboot": (b"LAB: reboot=1", 600),         # the dump saved -> the capture kernel reboots
}
KDUMP_STAGES = ("system", "panic", "capture", "reboot")
KUNIT_STAGES = ("kunit", "poweroff")

# What the kernel prints when it hands over to the capture kernel: the log
# before it is the system kernel's, after it the capture kernel's.
CAPTURE_START = "Starting crashdump kernel"

# The SMMUv3 of each QEMU machine (lab/qemu.py MACHINES): its base, its
# platform device by device tree and by IORT, the stages it implements. The virt machine's own
# (iommu=smmuv3) sits at 0x09050000; one created with -device arm-smmuv3 on
# pcie.0 (QEMU 10.1 and later) in the platform bus window.
# Its stages: IDR0's S1P and S2P.
Smmu = collections.namedtuple("Smmu", "base dt_name acpi_name s1 s2")
SMMUS = {
    "smmuv3": Smmu(0x09050000, "9050000.smmuv3", "arm-smmu-v3.0.auto", True, True),
    "smmuv3-s2": Smmu(0x0c000000, "c000000.smmuv3", "arm-smmu-v3.0.auto", False, True),
}
SMMU = SMMUS["smmuv3"]
# Register offsets the lab uses.
SMMU_IDR0, SMMU_AIDR, SMMU_CR0, SMMU_GBPA, SMMU_GERROR = 0x0, 0x1C, 0x20, 0x44, 0x60
SMMU_STRTAB_BASE = 0x80
IDR0_S1P, IDR0_S2P = 1 << 1, 1 << 0
CR0_SMMUEN = 1
GBPA_ABORT = 1 << 20

# PCI slots on bus 0; a stream ID is the requester ID, (bus << 8) | devfn.
NIC_SLOT = 1
DISK_SLOT = 2


def sid(slot, fn=0):
    return (slot << 3) | fn


NIC_SID = sid(NIC_SLOT)
NIC_PCI_ID = "1af4:1041"        # virtio-net (modern), for pci-stub.ids
DISK_SID = sid(DISK_SLOT)
# The devices whose DMA the verifier follows, by stream ID.
DMA_DEVICES = {NIC_SID: "virtio-net", DISK_SID: "virtio-blk (dump disk)"}

# The capture kernel's command line (kexec_file_load), before a scenario's
# own additions.
CAPTURE_CMDLINE = "console=ttyAMA0 nr_cpus=1 reset_devices panic=1 lab.stage=capture"


def param(key, value):
    """lab.KEY=VALUE for /init's command line (spaces become commas)."""
    return f"lab.{key}={str(value).replace(' ', ',')}"


def guest_params(capture="", machine="smmuv3"):
    """What every kdump run tells /init: where the machine's SMMU is, the
    stream IDs whose STEs it prints (mutations apply to the first by
    default), and the capture kernel's command line (CAPTURE_CMDLINE, where
    the SMMU is, and `capture`)."""
    smmu = param("smmu", f"{SMMUS[machine].base:#x}")
    cap = " ".join(x for x in (CAPTURE_CMDLINE, smmu, capture) if x)
    return " ".join([smmu, param("sids", ",".join(f"{s:#x}" for s in DMA_DEVICES)),
                     param("capture", cap)])
