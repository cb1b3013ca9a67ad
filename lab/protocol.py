"""The contract between the host and the guest's /init (lab/guest/init.c).

The host tells /init what to do with lab.KEY=VALUE kernel parameters (a
comma in VALUE stands for a space); /init tells the host what it saw with
console lines "LAB: key=value ...". The SMMU's place and the devices' stream
IDs are facts of the QEMU machine that both sides need: they are decided
here and passed to /init as parameters.
"""

# The stages of a run, in order: the line /init prints when it reaches one,
# and the seconds (under TCG) the stage may take from the previous one.
STAGES = {
    "kunit": (b"LAB: stage=kunit", 300),       # QEMU start -> KUnit ran, /init started
    "system": (b"LAB: stage=system", 180),     # QEMU start -> the system kernel's /init
    "panic": (b"LAB: panic ", 120),            # -> the panic
    "capture": (b"LAB: stage=capture", 180),   # -> the capture kernel's /init
    "poweroff": (b"LAB: poweroff=1", 600),     # -> QEMU exits
}
KDUMP_STAGES = ("system", "panic", "capture", "poweroff")
KUNIT_STAGES = ("kunit", "poweroff")

# What the kernel prints when it hands over to the capture kernel: the log
# before it is the system kernel's, after it the capture kernel's.
CAPTURE_START = "Starting crashdump kernel"

# The SMMUv3 of QEMU's virt machine, and register offsets the lab uses.
SMMU_BASE = 0x09050000
SMMU_DT_NAME = "9050000.smmuv3"          # its platform device by device tree
SMMU_ACPI_NAME = "arm-smmu-v3.0.auto"    # and by IORT
SMMU_IDR0, SMMU_AIDR, SMMU_GBPA, SMMU_GERROR = 0x0, 0x1C, 0x44, 0x60
SMMU_STRTAB_BASE = 0x80
GBPA_ABORT = 1 << 20

# PCI slots on bus 0; a stream ID is the requester ID, (bus << 8) | devfn.
NIC_SLOT = 1
DISK_SLOT = 2


def sid(slot, fn=0):
    return (slot << 3) | fn


NIC_SID = sid(NIC_SLOT)
DISK_SID = sid(DISK_SLOT)
# The devices whose DMA the verifier follows, by stream ID.
DMA_DEVICES = {NIC_SID: "virtio-net", DISK_SID: "virtio-blk (dump disk)"}

# The capture kernel's command line (kexec_file_load), before a scenario's
# own additions.
CAPTURE_CMDLINE = "console=ttyAMA0 nr_cpus=1 reset_devices panic=1 lab.stage=capture"


def param(key, value):
    """lab.KEY=VALUE for /init's command line (spaces become commas)."""
    return f"lab.{key}={str(value).replace(' ', ',')}"


def guest_params(capture=""):
    """What every kdump run tells /init: where the SMMU is, the stream IDs
    whose STEs it prints (mutations apply to the first by default), and the
    capture kernel's command line (CAPTURE_CMDLINE, where the SMMU is, and
    `capture`)."""
    smmu = param("smmu", f"{SMMU_BASE:#x}")
    cap = " ".join(x for x in (CAPTURE_CMDLINE, smmu, capture) if x)
    return " ".join([smmu, param("sids", ",".join(f"{s:#x}" for s in DMA_DEVICES)),
                     param("capture", cap)])
