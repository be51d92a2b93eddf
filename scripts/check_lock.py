"""Does each lock still match pyproject.toml? Offline: reads the files, asks no index.

    python scripts/check_lock.py requirements.lock requirements-dev.lock
    python scripts/check_lock.py --stamp --extras prod,test requirements-dev.lock

A lock matches when
- it carries the fingerprint of pyproject.toml's dependency tables that `make lock` wrote into
  its header (`# pyproject.toml: sha256=… extras=…`), so any edit to `requires-python`,
  `dependencies` or `optional-dependencies` without `make lock` fails;
- every requirement of `dependencies` and of the extras it was made for is in it, at a version
  the requirement's specifier allows (each version, where the lock pins one per Python version);
- every package in it is pinned with `==` and has at least one `--hash`;
- the locks given together pin a package they share to the same versions (the server installs
  what the tests ran on).
What a requirement's own extras pull in (`psycopg[binary]`) is left to the resolver: knowing it
needs the packages' metadata. Exit 0 when all match, 1 with one line per problem otherwise.
`--stamp` (what `make lock` runs after uv) writes the fingerprint line; it needs no `packaging`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from itertools import pairwise
from pathlib import Path

STAMP = re.compile(r"^# pyproject\.toml: sha256=(?P<digest>[0-9a-f]{64}) extras=(?P<extras>\S*)$")
STAMP_PREFIX = "# pyproject.toml: sha256="


def load_project(pyproject: Path) -> dict:
    with pyproject.open("rb") as f:
        return tomllib.load(f).get("project", {})


def fingerprint(project: dict) -> str:
    """The sha256 of the dependency tables as parsed (comments and layout do not count)."""
    tables = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
    }
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


def stamp_line(project: dict, extras: list[str]) -> str:
    return f"{STAMP_PREFIX}{fingerprint(project)} extras={','.join(sorted(extras))}"


def write_stamp(pyproject: Path, lock: Path, extras: list[str]) -> None:
    """Put the fingerprint line at the end of the lock's header comment, replacing an old one."""
    project = load_project(pyproject)
    unknown = sorted(set(extras) - set(project.get("optional-dependencies", {})))
    if unknown:
        raise SystemExit(f"{pyproject} has no extra named {', '.join(unknown)}")
    lines = [line for line in lock.read_text().splitlines() if not line.startswith(STAMP_PREFIX)]
    header = 0
    while header < len(lines) and lines[header].startswith("#"):
        header += 1
    lines.insert(header, stamp_line(project, extras))
    lock.write_text("\n".join(lines) + "\n")


def logical_lines(text: str) -> list[str]:
    """The lock's requirement lines, backslash continuations joined and comments dropped."""
    joined, current = [], ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            joined.append(current.strip())
        current = ""
    if current.strip():
        joined.append(current.strip())
    return joined


def read_lock(lock: Path) -> tuple[dict[str, list[str]], list[str], re.Match | None]:
    """The pinned versions by canonical name, the problems of the lines, the stamp."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    text = lock.read_text()
    stamp = next(
        (m for m in (STAMP.match(line) for line in text.splitlines()) if m is not None), None
    )
    pins: dict[str, list[str]] = {}
    problems = []
    for line in logical_lines(text):
        if line.startswith("-"):
            problems.append(f"{lock}: an option the lock should not hold: {line}")
            continue
        parts = line.split()
        hashes = [p for p in parts if p.startswith("--hash=")]
        spec = " ".join(p for p in parts if not p.startswith("--hash="))
        try:
            req = Requirement(spec)
        except InvalidRequirement as e:
            problems.append(f"{lock}: cannot read {spec!r}: {e}")
            continue
        pinned = [s.version for s in req.specifier if s.operator == "=="]
        if len(pinned) != 1 or len(req.specifier) != 1 or req.url:
            problems.append(f"{lock}: {req.name} is not pinned to one version with ==")
            continue
        if not hashes:
            problems.append(f"{lock}: {req.name}=={pinned[0]} has no --hash")
        pins.setdefault(canonicalize_name(req.name), []).append(pinned[0])
    return pins, problems, stamp


def check(pyproject: Path, locks: list[Path]) -> list[str]:
    """Every way the locks fail to match pyproject.toml, one message each; [] when they match."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = load_project(pyproject)
    optional = project.get("optional-dependencies", {})
    problems: list[str] = []
    all_pins: dict[Path, dict[str, list[str]]] = {}
    for lock in locks:
        if not lock.is_file():
            problems.append(f"{lock} is missing: run `make lock`")
            continue
        pins, lock_problems, stamp = read_lock(lock)
        all_pins[lock] = pins
        problems += lock_problems
        if stamp is None:
            problems.append(f"{lock} has no pyproject.toml fingerprint: run `make lock`")
            continue
        extras = [e for e in stamp["extras"].split(",") if e]
        if stamp["digest"] != fingerprint(project):
            problems.append(
                f"{lock} was made for other dependencies than pyproject.toml's "
                "(they were edited since): run `make lock`"
            )
        sources = [("dependencies", project.get("dependencies", []))]
        for extra in extras:
            if extra not in optional:
                problems.append(f"{lock} was made for extra {extra!r}, which pyproject lacks")
            sources.append((f"extra {extra!r}", optional.get(extra, [])))
        for where, requirements in sources:
            for text in requirements:
                req = Requirement(text)
                versions = pins.get(canonicalize_name(req.name))
                if not versions:
                    problems.append(f"{text} ({where}) is not in {lock}: run `make lock`")
                    continue
                for version in versions:
                    if not req.specifier.contains(version, prereleases=True):
                        problems.append(
                            f"{text} ({where}): {lock} pins {req.name}=={version}, "
                            "which it does not allow: run `make lock`"
                        )
    for (a, pins_a), (b, pins_b) in pairwise(all_pins.items()):
        for name in sorted(pins_a.keys() & pins_b.keys()):
            if sorted(pins_a[name]) != sorted(pins_b[name]):
                problems.append(
                    f"{name}: {a} pins {', '.join(pins_a[name])} but {b} pins "
                    f"{', '.join(pins_b[name])}: run `make lock`"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("locks", nargs="+", type=Path)
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    parser.add_argument("--stamp", action="store_true", help="write the fingerprint line")
    parser.add_argument("--extras", default="", help="with --stamp: the lock's extras, a,b")
    args = parser.parse_args(argv)
    if args.stamp:
        for lock in args.locks:
            write_stamp(args.pyproject, lock, [e for e in args.extras.split(",") if e])
        return 0
    problems = check(args.pyproject, args.locks)
    for problem in problems:
        print(f"lock check: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"lock check: {', '.join(map(str, args.locks))} match {args.pyproject}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
