"""The lab's scenarios, in one place: the main kdump scenario and the fault
matrix (issue 7).

Each scenario names what the system stage does before the panic ("append":
system kernel parameters, among them lab.* parameters for /init such as a
mutation of the live SMMU state, see lab/guest/init.c) and, per variant,
what the capture kernel must do:

"outcome", the line its log must show:
  "reset"     today's behaviour: "SMMU currently enabled! Resetting..."
  "adopted"   the series' adoption line
  "fallback"  the series refused adoption, the refusal's text matching
              "reason" (a regex), then reset
  "optout"    the series' opt-out line, then reset
  "normal"    the SMMU was not enabled: neither reset nor adoption

"expect", what the DMA in flight did from the panic to the capture kernel's
takeover of each device (QEMU's trace):
  "adopted"   the NIC's DMA was translated by the crashed kernel's table:
              none untranslated, none aborted, some translated
  "damage"    the baseline: DMA untranslated or aborted while the capture
              kernel reset the SMMU (QEMU 7.2 has no GBPA: SMMUEN=0 is
              bypass)
  "granted"   only the check every run gets (verify.check_granted): no
              device got access its crashed kernel's STE did not grant
  "off"       the SMMU was off at the panic (all DMA bypass already) and the
              capture kernel enabled it (no DMA check: nothing to judge)

"gerror": the scenario latches a global error before the panic, which the
capture kernel must have acknowledged.

Every scenario is a test of the patched variant. On base, only "main" is
a test (its damage is the baseline); `make faults` runs the others on base
too and shows where today's kernel falls short of the same expectations.

"selftest_pass": kselftest cases that must pass on patched, not skip.
"modes": boot modes (default dt). "repeat": runs of it in `make faults`.
"""

MAIN = "lab.settle=2"
FALLBACK = {"base": "reset", "patched": "fallback"}
GRANTED = {"base": "granted", "patched": "granted"}
# The refusal of a table address by the crash-dump core's check
NOT_OLD_RAM = r"is not the crashed kernel's RAM"


def fault(what, mutation, reason, **kw):
    """A corrupted state the capture kernel must refuse, then reset."""
    return dict(what=what, append=f"{MAIN} lab.mutate={mutation}", outcome=FALLBACK,
                reason=reason, expect=GRANTED, **kw)


def adopted(what, params, **kw):
    """A state the capture kernel must adopt, the NIC's DMA kept translated
    (base: today's reset and its damage)."""
    return dict(what=what, append=f"{MAIN} {params}".strip(),
                outcome={"base": "reset", "patched": "adopted"},
                expect={"base": "damage", "patched": "adopted"}, **kw)


SCENARIOS = {
    "main": adopted("clean panic with the NIC receiving", "",
                    modes=["dt", "acpi"], repeat=20),
    "two_devices": adopted("clean panic on CPU 1, the NIC receiving and the disk reading",
                           "lab.disk_reader=1 lab.panic_cpu=1"),
    "nic_no_driver": adopted("clean panic, the capture kernel without the NIC's driver "
                             "(its attach stays deferred)",
                             "lab.capture=initcall_blacklist=virtio_net_driver_init",
                             selftest_pass=["smmu_view.deferred_streams"]),
    "l1_span": fault("L1 descriptor span 3 (not 0 or SPLIT+1)", "l1_span:3",
                     r"bad L1 descriptor 0 "),
    "l2ptr_zero": fault("L2 pointer 0", "l1_l2ptr:0", r"bad L1 descriptor 0 "),
    "l2ptr_misaligned": fault("L2 pointer not aligned to the L2 table's size",
                              "l1_l2ptr:0x40001040", r"bad L1 descriptor 0 "),
    "l2ptr_mmio": fault("L2 pointer into MMIO (the GIC distributor)", "l1_l2ptr:0x8000000",
                        NOT_OLD_RAM),
    "l2ptr_hole": fault("L2 pointer into a physical address hole", "l1_l2ptr:0x200000000",
                        NOT_OLD_RAM),
    "l2ptr_capture": fault("L2 pointer into the capture kernel's memory", "l1_l2ptr:crashk",
                           NOT_OLD_RAM),
    "ste_cfg_reserved": fault("the NIC's STE with the reserved Config 0b010", "ste_cfg:2",
                              r"cannot reserve the IDs of SID 8's STE"),
    "cd_ptr_garbage": fault("the NIC's S1ContextPtr beyond the output address size",
                            "ste_ctxptr:0xffffffffffc0", r"cannot reserve the IDs of SID 8's STE"),
    "cd_ptr_mmio": fault("the NIC's S1ContextPtr into MMIO (the GIC distributor)",
                         "ste_ctxptr:0x8000000", NOT_OLD_RAM),
    "strtab_geometry": fault("STRTAB_BASE_CFG.LOG2SIZE 17, beyond the SMMU's SIDSIZE 16",
                             "strtab_log2size:17", r"LOG2SIZE 17 exceeds SIDSIZE 16"),
    "gerror_latched": adopted("a command queue error latched in GERROR at the panic",
                              "lab.mutate=gerror_cmdq", gerror=True),
    "passthrough": {
        "what": "the system kernel booted with iommu.passthrough=1 (bypass STEs)",
        "append": f"{MAIN} iommu.passthrough=1",
        "outcome": {"base": "reset", "patched": "adopted"},
        "expect": GRANTED,
    },
    "optout": {
        "what": "the capture kernel given arm_smmu_v3.kdump_adopt=0",
        "append": f"{MAIN} lab.capture=arm_smmu_v3.kdump_adopt=0",
        "outcome": {"base": "reset", "patched": "optout"},
        "expect": {"base": "damage", "patched": "damage"},
    },
    "smmu_off": {
        "what": "the SMMU disabled before the panic",
        "append": f"{MAIN} lab.mutate=smmu_off",
        "outcome": {"base": "normal", "patched": "normal"},
        "expect": {"base": "off", "patched": "off"},
    },
}
