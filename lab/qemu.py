"""Boot one lab run under QEMU: the one place for QEMU's arguments.

A run boots the system kernel with the lab's /init, which loads the capture
kernel, panics with DMA in flight and, in the capture kernel, saves
/proc/vmcore to a raw disk. A host-side sender keeps the NIC's receive
buffers busy. Each stage has its own timeout: a hung guest is killed and the
run is reported as failed at that stage.
"""
import collections
import json
import os
import socket
import subprocess
import threading
import time

import protocol
import runs

QEMU = "qemu-system-aarch64"
FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
# 4 GiB: RAM spans 0x40000000-0x13fffffff, so the IOVAs the DMA allocator
# hands out first (just below 4 GiB) are RAM, and crashkernel=256M lands at
# 0xf0000000-0xffffffff: untranslated DMA lands in the capture kernel.
MEMORY_MB = 4096
CRASHKERNEL = "256M"
SMP = 2
GUEST_MAC = "52:54:00:12:34:56"

# Boot modes: QEMU arguments, and kernel parameters for both kernels.
MODES = {
    "dt": ([], ""),
    "acpi": (["-bios", FIRMWARE], "acpi=force"),
}
# QEMU machines: the QEMU that runs it, its arguments, and trace events
# beside TRACE_EVENTS. "smmuv3": the host's QEMU (10.0), whose virt machine
# gives its SMMU both stages ("nested": Linux's DMA domains are stage-1, and
# their STEs carry S2VMID 0). "smmuv3-s2": QEMU 11 of the lab's trixie root
# (lab/qemu-root.sh), an SMMU created on pcie.0 with stage 2 only, so that
# Linux's DMA domains are stage-2 and the crashed kernel's STEs carry VMIDs;
# its trace adds the IOTLB lookups, whose VMID tags show whose tables
# translated. "smmuv3x2": QEMU 11, one SMMU (stage 1) per root complex,
# pcie.0 and a pxb-pcie one (pcie.1) with a root port (rp1) behind which
# the dump disk sits (its modes: UEFI + ACPI only, device tree takes one
# SMMU); its trace has the MMIO accesses of every device by absolute address
# (memory_region_ops_*: QEMU's smmuv3_*_mmio lines carry only the offset,
# not which SMMU) and the IOTLB lookups, whose ASID tags show whose tables
# translated. Each machine's SMMUs are in protocol.SMMUS, and where its
# devices sit in protocol.PLACES.
QEMU_ROOT = os.path.join(runs.BUILD, "qemu-root", "run-qemu")
# mmio_by_address: the trace has the SMMUs' register accesses as every
# device's MMIO by absolute address (MMIO_TRACE), not QEMU's offset-only
# smmuv3_*_mmio lines (SMMU_MMIO_TRACE), which cannot tell several SMMUs
# apart; the one owner of that choice (command() traces the events,
# evidence.trace_dma() parses them).
Machine = collections.namedtuple("Machine", "qemu args trace modes mmio_by_address",
                                 defaults=(tuple(MODES), False))
IOTLB_TRACE = ["smmu_iotlb_lookup_hit", "smmu_iotlb_lookup_miss"]
# An SMMU's register accesses: by offset (one SMMU), by absolute address.
SMMU_MMIO_TRACE = ["smmuv3_read_mmio", "smmuv3_write_mmio"]
MMIO_TRACE = ["memory_region_ops_read", "memory_region_ops_write"]
# The QEMU bus a device on a PCI bus number plugs into (explicit: QEMU
# would take the last bus created, the pxb-pcie's).
BUSES = {0: "pcie.0", protocol.PXB_BUS + 1: "rp1"}
MACHINES = {
    "smmuv3": Machine(QEMU, ["-machine", "virt,gic-version=3,iommu=smmuv3"], []),
    "smmuv3-s2": Machine(QEMU_ROOT, ["-machine", "virt,gic-version=3",
                                     "-device", "arm-smmuv3,primary-bus=pcie.0,stage=2"],
                         IOTLB_TRACE),
    "smmuv3x2": Machine(QEMU_ROOT, [
        "-machine", "virt,gic-version=3",
        "-device", "arm-smmuv3,primary-bus=pcie.0,id=smmuv3.0",
        "-device", f"pxb-pcie,id=pcie.1,bus_nr={protocol.PXB_BUS},bus=pcie.0,"
                   f"addr={protocol.PXB_SLOT:#x}",
        "-device", "arm-smmuv3,primary-bus=pcie.1,id=smmuv3.1",
        "-device", "pcie-root-port,id=rp1,bus=pcie.1,chassis=1"], IOTLB_TRACE,
        ("acpi",), mmio_by_address=True),
}

