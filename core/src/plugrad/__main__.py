"""``python -m plugrad info``: versions, plugins, devices and dtypes."""

import sys

from .plugins.registry import info_report


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] not in ([], ["info"]):
        print("usage: python -m plugrad info", file=sys.stderr)
        return 2
    print(info_report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
