"""Build the portal's icon sprite from the lucide-static npm package: only the icons it uses.

    cd /tmp && npm pack lucide-static@1.87.0 && tar xzf lucide-static-1.87.0.tgz
    python scripts/build_icons.py /tmp/package

writes app/static/vendor/lucide-<version>-sprite.svg: one <symbol id="NAME"> per icon below,
drawn with the package's own paths and stroke settings. Templates show one with the
``icon(name)`` macro (app/templates/macros/icons.html); tests/blueprints/test_shell.py checks
that every icon a template or the navigation names is in the sprite. To add an icon, add its
name to ICONS, run this again and commit the new sprite.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "app" / "static" / "vendor"

ICONS = (
    "bell",
    "book-user",
    "building-2",
    "clipboard-list",
    "credit-card",
    "file-plus",
    "file-text",
    "file-up",
    "hash",
    "house",
    "inbox",
    "lightbulb",
    "menu",
    "message-square-warning",
    "network",
    "package",
    "scroll-text",
    "send",
    "shield-check",
    "shopping-cart",
    "sliders-horizontal",
    "store",
    "users",
    "wallet",
    "webhook",
)

SVG = "http://www.w3.org/2000/svg"
# What each lucide icon sets on its <svg>; a <symbol> keeps it so <use> draws it the same way.
DRAWING = ("fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin")


def symbol(source: Path, name: str) -> str:
    """Return the <symbol> of one icon file of the package."""
    root = ET.fromstring(source.read_text(encoding="utf-8"))  # noqa: S314 (a package we chose)
    attributes = {"id": name, "viewBox": root.get("viewBox", "0 0 24 24")}
    attributes.update({key: root.get(key) for key in DRAWING if root.get(key)})
    body = "".join(
        re.sub(r' xmlns(:\w+)?="[^"]*"', "", ET.tostring(child, encoding="unicode")).strip()
        for child in root
    )
    attrs = " ".join(f'{key}="{value}"' for key, value in attributes.items())
    return f"<symbol {attrs}>{body}</symbol>"


def build(package: Path) -> Path:
    """Write the sprite from an extracted lucide-static package; return its path."""
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    notice = (package / "LICENSE").read_text(encoding="utf-8").splitlines()[2].strip()
    symbols = "\n".join(symbol(package / "icons" / f"{name}.svg", name) for name in ICONS)
    out = VENDOR / f"lucide-{version}-sprite.svg"
    out.write_text(
        f"<!-- lucide-static v{version}, the icons the portal uses (scripts/build_icons.py).\n"
        f"{notice} ISC licence: https://lucide.dev/license -->\n"
        f'<svg xmlns="{SVG}">\n{symbols}\n</svg>\n',
        encoding="utf-8",
    )
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/build_icons.py PATH/TO/EXTRACTED/lucide-static/package")
    ET.register_namespace("", SVG)
    print(build(Path(sys.argv[1])))
