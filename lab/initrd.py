"""The guest: /init (lab/guest/init.c, static arm64) in the system kernel's
initramfs, with the capture kernel and the capture initramfs (/init and the
series' kselftest) inside it, as cpio archives.

Two guests: "init" loads the capture kernel itself (kexec_file_load(2));
"kexec" carries Debian 13's arm64 kexec-tools (make deps: build/kexec-root)
and its libraries, and /init loads the capture kernel with `kexec -p`, as
Debian's kdump-tools does: kexec_load(2), the ELF core header built by
kexec-tools."""
import os
import re
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


def elf_closure(root, program):
    """A dynamically linked program of the sysroot `root` and the shared
    objects it needs, recursively: {path in the guest: path on the host}
    (libraries in /lib/aarch64-linux-gnu, the interpreter where the program
    names it)."""
    libdirs = ("usr/lib/aarch64-linux-gnu", "usr/lib")
    files, todo = {f"/{program}": os.path.join(root, program)}, [program]
    while todo:
        elf = os.path.join(root, todo.pop())
        out = subprocess.run(["readelf", "-d", "-l", elf], capture_output=True, text=True,
                             check=True).stdout
        for name in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]", out) + \
                re.findall(r"program interpreter: (/\S+)\]", out):
            base = os.path.basename(name)
            guest = name if name.startswith("/") else f"/lib/aarch64-linux-gnu/{base}"
            if guest in files:
                continue
            where = [d for d in libdirs if os.path.exists(os.path.join(root, d, base))]
            if not where:
                raise FileNotFoundError(f"{elf} needs {base}, not in {root} (make deps)")
            files[guest] = os.path.realpath(os.path.join(root, where[0], base))
            todo.append(os.path.join(where[0], base))
    return files


KEXEC = "usr/sbin/kexec"        # /init loads with it where the initramfs has it


def build(run, extra=()):
    """The run's initramfs: (its path, facts about it for the boot record).
    extra: cpio entries the system initramfs carries besides /init."""
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
                                f"file /capture.cpio {capture} 0644 0 0"] + list(extra))
    return system, {"selftest": bool(test)}


def build_kexec(run):
    """The guest "kexec": build()'s, with kexec-tools in the system
    initramfs."""
    files = elf_closure(runs.KEXEC_ROOT, KEXEC)
    dirs = sorted({os.path.dirname(g) for g in files} | {"/usr", "/lib"}, key=len)
    entries = [f"dir {d} 0755 0 0" for d in dirs if d != "/"]
    entries += [f"file {g} {h} 0755 0 0" for g, h in sorted(files.items())]
    system, facts = build(run, entries)
    version = subprocess.run(["qemu-aarch64-static", "-L", runs.KEXEC_ROOT,
                              os.path.join(runs.KEXEC_ROOT, KEXEC), "--version"],
                             capture_output=True, text=True).stdout.strip()
    return system, dict(facts, kexec_tools=version)


# Guests, by the name a Run gives: the builder of its initramfs.
GUESTS = {"init": build, "kexec": build_kexec}
