"""Where things live: the build folder, the kernels, and the runs.

A run is a point in the space of the lab's axes (kernel version,
configuration, variant, boot mode, guest, QEMU machine, scenario). Run
names it, and owns its folder and the name of every file in it: QEMU's
boot writes them, collect() (lab/evidence.py) adds the artefacts read from
the dump, and the verifier only reads.
"""
import dataclasses
import os

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(TOP, "build"))
SRC = os.path.join(BUILD, "linux")
CRASH_ROOT = os.path.join(BUILD, "crash-root")
KEXEC_ROOT = os.path.join(BUILD, "kexec-root")
RUNS = os.path.join(BUILD, "runs")
# Where the guest's builds go (/init, each kernel's initramfs archives):
# BUILD, unless LAB_GUEST_BUILD names another folder (a worktree running on
# a shared BUILD keeps its /init out of the others' way).
GUEST_BUILD = os.environ.get("LAB_GUEST_BUILD", BUILD)

# The axes the kernels are built along (lab/build-kernel.sh). One value
# each today; the first is the default, left out of a run's name.
VERSIONS = ("6.12",)
CONFIGS = ("lab", "debug")
VARIANTS = ("base", "patched")


def kernel_dir(variant, version="6.12", config="lab", out=None):
    """build/out-NAME, where `build-kernel.sh NAME` puts a kernel (out: an
    ad hoc build, OUTNAME=out)."""
    if out:
        name = out
    else:
        name = "-".join(x for x in (version if version != VERSIONS[0] else "",
                                    config if config != CONFIGS[0] else "", variant) if x)
    return os.path.join(BUILD, f"out-{name}")


def built_variants(config=CONFIGS[0]):
    """The variants whose kernel of this configuration exists, base first."""
    return [v for v in VARIANTS
            if os.path.exists(os.path.join(kernel_dir(v, config=config), "vmlinux"))]


@dataclasses.dataclass(frozen=True)
class Run:
    """One boot: its coordinates, its folder, its files."""
    variant: str
    mode: str = "dt"
    scenario: str = "main"      # a name of scenarios.SCENARIOS, or "kunit-N"
    version: str = VERSIONS[0]
    config: str = CONFIGS[0]
    guest: str = "init"
    machine: str = "smmuv3"
    out: str = None             # boot build/out-OUT instead of the variant's kernel
    root: str = RUNS            # the folder of run folders (tests: recorded runs)

    def __post_init__(self):
        if self.version not in VERSIONS or self.config not in CONFIGS \
                or self.variant not in VARIANTS:
            raise ValueError(f"no such kernel: {self.version}/{self.config}/{self.variant}")

    @property
    def name(self):
        """variant-mode-scenario, with the axes that are not the default first."""
        lead = [self.out or self.variant]
        for value, default in ((self.machine, "smmuv3"), (self.guest, "init"),
                               (self.config, CONFIGS[0]), (self.version, VERSIONS[0])):
            if value != default:
                lead.insert(0, value)
        return "-".join(lead + [self.mode, self.scenario])

    @property
    def kernel(self):
        return kernel_dir(self.variant, self.version, self.config, self.out)

    @property
    def guest_dir(self):
        """Where the run's kernel's initramfs archives are built."""
        return os.path.join(GUEST_BUILD, os.path.relpath(self.kernel, BUILD), self.guest)

    @property
    def image(self):
        return os.path.join(self.kernel, "arch/arm64/boot/Image")

    @property
    def vmlinux(self):
        return os.path.join(self.kernel, "vmlinux")

    @property
    def dir(self):
        return os.path.join(self.root, self.name)

    def path(self, what):
        """A file of the run folder, by its role."""
        return os.path.join(self.dir, FILES[what])

    def drop_core(self):
        """Delete the dump of a run every check passed: its verdict and the
        tools' output stay, its 0.1-0.7 GiB of guest memory goes (a matrix
        keeps about 50 runs). Returns the bytes freed."""
        freed = 0
        for role in ("disk", "vmcore"):
            try:
                freed += os.stat(self.path(role)).st_blocks * 512
                os.unlink(self.path(role))
            except FileNotFoundError:
                pass
        return freed


# Every file of a run folder: role -> name.
FILES = {
    "serial": "serial.log",          # the console: both kernels and /init
    "qemu_log": "qemu.log",          # QEMU's SMMU trace and guest errors
    "qemu_cmd": "qemu.cmd",          # the command QEMU ran
    "boot": "boot.json",             # how far the boot got, the QEMU version
    "disk": "vmcore.img",            # the dump disk, as the guest wrote it
    "vmcore": "vmcore",              # the disk cut to the ELF core's size
    "vmcore_dmesg": "vmcore-dmesg.txt",
    "crash": "crash.txt",
    "evidence": "evidence.json",     # what collect() found: ELF, tools' exit codes
}
