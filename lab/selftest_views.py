"""The series' kselftest against crafted debugfs views: does it catch an
inconsistent view?

The kselftest (tools/testing/selftests/iommu/arm_smmu_v3_kdump) reads the
kdump view each SMMUv3 has in debugfs. Its ARM_SMMU_V3_KDUMP_DEBUGFS,
_SYSFS and _VMCORE variables point it at other trees, so here it runs on the
host (the static arm64 binary under qemu-aarch64-static) against a view
copied from a real capture run and made wrong one way at a time. Each case
names the test that must fail (or "pass" for the consistent view, "skip"
for a tree the test must skip), and every case is a check.
"""
import os
import re
import shutil
import subprocess
import tempfile

import protocol
from verify import Check

SMMU = protocol.SMMU.dt_name
NIC = f"0000:00:{protocol.NIC_SLOT:02x}.0"
# A view as a patched capture kernel printed it (lab run nic_no_driver),
# with the NIC's attach deferred.
VIEW = f"""outcome: adopted
format: 2-level
strtab_base: 0x00000001000aa000
log2size: 16
sids: 65536
split: 8
l1_entries: 256
l1_entries_valid_at_adoption: 1
l1_entries_in_use: 1
l2_tables_adopted: 1
l2_tables_adopted_list: 0
asids_reserved: 2
asids_reserved_list: 1-2
vmids_reserved: 0
vmids_reserved_list: none
deferred: {protocol.NIC_SID} ste=valid cfg=s1-trans bus=pci dev={NIC}
deferred_sids: 1
smmuen: 1
strtab_base_reg: 0x40000001000aa000
strtab_base_cfg_reg: 0x00010210
"""

# name: (what is wrong, (regex, replacement) on the view or a tree change,
#        expected: "pass" | "skip" | the test that must fail)
CASES = {
    "consistent": ("nothing", None, "pass"),
    "l1_in_use_over_table": ("more L1 entries in use than the table has",
                             (r"l1_entries_in_use: 1\n", "l1_entries_in_use: 300\n"),
                             "smmu_view.geometry"),
    "deferred_sid_outside": ("a deferred SID beyond the table",
                             (rf"deferred: {protocol.NIC_SID} ", "deferred: 65536 "), "smmu_view.geometry"),
    "l2_not_adopted": ("a deferred SID in an L2 table not adopted",
                       (r"l2_tables_adopted_list: 0\n", "l2_tables_adopted_list: 3\n"),
                       "smmu_view.geometry"),
    "base_reg_mismatch": ("STRTAB_BASE no longer the adopted table",
                          (r"strtab_base_reg: \S+", "strtab_base_reg: 0x4000000100200000"),
                          "smmu_view.geometry"),
    "id_count_mismatch": ("an ID count that disagrees with its list",
                          (r"asids_reserved: 2\n", "asids_reserved: 3\n"), "smmu_view.geometry"),
    "deferred_ste_invalid": ("a deferred SID whose STE is invalid",
                             (r"ste=valid", "ste=invalid"), "smmu_view.deferred_streams"),
    "deferred_ste_abort": ("a deferred SID whose STE aborts",
                           (r"cfg=s1-trans", "cfg=abort"), "smmu_view.deferred_streams"),
    "deferred_no_group": ("a deferred device without an IOMMU group", "no_group",
                          "smmu_view.deferred_streams"),
    "no_outcome": ("no outcome line", (r"outcome: adopted\n", ""), "smmu_view.outcome"),
    "fallback_no_reason": ("a fallback without a reason",
                           (r"outcome: adopted", "outcome: fallback"), "smmu_view.outcome"),
    "view_missing": ("an SMMU bound to the driver without a view", "no_smmu_view",
                     "smmu_view.outcome"),
    "skip_no_vmcore": ("not a capture kernel", "no_vmcore", "skip"),
    "skip_no_view": ("a kernel without the view (base)", "no_view_dir", "skip"),
}


def make_tree(root, view, change):
    sysfs, dbg = os.path.join(root, "sys"), os.path.join(root, "debug")
    drv = os.path.join(sysfs, "bus/platform/drivers/arm-smmu-v3")
    dev = os.path.join(sysfs, "devices/pci", NIC)
    for d in (drv, os.path.join(sysfs, "devices/smmu"), os.path.join(sysfs, "kernel/iommu_groups/0"),
              dev, os.path.join(sysfs, "bus/pci/devices"), os.path.join(dbg, "arm-smmu-v3", SMMU)):
        os.makedirs(d, exist_ok=True)
    os.symlink("../../../../devices/smmu", os.path.join(drv, SMMU))
    os.symlink(f"../../../devices/pci/{NIC}", os.path.join(sysfs, "bus/pci/devices", NIC))
    if change != "no_group":
        os.symlink("../../../kernel/iommu_groups/0", os.path.join(dev, "iommu_group"))
    open(os.path.join(drv, "bind"), "w").close()
    if isinstance(change, tuple):
        view, n = re.subn(change[0], change[1], view)
        assert n, f"crafted change {change} matched nothing"
    with open(os.path.join(dbg, "arm-smmu-v3", SMMU, "kdump"), "w") as f:
        f.write(view)
    if change == "no_smmu_view":
        shutil.rmtree(os.path.join(dbg, "arm-smmu-v3", SMMU))
    if change == "no_view_dir":
        shutil.rmtree(os.path.join(dbg, "arm-smmu-v3"))
    if change != "no_vmcore":
        with open(os.path.join(root, "vmcore"), "wb") as f:
            f.write(os.urandom(1 << 20) * 3)


def run_case(binary, root):
    env = dict(os.environ, ARM_SMMU_V3_KDUMP_DEBUGFS=os.path.join(root, "debug"),
               ARM_SMMU_V3_KDUMP_SYSFS=os.path.join(root, "sys"),
               ARM_SMMU_V3_KDUMP_VMCORE=os.path.join(root, "vmcore"))
    p = subprocess.run(["qemu-aarch64-static", binary], env=env, capture_output=True,
                       text=True, timeout=120)
    results = dict((m.group(3), m.group(1) is None) for m in
                   re.finditer(r"^(not )?ok (\d+) (\S+)", p.stdout, re.M))
    return p.returncode, results, p.stdout


def checks(binary):
    """One Check per crafted case."""
    if not binary or not os.path.exists(binary):
        return [Check("selftest views", False, "no kselftest binary built")]
    out = []
    with tempfile.TemporaryDirectory(prefix="smmu-views-") as tmp:
        for name, (what, change, expect) in CASES.items():
            root = os.path.join(tmp, name)
            make_tree(root, VIEW, change)
            rc, results, text = run_case(binary, root)
            failed = sorted(t for t, ok in results.items() if not ok)
            if expect == "pass":
                ok = rc == 0 and results and not failed
            elif expect == "skip":
                ok = rc == 4 and not results and re.search(r"^1\.\.0 # SKIP", text, re.M)
            else:
                ok = rc == 1 and failed == [expect]
            got = f"exit {rc}, " + (f"not ok: {', '.join(failed)}" if failed else
                                    f"{len(results)} ok" if results else "no tests run")
            out.append(Check(f"selftest view {name}", bool(ok),
                        f"{what}: expected {expect if expect in ('pass', 'skip') else expect + ' to fail'}; {got}"))
    return out
