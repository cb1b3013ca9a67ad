"""The lab's scenarios, in one place.

Each scenario names what the system stage does before the panic (extra
kernel parameters for the system kernel, "lab.*" parameters for /init, a
mutation) and what each variant's capture kernel is expected to do with the
DMA in flight on each device:

  "damage"   the baseline: DMA passes untranslated while the capture kernel
             resets the SMMU (QEMU 7.2 has no GBPA: SMMUEN=0 is bypass)
  "adopted"  every DMA from the panic to the end of the capture kernel's SMMU
             probe is translated by the crashed kernel's table: none
             untranslated, none aborted, some translated
"""

# What the capture kernel's log must show, per variant:
#   "reset"     today's behaviour: "SMMU currently enabled! Resetting..."
#   "adopted"   the series' adoption line
#   "fallback"  the series refused adoption with the scenario's reason, then reset
#   "optout"    the series' opt-out line, then reset
#   "normal"    the SMMU was not enabled: neither reset nor adoption
SCENARIOS = {
    "main": {
        "what": "clean panic with the NIC receiving",
        "append": "lab.settle=2",
        "outcome": {"base": "reset", "patched": "adopted"},
        "expect": {"base": "damage", "patched": "adopted"},
        "modes": ["dt", "acpi"],
    },
}
