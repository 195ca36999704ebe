"""What every command shares on its way out: exit codes and JSON printing."""

from __future__ import annotations

import json
import sys

#: 0 success; 1 an error (nothing done); 2 bad usage (argparse); 3 a batch finished but some
#: items failed (each failure is reported).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