# What a guest (lab/initrd.py) needs of any machine. kexec-tools refuses a
# device tree whose /chosen/kaslr-seed is not 0 ("kaslr-seed is not wiped
# to 0"): a kernel with RANDOMIZE_BASE (Debian's) zeroes it once used, the
# lab kernel, without, leaves QEMU's seed there; so no seed for that guest.
GUEST_ARGS = {"kexec": ["-machine", "dtb-randomness=off"]}

TRACE_EVENTS = ["smmuv3_translate*", "smmuv3_cmdq_cfgi_ste"]

# Frames per second, per kernel configuration and for how long the 1024
# receive buffers the crashed kernel posted must last: "takeover", slow
# enough that they outlast the capture kernel's takeover of the SMMU (about
# 0.7 s on the lab kernel, 4 s on the debug one), so that DMA is in flight
# then; "reboot", until the capture kernel reboots after saving the dump
# (about 20 s on the lab kernel, 90 s on the debug one); "late_takeover",
# slow enough that they outlast a later takeover: on "smmuv3x2" (two SMMUs
# behind UEFI + ACPI) the capture kernel probed the first SMMU 0.79 to 2.15 s
# after the panic (QEMU's trace timestamps, lab kernel, 2026-12-02; 0.6 to
# 0.8 s with one SMMU): 1024 buffers at 150 frames/s last about 6.8 s, three
# times the slowest (at 400 they last 2.56 s, and ran dry before the probe).
SENDER_RATES = {"takeover": {"lab": 400, "debug": 100},
                "late_takeover": {"lab": 150, "debug": 40},
                "reboot": {"lab": 10, "debug": 3}}
SENDER_MAX_SECONDS = 900


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sender(threading.Thread):
    """Sends Ethernet frames to the guest NIC over QEMU's UDP socket netdev.

    Loopback only, bounded in rate, count and time; stops with the run.
    """

    def __init__(self, port, rate, max_seconds=SENDER_MAX_SECONDS):
        super().__init__(daemon=True)
        self.port, self.rate, self.max_seconds = port, rate, max_seconds
        self.stop = threading.Event()
        self.sent = 0

    def run(self):
        dst = bytes(int(x, 16) for x in GUEST_MAC.split(":"))
        frame = dst + bytes.fromhex("525400000001") + b"\x88\xb5" + bytes(range(256)) * 2
        end = time.monotonic() + self.max_seconds
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while not self.stop.is_set() and time.monotonic() < end:
                s.sendto(frame, ("127.0.0.1", self.port))
                self.sent += 1
                self.stop.wait(1.0 / self.rate)


