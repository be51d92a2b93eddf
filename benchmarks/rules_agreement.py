"""Print the per-rule agreement of the official rule sets with their own published unit tests.

Usage: python -m benchmarks.rules_agreement [RULES_DIR]   (default: EINVOICE_RULES_DIR, then
../shared/data). Each unit-test file states, per test, which rule must fire (error or warning)
and which must pass; agreement is the share of those statements the engine reproduces.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.einvoice import rules

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# (label, folder with unit tests under the rules folder, the kind whose rule sets answer them)
UNIT_SETS = (
    ("EN 16931 UBL Invoice", "ubl/en16931/unit-Invoice-UBL", "en16931"),
    ("EN 16931 UBL CreditNote", "ubl/en16931/unit-CreditNote-UBL", "en16931"),
    ("Peppol BIS 3 UBL", "ubl/peppol-bis-billing-3/unit-UBL-PEPPOL", "peppol"),
)


@dataclass
class Tally:
    """Agreement counts for one unit-test set."""

    agreed: int = 0
    total: int = 0
    files: int = 0
    disagreements: list[str] = field(default_factory=list)


def run_unit_file(path: Path, kind: str, rules_dir: Path) -> list[tuple[str, bool]]:
    """Return (description, agreed) for every rule statement in one unit-test file."""
    results = []
    for test in rules.read_test_set(path):
        findings = [
            f
            for name in rules.KIND_RULE_SETS[kind]
            for f in rules.run_rule_set(test.document, name, rules_dir)
        ]
        for expectation in test.expectations:
            agreed = rules.judge(expectation, findings)
            count = f" x{expectation.count}" if expectation.count else ""
            stated = f"{expectation.outcome} {expectation.rule}{count}"
            label = f"{path.name} test {test.index}: {stated}"
            results.append((label, agreed))
    return results


def measure(rules_dir: Path) -> dict[str, Tally]:
    """Run every unit-test set present under rules_dir and tally the agreement."""
    tallies = {}
    for label, folder, kind in UNIT_SETS:
        directory = rules_dir / folder
        if not directory.is_dir():
            continue
        tally = Tally()
        for path in sorted(directory.glob("*.xml")):
            tally.files += 1
            for description, agreed in run_unit_file(path, kind, rules_dir):
                tally.total += 1
                tally.agreed += agreed
                if not agreed:
                    tally.disagreements.append(description)
        tallies[label] = tally
    return tallies


def main(argv: list[str] | None = None) -> int:
    """Print the agreement per unit-test set and overall; list any disagreement."""
    args = sys.argv[1:] if argv is None else argv
    rules_dir = Path(args[0]) if args else (rules.rules_dir_from_env() or SHARED_DATA)
    if not rules_dir.is_dir():
        print(f"rules folder {rules_dir} not found")
        return 2
    started = time.perf_counter()
    tallies = measure(rules_dir)
    agreed = sum(t.agreed for t in tallies.values())
    total = sum(t.total for t in tallies.values())
    print("Official rules vs. their published unit tests (per-rule statements agreed)")
    for label, tally in tallies.items():
        share = 100 * tally.agreed / tally.total if tally.total else 0
        print(
            f"  {label:26} {tally.agreed:4}/{tally.total:<4} = {share:6.2f} %"
            f"  ({tally.files} files)"
        )
        for description in tally.disagreements:
            print(f"      disagrees: {description}")
    share = 100 * agreed / total if total else 0
    print(
        f"  {'overall':26} {agreed:4}/{total:<4} = {share:6.2f} %"
        f"  in {time.perf_counter() - started:.1f} s, {rules.compiled_count()} stylesheets "
        "compiled once each"
    )
    return 0 if agreed == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
