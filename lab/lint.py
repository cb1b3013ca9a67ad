#!/usr/bin/env python3
"""The gates a kernel maintainer and the 0-day bot apply, run on patches/.

  lint.py            every gate, one PASS/FAIL line each, then "N passed, N failed"
  lint.py --list     the gates' names
  lint.py GATE...    only these gates

Warnings are compared with the same build of the pristine base: a gate fails
on any warning the series adds, and prints it.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

from runs import BUILD, SRC, TOP

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = time.monotonic()


def sh(args, cwd=None, env=None):
    """Run a command; return (exit code, stdout + stderr)."""
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True, errors="replace",
                       env=dict(os.environ, **(env or {})))
    return r.returncode, r.stdout + r.stderr


def git(*args):
    return subprocess.run(["git", "-C", SRC, *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def series_files():
    with open(os.path.join(TOP, "patches/series")) as f:
        return [os.path.join(TOP, "patches", ln.strip()) for ln in f
                if ln.strip() and not ln.startswith("#")]


def commits():
    return git("rev-list", "--reverse", "base..series").split()


def changed(rev_range="base..series"):
    return git("diff", "--name-only", rev_range).split()


def c_dirs():
    """Directories whose objects the series changes (for directory builds)."""
    dirs = set()
    for f in changed():
        if f.endswith(".c") and not f.startswith(("tools/", "Documentation/", "scripts/")):
            dirs.add(os.path.dirname(f) + "/")
    # kbuild builds a directory's subdirectories with it, and fails when
    # given both (drivers/iommu/ and drivers/iommu/arm/arm-smmu-v3/).
    return sorted(d for d in dirs if not any(d != o and d.startswith(o) for o in dirs))


def build(config, *make_args, rev=None):
    env = {"REV": rev} if rev else {}
    return sh(["sh", os.path.join(HERE, "build-kernel.sh"), config, *make_args], env=env)


WARN = re.compile(r"(warning|error):", re.I)


def warnings(out):
    """Warning lines, without line and column numbers, so base and series compare."""
    ws = set()
    for ln in out.splitlines():
        if WARN.search(ln) and "build-kernel:" not in ln:
            ws.add(re.sub(r":\d+(:\d+)?:", ":", ln.strip()))
    return ws


def new_warnings(config, args, what):
    """Build at base and at the series tip; the warnings only the series has."""
    rc0, base_out = build(config, *args, rev="base")
    rc1, out = build(config, *args)
    if rc1 != 0:
        tail = "\n".join(out.splitlines()[-15:])
        return False, f"{what}: build failed (exit {rc1})\n{tail}"
    new = sorted(warnings(out) - warnings(base_out))
    if new:
        return False, f"{what}: {len(new)} new warnings\n" + "\n".join(new[:20])
    return True, f"{what}: no new warnings ({len(warnings(out))} also in base)"


def cover_exceptions():
    """The cover letter's justified checkpatch exceptions: {(patch number, TYPE): reason}.

    Listed under a "checkpatch exceptions" heading as
    "- 0001, 0004: TYPE: why", continued on indented lines.
    """
    path = os.path.join(TOP, "patches/0000-cover-letter.patch")
    if not os.path.exists(path):
        return {}
    text = open(path).read()
    m = re.search(r"^checkpatch exceptions\n-+\n(.*?)(?:\n\n|\Z)", text, re.M | re.S)
    out = {}
    for item in re.findall(r"^- (.*(?:\n  .*)*)", m.group(1) if m else "", re.M):
        h = re.match(r"([\d, ]+): ([A-Z_]+): (.*)", " ".join(item.split()))
        if h:
            for n in re.findall(r"\d+", h.group(1)):
                out[(int(n), h.group(2))] = h.group(3)
    return out


def gate_checkpatch():
    """checkpatch --strict on every patch: nothing but the cover letter's exceptions."""
    allowed = cover_exceptions()
    used, bad = set(), []
    files = series_files()
    for p in files:
        num = int(os.path.basename(p)[:4])
        # Debian's python3 first: checkpatch's SPDX check needs its python3-ply.
        rc, out = sh(["perl", "scripts/checkpatch.pl", "--strict", "--quiet", "--show-types",
                      p], cwd=SRC, env={"PATH": "/usr/bin:" + os.environ["PATH"]})
        found = re.findall(r"^(ERROR|WARNING|CHECK):([A-Z_]+):", out, re.M)
        left = [t for k, t in found if (num, t) not in allowed]
        used |= {(num, t) for k, t in found if (num, t) in allowed}
        if left or (rc != 0 and not found):
            bad.append(f"{os.path.basename(p)}:\n{out.strip()}")
    stale = sorted(set(allowed) - used)
    if bad:
        return False, f"{len(bad)} of {len(files)} patches not clean\n" + "\n".join(bad)
    if stale:
        return False, "exceptions listed in the cover letter that checkpatch no longer " \
                      "reports: " + ", ".join(f"{n:04d} {t}" for n, t in stale)
    note = (f"; {len(used)} justified exceptions of the cover letter: " +
            ", ".join(f"{n:04d} {t}" for n, t in sorted(used))) if used else ""
    return True, f"{len(files)} patches: 0 errors, 0 warnings, 0 checks (--strict){note}"


