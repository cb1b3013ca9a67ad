"""What the lab prints: one PASS/FAIL line per check, the A/B table of the
demo, the fault matrix, the verdicts, and the closing "N passed, N failed"."""
import dataclasses

import protocol
from evidence import dma_summary
from scenarios import SCENARIOS, is_test
from verify import fmt_dma


@dataclasses.dataclass
class Row:
    """A matrix row: a scenario's run (or its repeats) and its checks."""
    scenario: str        # a scenario's name, or "NAME xN" for repeats
    variant: str
    mode: str
    checks: list
    observed: str
    config: str = "lab"
    guest: str = "init"

    @property
    def kernel(self):
        """The variant, with its configuration and guest where not the
        default ones (the guest "kexec": kexec-tools loaded the capture
        kernel)."""
        return "-".join(x for x in (self.guest if self.guest != "init" else "",
                                    self.config if self.config != "lab" else "",
                                    self.variant) if x)

    @property
    def is_test(self):
        return is_test(self.scenario.split()[0], self.variant)

    @property
    def failed(self):
        return [c.name for c in self.checks if not c.ok]


def report(prefix, checks):
    """One line per check; returns (passed, failed)."""
    passed = failed = 0
    for c in checks:
        passed, failed = passed + bool(c.ok), failed + (not c.ok)
        print(f"{'PASS' if c.ok else 'FAIL'} {prefix} {c.name}: {c.detail}", flush=True)
    return passed, failed


def report_rows(rows):
    """Every check of the rows; counts those of the rows that are tests."""
    passed = failed = 0
    for r in rows:
        prefix = f"{r.kernel}/{r.mode}/{r.scenario}"
        if r.is_test:
            p, f = report(prefix, r.checks)
            passed, failed = passed + p, failed + f
        else:
            for c in r.checks:
                print(f"{'BASE-OK' if c.ok else 'BASE-SHORT'} {prefix} {c.name}: {c.detail}")
    return passed, failed


def expected(row):
    sc = SCENARIOS.get(row.scenario)
    if not sc:
        return "every run green"
    out, dma = sc.log_outcome[row.variant], sc.dma[row.variant]
    if isinstance(out, tuple):
        # Several SMMUs: each one's outcome and DMA expectation.
        reasons = sc.reason or (None,) * len(out)
        return ", ".join(o + (f" /{r}/" if o == "fallback" else "")
                         for o, r in zip(out, reasons, strict=True)) + "; " + ", ".join(dma)
    return out + (f" /{sc.reason}/" if out == "fallback" else "") + \
        f"; {dma}" + ("; GERROR acked" if sc.gerror else "")


def print_matrix(rows):
    """The table: scenario x variant: expected, observed, result."""
    print()
    print("Fault matrix: scenario, variant/mode, expected (outcome; DMA), observed, result")
    for r in rows:
        if r.is_test:
            result = "MATCH" if not r.failed else "MISMATCH: " + ", ".join(r.failed)
        else:
            result = "base meets it" if not r.failed else \
                "base falls short: " + ", ".join(r.failed)
        print(f"  {r.scenario:<17} {r.kernel + '/' + r.mode:<19} expected {expected(r):<50} "
              f"observed {r.observed:<50} {result}")
    tests = [r for r in rows if r.is_test]
    others = [r for r in rows if not r.is_test]
    good = sum(1 for r in tests if not r.failed)
    print(f"{good} of {len(tests)} rows as expected"
          + (f"; base falls short in {sum(1 for r in others if r.failed)}"
             f" of {len(others)} comparison rows" if others else ""))


def dma_lines(ev):
    """Per DMA device: its counts from the panic to its takeover."""
    td = ev.trace
    if "error" in td:
        return [td["error"]]
    out = []
    for sid, (name, _) in protocol.dma_devices(ev.run.machine).items():
        took = "taken over by the capture kernel" if sid in td["taken"] else "never taken over"
        out.append(f"sid {sid:#x} {name}, panic to takeover: "
                   f"{fmt_dma(dma_summary(td, sid))}; {took}")
    return out


def verdict(variant, checks):
    d = {c.name: c for c in checks}
    good = all(c.ok for c in checks)
    saved = "vmcore saved and verified" if all(
        k in d and d[k].ok for k in ("(a) capture", "(b) vmcore", "(c) vmcore-dmesg",
                                     "(d) crash")) else "vmcore NOT verified"
    dma = d["(e) NIC DMA"].detail.split("; ", 1)[-1] if "(e) NIC DMA" in d else "no data"
    return f"{variant}: {'as expected' if good else 'NOT as expected'}: {saved}; " \
           f"NIC DMA from panic to takeover: {dma}"


def demo_table(table, evidence):
    """The demo: {(variant, mode): checks} and {(variant, mode): Evidence}."""
    print()
    print("A/B: main scenario (panic with the NIC receiving), per variant and boot mode")
    cols = list(table)
    width = 20
    print(f"{'check':<22}" + "".join(f"{v + '/' + m:<{width}}" for v, m in cols))
    for c0 in table[cols[0]]:
        row = f"{c0.name:<22}"
        for col in cols:
            ok = next((c.ok for c in table[col] if c.name == c0.name), None)
            row += f"{'-' if ok is None else ('pass' if ok else 'FAIL'):<{width}}"
        print(row)
    print()
    for col in cols:
        for c in table[col]:
            print(f"  {col[0]}/{col[1]} {c.name}: {c.detail}")
        for ln in dma_lines(evidence[col]):
            print(f"  {col[0]}/{col[1]} {ln}")
    print()
    for col in cols:
        print("VERDICT " + verdict(col[0], table[col]) + f" [{col[1]}]")
