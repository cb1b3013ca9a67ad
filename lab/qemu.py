"""Boot one lab run under QEMU: the one place for QEMU's arguments.

A run boots the system kernel with the lab's /init, which loads the capture
kernel, panics with DMA in flight and, in the capture kernel, saves
/proc/vmcore to a raw disk. A host-side sender keeps the NIC's receive
buffers busy. Each stage has its own timeout: a hung guest is killed and the
run is reported as failed at that stage.
"""
import os
import socket
import subprocess
import threading
import time

QEMU = "qemu-system-aarch64"
FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
# 4 GiB: RAM spans 0x40000000-0x13fffffff, so the IOVAs the DMA allocator
# hands out first (just below 4 GiB) are RAM, and crashkernel=256M lands at
# 0xf0000000-0xffffffff: untranslated DMA lands in the capture kernel.
MEMORY_MB = 4096
CRASHKERNEL = "256M"
SMP = 2
GUEST_MAC = "52:54:00:12:34:56"
# PCI slots on bus 0; a stream ID is the requester ID, (bus << 8) | devfn.
NIC_SLOT = 1
DISK_SLOT = 2


def sid(slot, fn=0):
    return (slot << 3) | fn


# The devices whose DMA the verifier follows, by stream ID.
DMA_DEVICES = {sid(NIC_SLOT): "virtio-net", sid(DISK_SLOT): "virtio-blk (dump disk)"}

TRACE_EVENTS = ["smmuv3_translate*", "smmuv3_read_mmio", "smmuv3_write_mmio", "smmuv3_cmdq_cfgi_ste"]

# Seconds each stage may take under TCG before the run counts as hung.
STAGE_TIMEOUTS = {
    "kunit": 300,     # QEMU start -> "LAB: stage=kunit" (the KUnit boot)
    "system": 180,    # QEMU start -> "LAB: stage=system"
    "panic": 120,     # -> "LAB: panic"
    "capture": 180,   # -> "LAB: stage=capture"
    "poweroff": 600,  # -> QEMU exits after "LAB: poweroff=1"
}

SENDER_RATE = 400     # frames per second: slow enough that the 1024 posted
                      # buffers outlast the capture kernel's takeover (~0.7 s)
SENDER_MAX_SECONDS = 900


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sender(threading.Thread):
    """Sends Ethernet frames to the guest NIC over QEMU's UDP socket netdev.

    Loopback only, bounded in rate, count and time; stops with the run.
    """

    def __init__(self, port, rate=SENDER_RATE, max_seconds=SENDER_MAX_SECONDS):
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


def command(image, initrd, rundir, mode, append, extra_nic=False):
    nic_local, nic_peer = free_udp_port(), free_udp_port()
    args = [
        QEMU, "-machine", "virt,gic-version=3,iommu=smmuv3",
        "-cpu", "max,pauth-impdef=on", "-smp", str(SMP), "-m", str(MEMORY_MB),
        "-nographic", "-no-reboot", "-nic", "none",
        "-kernel", image, "-initrd", initrd,
        "-netdev", f"socket,id=n0,udp=127.0.0.1:{nic_peer},localaddr=127.0.0.1:{nic_local}",
        "-device", f"virtio-net-pci,netdev=n0,mac={GUEST_MAC},iommu_platform=on,"
                   f"disable-legacy=on,romfile=,rx_queue_size=1024,addr={NIC_SLOT:#x}",
        "-drive", f"file={rundir}/vmcore.img,format=raw,if=none,id=dump,cache=unsafe",
        "-device", f"virtio-blk-pci,drive=dump,serial=vmcore,iommu_platform=on,"
                   f"disable-legacy=on,addr={DISK_SLOT:#x}",
        "-D", f"{rundir}/qemu.log", "-d", "guest_errors", "-msg", "timestamp=on",
    ]
    for ev in TRACE_EVENTS:
        args += ["-trace", ev]
    cmdline = f"console=ttyAMA0 crashkernel={CRASHKERNEL} {append}".strip()
    if mode == "acpi":
        args += ["-bios", FIRMWARE]
        cmdline += " acpi=force"
    elif mode != "dt":
        raise ValueError(f"unknown boot mode {mode}")
    args += ["-append", cmdline]
    return args, nic_local


KDUMP_STAGES = [("system", b"LAB: stage=system"), ("panic", b"LAB: panic "),
                ("capture", b"LAB: stage=capture"), ("poweroff", b"LAB: poweroff=1")]
KUNIT_STAGES = [("kunit", b"LAB: stage=kunit"), ("poweroff", b"LAB: poweroff=1")]


def boot(image, initrd, rundir, mode="dt", append="", log=print, stages=KDUMP_STAGES):
    """Run QEMU to the end; return (stage reached, reason or None, seconds)."""
    os.makedirs(rundir, exist_ok=True)
    for f in ("vmcore.img", "qemu.log", "serial.log"):
        if os.path.exists(os.path.join(rundir, f)):
            os.unlink(os.path.join(rundir, f))
    with open(os.path.join(rundir, "vmcore.img"), "wb") as f:
        f.truncate(MEMORY_MB << 20)
    args, nic_port = command(image, initrd, rundir, mode, append)
    with open(os.path.join(rundir, "qemu.cmd"), "w") as f:
        f.write(" ".join(args) + "\n")

    sender = Sender(nic_port)
    serial = open(os.path.join(rundir, "serial.log"), "wb")
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    seen = {}
    markers = stages

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
        for stage, _ in markers:
            limit = since + STAGE_TIMEOUTS[stage]
            while stage not in seen and proc.poll() is None and time.monotonic() < limit:
                time.sleep(0.2)
            if stage not in seen:
                reason = ("QEMU exited" if proc.poll() is not None else
                          f"timeout after {STAGE_TIMEOUTS[stage]} s") + f" waiting for {stage}"
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
    with open(os.path.join(rundir, "sender.txt"), "w") as f:
        f.write(f"frames_sent={sender.sent} rate={sender.rate}\n")
    return reached, reason, time.monotonic() - t0