def gate_per_patch():
    """Each patch, on top of its predecessors: the lab Image links, W=1 adds no warning."""
    dirs = c_dirs()
    cs = commits()
    _, base_w1 = build("lint", "W=1", *dirs, rev="base")
    base_w = warnings(base_w1)
    bad = []
    for i, c in enumerate(cs, 1):
        subj = git("log", "-1", "--format=%s", c)[:60]
        rc, out = build("perpatch", rev=c)
        if rc != 0:
            errs = [ln for ln in out.splitlines() if WARN.search(ln)] or out.splitlines()[-10:]
            bad.append(f"patch {i}/{len(cs)} ({subj}): the Image does not build\n" +
                       "\n".join(errs[:10]))
            continue
        rc, out = build("lint", "W=1", *dirs, rev=c)
        new = sorted(warnings(out) - base_w)
        if rc != 0 or new:
            bad.append(f"patch {i}/{len(cs)} ({subj}): W=1 build of {' '.join(dirs)} "
                       f"{'failed' if rc else 'warns'}\n" +
                       "\n".join(new[:10] or out.splitlines()[-10:]))
    if bad:
        return False, f"{len(bad)} of {len(cs)} patches fail\n" + "\n".join(bad)
    return True, f"{len(cs)} patches each build the Image; W=1 {' '.join(dirs)}: no new warnings"


def gate_sparse():
    return new_warnings("lint", ["C=2", *c_dirs()], "sparse (C=2) " + " ".join(c_dirs()))


def gate_clang():
    return new_warnings("clang", ["W=1", *c_dirs()], "LLVM=1 W=1 " + " ".join(c_dirs()))


def gate_nocrash():
    ok, detail = new_warnings("nocrash", [*c_dirs()], "CONFIG_CRASH_DUMP=n " + " ".join(c_dirs()))
    return ok, detail


def gate_module():
    """ARM_SMMU_V3=m: the module compiles, and what the series makes it import is exported."""
    d = "drivers/iommu/arm/arm-smmu-v3/"
    obj = os.path.join(BUILD, "out-module", d, "arm_smmu_v3.o")
    undef = {}
    for rev in ("base", "series"):
        rc, out = build("module", d, rev=rev)
        if rc != 0:
            return False, f"ARM_SMMU_V3=m {d} at {rev}: build failed\n" + "\n".join(
                out.splitlines()[-10:])
        rc, out = sh(["aarch64-linux-gnu-nm", "-u", obj])
        if rc != 0:
            return False, f"nm {obj}: {out.strip()[:200]}"
        undef[rev] = {ln.split()[-1] for ln in out.splitlines() if ln.strip()}
    new = sorted(undef["series"] - undef["base"])
    src = os.path.join(BUILD, "linux-build")
    missing = []
    for sym in new:
        rc, _ = sh(["git", "-C", src, "grep", "-q", "-E",
                    rf"EXPORT_SYMBOL(_GPL)?(_NS(_GPL)?)?(_IF_KUNIT)?\(\s*{re.escape(sym)}\s*[,)]"])
        if rc != 0:
            missing.append(sym)
    if missing:
        return False, f"the series makes arm_smmu_v3.ko import unexported symbols: {', '.join(missing)}"
    return True, (f"ARM_SMMU_V3=m {d} builds; the {len(new)} symbols the series adds to the "
                  f"module's imports are exported ({', '.join(new[:6])}{'...' if len(new) > 6 else ''})")


