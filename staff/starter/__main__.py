"""Build the student starter kit and check it: `make starter`.

    python -m staff.starter [--out dist/hw4-starter] [--zip dist/hw4-starter.zip]

Builds the kit (staff/starter/build.py), runs the fast static checks on it
(staff/starter/checks.py) and, if they pass, writes the zip. Running the kit's drivers and
tests is staff/tests/test_starter_kit.py's job.

Exit codes: 0 built and checked, 1 a check failed (the problems are listed), 2 usage error.
"""

import argparse
import sys
from pathlib import Path

from staff.starter import checks
from staff.starter.build import ROOT, build, write_zip
from staff.starter.regions import StarterError


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m staff.starter",
                                     description="Build and check the student starter kit.")
    parser.add_argument("--root", type=Path, default=ROOT, help="the reference repository")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "hw4-starter",
                        help="folder to write (replaced if this tool wrote it before)")
    parser.add_argument("--zip", type=Path, default=ROOT / "dist" / "hw4-starter.zip",
                        help="zip to write (replaced)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        regions = build(args.root, args.out)
    except StarterError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    problems = checks.verify(args.root, args.out, regions)
    for problem in problems:
        print(f"CHECK FAILED: {problem}", file=sys.stderr)
    if problems:
        print(f"the starter in {args.out} is NOT ready ({len(problems)} problems)",
              file=sys.stderr)
        return 1
    write_zip(args.out, args.zip)
    files = sum(1 for path in args.out.rglob("*") if path.is_file())
    print(f"starter kit: {args.out}/ and {args.zip} ({len(regions)} solution regions removed, "
          f"{files} files); static checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
