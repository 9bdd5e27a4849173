#!/usr/bin/env python3
"""Check a built lvs.ipvs docs site: a page for every plugin, role and guide, and no warning but offline ones.

usage: check_site.py COLLECTION_DIR HTML_DIR SPHINX_WARNINGS_FILE
"""

import json
import os
import re
import subprocess
import sys

import yaml

# Offline, Sphinx cannot fetch docs.ansible.com's inventory, so labels that
# live there (common_return_values, other collections' plugins) are undefined.
# A broken label of this collection is never allowed.
OFFLINE = re.compile(
    r"failed to reach any of the inventories|^intersphinx inventory "
    r"|undefined label: '(?!ansible_collections\.lvs\.ipvs\.)"
)
NOT_PLUGIN_TYPES = {"action", "doc_fragments", "module_utils", "plugin_utils"}


def plugin_pages(coll):
    """The plugins ansible-doc lists, as antsibull-docs names their pages."""
    pages = []
    for pdir in sorted(set(os.listdir(os.path.join(coll, "plugins"))) - NOT_PLUGIN_TYPES):
        ptype = "module" if pdir == "modules" else pdir
        listing = subprocess.run(
            ["ansible-doc", "-t", ptype, "--list", "--json", "lvs.ipvs"], capture_output=True, text=True, check=True
        ).stdout
        pages += [f"{name.split('.')[-1]}_{ptype}.html" for name in json.loads(listing or "{}")]
    return pages


def role_pages(coll):
    """Every role with argument specs has a page."""
    roles = os.path.join(coll, "roles")
    specs = [r for r in sorted(os.listdir(roles)) if os.path.exists(f"{roles}/{r}/meta/argument_specs.yml")]
    return [f"{r}_role.html" for r in specs]


def guide_pages(coll):
    """Every guide of extra-docs.yml and every RST file under docs/docsite/rst; errors for a guide in no section."""
    with open(os.path.join(coll, "docs/docsite/extra-docs.yml"), encoding="utf-8") as f:
        extra = yaml.safe_load(f)
    refs = {e if isinstance(e, str) else e["ref"] for s in extra["sections"] for e in s["toctree"]}
    rst_dir = os.path.join(coll, "docs/docsite/rst")
    files = {
        os.path.relpath(os.path.join(d, f), rst_dir)[: -len(".rst")]
        for d, _, names in os.walk(rst_dir)
        for f in names
        if f.endswith(".rst")
    }
    errors = [f"guide {f}.rst is in no section of extra-docs.yml" for f in sorted(files - refs)]
    return [f"docsite/{r}.html" for r in sorted(refs | files)], errors


def main(coll, html, warnings):
    base = os.path.join(html, "collections", "lvs", "ipvs")
    guides, errors = guide_pages(coll)
    expected = plugin_pages(coll) + role_pages(coll) + guides
    missing = [p for p in expected if not os.path.isfile(os.path.join(base, p))]
    errors += [f"missing page {p}" for p in missing]
    with open(warnings, encoding="utf-8") as f:
        errors += [f"sphinx: {line.rstrip()}" for line in f if line.strip() and not OFFLINE.search(line)]
    print(f"{len(expected)} pages expected, {len(expected) - len(missing)} present")
    for e in errors:
        print("ERROR:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