def gate_kernel_doc():
    added = git("diff", "--name-only", "--diff-filter=A", "base..series").split()
    files = [f for f in added if f.endswith((".c", ".h")) and not f.startswith("tools/")]
    if not files:
        return True, "no new C files"
    rc, out = sh(["perl", "scripts/kernel-doc", "-none", "-Wall", *files], cwd=SRC)
    if rc != 0 or out.strip():
        return False, "kernel-doc -none -Wall:\n" + out.strip()
    return True, f"kernel-doc -none -Wall clean on {', '.join(os.path.basename(f) for f in files)}"


def gate_coccicheck():
    if sh(["which", "spatch"])[0] != 0:
        return False, "spatch (coccinelle) not installed: make deps"
    d = "drivers/iommu/arm/arm-smmu-v3/"
    results = {}
    for rev in ("base", "series"):
        src = os.path.join(BUILD, "linux-build")
        rc, out = build("lint", "coccicheck", "MODE=report", f"M={d}", rev=rev)
        if rc != 0:
            return False, f"coccicheck at {rev} failed (exit {rc}):\n" + "\n".join(
                out.splitlines()[-10:])
        results[rev] = {re.sub(r":\d+(:\d+)?(-\d+)?:", ":", ln.strip())
                        for ln in out.splitlines() if ln.startswith(src) or ln.startswith(d)}
    new = sorted(results["series"] - results["base"])
    if new:
        return False, f"{len(new)} new coccinelle reports\n" + "\n".join(new[:20])
    return True, f"coccicheck MODE=report M={d}: no new reports ({len(results['base'])} in base)"


def gate_applies():
    """git am of patches/ onto the pristine base, no fuzz, gives the tree's series."""
    wt = tempfile.mkdtemp(prefix="lint-am-", dir=BUILD)
    try:
        git("worktree", "add", "-q", "--detach", wt, "base")
        rc, out = sh(["git", "-C", wt, "-c", "user.name=lint", "-c", "user.email=lint@localhost",
                      "am", "-q", *series_files()])
        if rc != 0:
            return False, "git am failed:\n" + out.strip()[-800:]
        rc, out = sh(["git", "-C", wt, "diff", "--stat", "HEAD", git("rev-parse", "series")])
        if out.strip():
            return False, "the applied series differs from the tree's series:\n" + out.strip()
        return True, f"{len(series_files())} patches apply with git am onto base, tree identical"
    finally:
        sh(["git", "-C", SRC, "worktree", "remove", "--force", wt])


def gate_export():
    """make export reproduces patches/ byte for byte."""
    with tempfile.TemporaryDirectory() as d:
        rc, out = sh(["sh", os.path.join(HERE, "export.sh"), d])
        if rc != 0:
            return False, "export failed: " + out.strip()
        # patches/mainline is the port to 7.3 (issue 15), from its own tree.
        rc, out = sh(["diff", "-r", "-x", "mainline", d, os.path.join(TOP, "patches")])
        if rc != 0:
            return False, "patches/ differs from the tree's export:\n" + out[:1500]
    return True, "make export reproduces patches/ byte for byte"


GATES = {
    "applies": gate_applies,
    "export": gate_export,
    "checkpatch": gate_checkpatch,
    "per-patch": gate_per_patch,
    "sparse": gate_sparse,
    "clang": gate_clang,
    "crash-dump-n": gate_nocrash,
    "module": gate_module,
    "kernel-doc": gate_kernel_doc,
    "coccicheck": gate_coccicheck,
}


def run(names=None):
    """Run the gates; return (passed, failed), printing one line per gate."""
    passed = failed = 0
    if not series_files():
        print("SKIP lint: patches/series is empty", flush=True)
        return 0, 0
    for name in names or GATES:
        t = time.monotonic()
        try:
            ok, detail = GATES[name]()
        except Exception as e:  # a gate that crashes has failed
            ok, detail = False, f"{type(e).__name__}: {e}"
        first, _, rest = detail.partition("\n")
        print(f"{'PASS' if ok else 'FAIL'} lint {name}: {first} [{time.monotonic() - t:.0f} s]",
              flush=True)
        if rest:
            print("\n".join("    | " + ln for ln in rest.splitlines()), flush=True)
        passed, failed = passed + bool(ok), failed + (not ok)
    return passed, failed


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(GATES))
        return 0
    unknown = [n for n in sys.argv[1:] if n not in GATES]
    if unknown:
        print(f"unknown gates: {', '.join(unknown)}; see --list")
        return 2
    p, f = run(sys.argv[1:] or None)
    print(f"{p} passed, {f} failed")
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
