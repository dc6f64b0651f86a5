"""The collections this project depends on, for scripts/setup.sh (no Galaxy on our machines).

One declaration per purpose: the run-time dependencies in galaxy.yml, and the collections only
the tests and the lab use in tests/requirements.yml (Galaxy requirements format).

  dep_collections.py declared            "name:minimum" of each, sorted (setup's stamp)
  dep_collections.py unpack WHEEL DEST   extract them from the `ansible` wheel into DEST; fails,
                                         extracting nothing, when one is missing from the wheel
                                         or older than declared
"""
import json
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("galaxy.yml", "tests/requirements.yml")


def declared():
    """Return {name: (version spec, file that declares it)}."""
    deps = {}
    galaxy = yaml.safe_load((ROOT / SOURCES[0]).read_text()) or {}
    items = [(name, spec, SOURCES[0]) for name, spec in (galaxy.get("dependencies") or {}).items()]
    tests = yaml.safe_load((ROOT / SOURCES[1]).read_text()) or {}
    for item in tests.get("collections") or []:
        if isinstance(item, str):
            items.append((item, "*", SOURCES[1]))
        else:
            items.append((item["name"], item.get("version", "*"), SOURCES[1]))
    for name, spec, source in items:
        if name in deps:
            sys.exit(f"{name} is declared in both {deps[name][1]} and {source}: keep one")
        deps[name] = (str(spec), source)
    return deps


def unpack(wheel, dest):
    """Extract the declared collections from the wheel after checking their versions."""
    from ansible.galaxy.dependency_resolution.versioning import meets_requirements  # noqa: PLC0415 (slow import)

    deps = declared()
    errors = []
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        members = []
        for name, (spec, source) in sorted(deps.items()):
            prefix = f"ansible_collections/{name.replace('.', '/')}/"
            found = [m for m in names if m.startswith(prefix)]
            if prefix + "MANIFEST.json" not in found:
                errors.append(f"{name} ({spec} in {source}) is not in {Path(wheel).name}")
                continue
            version = json.loads(whl.read(prefix + "MANIFEST.json"))["collection_info"]["version"]
            print(f"[setup]   {name} {version} ({spec} in {source})")
            if not meets_requirements(version, spec):
                errors.append(f"{name} {version} in {Path(wheel).name} does not satisfy {spec} declared in {source}")
            members += found
        if errors:
            sys.exit("".join(f"[setup] {e}\n" for e in errors)
                     + "[setup] choose an ANSIBLE_BUNDLE that ships them, or correct the declaration")
        whl.extractall(dest, members)
    print(f"[setup] unpacked {len(members)} files")


def main(argv):
    if argv[:1] == ["declared"] and len(argv) == 1:
        print(" ".join(f"{name}:{spec}" for name, (spec, _source) in sorted(declared().items())))
    elif argv[:1] == ["unpack"] and len(argv) == 3:
        unpack(argv[1], argv[2])
    else:
        sys.exit("usage: dep_collections.py declared | unpack WHEEL DEST")


if __name__ == "__main__":
    main(sys.argv[1:])
