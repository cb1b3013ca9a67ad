"""The guest: /init (lab/guest/init.c, static arm64) in the system kernel's
initramfs, with the capture kernel and the capture initramfs (/init and the
series' kselftest) inside it, as cpio archives."""
import os
import subprocess

import runs

SELFTEST = "arm_smmu_v3_kdump"
INIT_SRC = os.path.join(runs.TOP, "lab/guest/init.c")


def selftest_binary(run):
    """The series' kselftest (build-kernel.sh builds it with the series):
    the run's kernel's own, else the default patched build's, so that a base
    capture kernel runs it too (and must skip)."""
    for d in (run.kernel, runs.kernel_dir("patched", run.version, run.config)):
        path = os.path.join(d, "selftest", SELFTEST)
        if os.path.exists(path):
            return path
    return None


def build_init():
    init = os.path.join(runs.GUEST_BUILD, "guest-init")
    if not os.path.exists(init) or os.path.getmtime(init) < os.path.getmtime(INIT_SRC):
        os.makedirs(runs.GUEST_BUILD, exist_ok=True)
        subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-o", init, INIT_SRC], check=True)
    return init


def cpio(gen, path, entries):
    with open(path + ".list", "w") as f:
        f.write("\n".join(entries) + "\n")
    with open(path, "wb") as f:
        subprocess.run([gen, path + ".list"], stdout=f, check=True)


def build(run):
    """The run's initramfs: (its path, facts about it for the boot record)."""
    dest = run.guest_dir
    os.makedirs(dest, exist_ok=True)
    gen = os.path.join(run.kernel, "usr/gen_init_cpio")
    common = ["dir /dev 0755 0 0", "nod /dev/console 0600 0 0 c 5 1", "dir /proc 0755 0 0",
              "dir /sys 0755 0 0", f"file /init {build_init()} 0755 0 0"]
    # Not on the debug configuration: the kselftest reads all of /proc/vmcore
    # with read(), which costs a memremap() per page; under KASAN that is six
    # minutes for the lab's 4 GiB, against a second otherwise.
    test = selftest_binary(run) if run.config != "debug" else None
    capture, system = os.path.join(dest, "capture.cpio"), os.path.join(dest, "system.cpio")
    cpio(gen, capture, common + ([f"dir /selftest 0755 0 0",
                                  f"file /selftest/{SELFTEST} {test} 0755 0 0"] if test else []))
    cpio(gen, system, common + [f"file /Image {run.image} 0644 0 0",
                                f"file /capture.cpio {capture} 0644 0 0"])
    return system, {"selftest": bool(test)}


# Guests, by the name a Run gives: the builder of its initramfs.
GUESTS = {"init": build}
