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

# The SMMUv3s of each QEMU machine (lab/qemu.py MACHINES), in the order
# of their platform devices: each one's base, its platform device by device
# tree and by IORT, the stages it implements (IDR0's S1P and S2P). The virt
# machine's own (iommu=smmuv3) sits at 0x09050000; those created with
# -device arm-smmuv3 (QEMU 10.1 and later) in the platform bus window, in
# the order of their -device arguments: 0x0c000000, then 0x0c020000.
# Several SMMUs need UEFI + ACPI/IORT (device tree takes one only).
Smmu = collections.namedtuple("Smmu", "base dt_name acpi_name s1 s2")
SMMUS = {
    "smmuv3": (Smmu(0x09050000, "9050000.smmuv3", "arm-smmu-v3.0.auto", True, True),),
    "smmuv3-s2": (Smmu(0x0c000000, "c000000.smmuv3", "arm-smmu-v3.0.auto", False, True),),
    "smmuv3x2": (Smmu(0x0c000000, "c000000.smmuv3", "arm-smmu-v3.0.auto", True, False),
                 Smmu(0x0c020000, "c020000.smmuv3", "arm-smmu-v3.1.auto", True, False)),
}
SMMU = SMMUS["smmuv3"][0]
SMMU_SIZE = 0x20000          # both register pages
# Register offsets the lab uses.
SMMU_IDR0, SMMU_AIDR, SMMU_CR0, SMMU_GBPA, SMMU_GERROR = 0x0, 0x1C, 0x20, 0x44, 0x60
SMMU_STRTAB_BASE = 0x80
IDR0_S1P, IDR0_S2P = 1 << 1, 1 << 0
CR0_SMMUEN = 1
GBPA_ABORT = 1 << 20

# Where each DMA device sits, per machine: its bus, its slot, and the index
# (in SMMUS[machine]) of the SMMU in front of it; a stream ID is the
# requester ID, (bus << 8) | devfn. On "smmuv3x2" the dump disk sits behind
# the second SMMU: a pxb-pcie root complex (pcie.1, its bus PXB_BUS; the
# pxb-pcie device itself in PXB_SLOT of bus 0, which does no DMA), whose
# root port (rp1) gives the disk the bus after it.
NIC_SLOT = 1
DISK_SLOT = 2
PXB_BUS = 8
PXB_SLOT = 3                # the pxb-pcie's own slot on bus 0
Place = collections.namedtuple("Place", "bus slot smmu")
DEVICE_NAMES = {"nic": "virtio-net", "disk": "virtio-blk (dump disk)"}
ONE_SMMU = {"nic": Place(0, NIC_SLOT, 0), "disk": Place(0, DISK_SLOT, 0)}
PLACES = {
    "smmuv3": ONE_SMMU,
    "smmuv3-s2": ONE_SMMU,
    "smmuv3x2": {"nic": Place(0, NIC_SLOT, 0), "disk": Place(PXB_BUS + 1, 0, 1)},
}


def sid(slot, fn=0, bus=0):
    return (bus << 8) | (slot << 3) | fn


def device_sid(machine, device):
    p = PLACES[machine][device]
    return sid(p.slot, bus=p.bus)


def dma_devices(machine="smmuv3"):
    """The devices whose DMA the verifier follows on a machine, NIC first:
    {stream ID: (name, index of its SMMU)}."""
    return {device_sid(machine, d): (DEVICE_NAMES[d], PLACES[machine][d].smmu)
            for d in DEVICE_NAMES}


def sid_smmu(machine):
    """{stream ID: index of its SMMU} of a machine's DMA devices."""
    return {s: k for s, (_, k) in dma_devices(machine).items()}


NIC_SID = device_sid("smmuv3", "nic")
NIC_PCI_ID = "1af4:1041"        # virtio-net (modern), for pci-stub.ids
DISK_SID = device_sid("smmuv3", "disk")
# The default machine's DMA devices, by stream ID.
DMA_DEVICES = {s: name for s, (name, _) in dma_devices().items()}

# The capture kernel's command line (kexec_file_load), before a scenario's
# own additions.
CAPTURE_CMDLINE = "console=ttyAMA0 nr_cpus=1 reset_devices panic=1 lab.stage=capture"


def param(key, value):
    """lab.KEY=VALUE for /init's command line (spaces become commas)."""
    return f"lab.{key}={str(value).replace(' ', ',')}"


def guest_params(capture="", machine="smmuv3"):
    """What every kdump run tells /init: where the machine's SMMUs are
    (lab.smmu, their bases separated by colons: a comma would become a space
    inside lab.capture; the first one /init marks the trace on), the stream
    IDs whose STEs it prints, each SID@K with K the index of its SMMU in
    lab.smmu where K is not 0 (mutations apply to the first SID by default,
    and to the SMMU of the SID they name), and the capture kernel's command
    line (CAPTURE_CMDLINE, where the SMMUs are, and `capture`)."""
    smmu = param("smmu", ":".join(f"{s.base:#x}" for s in SMMUS[machine]))
    cap = " ".join(x for x in (CAPTURE_CMDLINE, smmu, capture) if x)
    sids = ",".join(f"{s:#x}" + (f"@{k}" if k else "")
                    for s, (_, k) in dma_devices(machine).items())
    return " ".join([smmu, param("sids", sids), param("capture", cap)])