def version(qemu=QEMU):
    """A QEMU's version line."""
    r = subprocess.run([qemu, "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.returncode == 0 and r.stdout else "unknown"


def place(machine, device):
    """A DMA device's QEMU bus and address (protocol.PLACES)."""
    p = protocol.PLACES[machine][device]
    return f"bus={BUSES[p.bus]},addr={p.slot:#x}"


def command(run, initrd, append, disk_read_bps=0):
    """QEMU's arguments for a run (its machine and mode; disk_read_bps: the
    dump disk's reads throttled to that many bytes per second), and the UDP
    port the NIC listens on."""
    nic_local, nic_peer = free_udp_port(), free_udp_port()
    mode_args, mode_params = MODES[run.mode]
    machine = MACHINES[run.machine]
    args = [
        machine.qemu, *machine.args,
        "-cpu", "max,pauth-impdef=on", "-smp", str(SMP), "-m", str(MEMORY_MB),
        "-nographic", "-no-reboot", "-nic", "none",
        "-kernel", run.image, "-initrd", initrd,
        "-netdev", f"socket,id=n0,udp=127.0.0.1:{nic_peer},localaddr=127.0.0.1:{nic_local}",
        "-device", f"virtio-net-pci,netdev=n0,mac={GUEST_MAC},iommu_platform=on,"
                   f"disable-legacy=on,romfile=,rx_queue_size=1024,{place(run.machine, 'nic')}",
        "-drive", f"file={run.path('disk')},format=raw,if=none,id=dump,cache=unsafe"
                  + (f",throttling.bps-read={disk_read_bps}" if disk_read_bps else ""),
        "-device", f"virtio-blk-pci,drive=dump,serial=vmcore,iommu_platform=on,"
                   f"disable-legacy=on,{place(run.machine, 'disk')}",
        "-D", run.path("qemu_log"), "-d", "guest_errors", "-msg", "timestamp=on",
        *mode_args, *GUEST_ARGS.get(run.guest, ()),
    ]
    for ev in TRACE_EVENTS + machine.trace + (MMIO_TRACE if machine.mmio_by_address
                                              else SMMU_MMIO_TRACE):
        args += ["-trace", ev]
    cmdline = " ".join(x for x in (f"console=ttyAMA0 crashkernel={CRASHKERNEL}", mode_params,
                                   append) if x)
    args += ["-append", cmdline]
    return args, nic_local


def kernel_params(run, scenario):
    """The system kernel's parameters for a kdump run of a scenario."""
    mode_params = MODES[run.mode][1]
    capture = " ".join(x for x in (mode_params, scenario.capture) if x)
    return " ".join(x for x in (scenario.system, protocol.guest_params(capture, run.machine))
                    if x)


def boot(run, initrd, append, log=print, stages=protocol.KDUMP_STAGES, facts=None,
         sender="takeover", disk_read_bps=0):
    """Boot a run to the end: its folder gets serial.log, qemu.log, qemu.cmd,
    the dump disk, and boot.json (stage reached, reason or None, seconds,
    QEMU's version, frames sent, and the caller's facts about the guest).
    Returns the boot record."""
    os.makedirs(run.dir, exist_ok=True)
    for f in os.listdir(run.dir):
        os.unlink(os.path.join(run.dir, f))
    with open(run.path("disk"), "wb") as f:
        f.truncate(MEMORY_MB << 20)
    args, nic_port = command(run, initrd, append, disk_read_bps)
    with open(run.path("qemu_cmd"), "w") as f:
        f.write(" ".join(args) + "\n")

    sender = Sender(nic_port, SENDER_RATES[sender][run.config])
    serial = open(run.path("serial"), "wb")
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    seen = {}
    markers = [(stage, protocol.STAGES[stage][0]) for stage in stages]

    def reader():
        for line in proc.stdout:
            serial.write(line)
            serial.flush()
            for stage, pat in markers:
                if stage not in seen and pat in line:
                    seen[stage] = time.monotonic()

    t = threading.Thread(target=reader, daemon=True)
    t0 = time.monotonic()
    t.start()
    sender.start()
    reached, reason = "start", None
    try:
        since = t0
        for stage in stages:
            timeout = protocol.STAGES[stage][1]
            limit = since + timeout
            while stage not in seen and proc.poll() is None and time.monotonic() < limit:
                time.sleep(0.2)
            if stage not in seen:
                reason = ("QEMU exited" if proc.poll() is not None else
                          f"timeout after {timeout} s") + f" waiting for {stage}"
                break
            reached, since = stage, seen[stage]
            log(f"  {stage:<9} at {seen[stage] - t0:6.1f} s")
        if reason is None:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                reason = "QEMU did not exit after poweroff"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sender.stop.set()
        t.join(timeout=5)
        serial.close()
    record = {"reached": reached, "reason": reason, "seconds": time.monotonic() - t0,
              "qemu": version(MACHINES[run.machine].qemu), "frames_sent": sender.sent,
              "sender_rate": sender.rate, **(facts or {})}
    with open(run.path("boot"), "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
    return record
