"""``python tests/functional/catalog/croissant_check.py FILE…``: every file's mlcroissant errors and warnings, as
JSON on standard output.

mlcroissant validates offline (it reads the metadata only, never the data) but loads pandas and rdflib and
logs through absl, so the tests run it in a process of its own, once for many files, as ``mlcroissant validate``
would: ``mlcroissant.Dataset(jsonld=path)`` raises on an error and records warnings on the metadata's context.
"""

from __future__ import annotations

import json
import sys


def main(paths: list[str]) -> None:
    import absl.logging
    import mlcroissant as mlc

    absl.logging.set_verbosity(absl.logging.FATAL)
    report: dict[str, dict[str, list[str]]] = {}
    for path in paths:
        try:
            issues = mlc.Dataset(jsonld=path).metadata.ctx.issues
            report[path] = {"errors": sorted(issues.errors), "warnings": sorted(issues.warnings)}
        except mlc.ValidationError as error:
            report[path] = {"errors": [str(error)], "warnings": []}
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
