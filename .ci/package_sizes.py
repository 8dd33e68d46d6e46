"""Checks each function package `sam build` wrote against the size budget.

Lambda's limit for a zip uploaded directly is 50 MB; ours is far smaller on purpose (cold start
reads the whole binary): every function's package, zipped as `sam deploy` uploads it, must stay
within BUDGET_BYTES. Prints each size.

Usage: python package_sizes.py .aws-sam/build
"""

import io
import os
import sys
import zipfile

BUDGET_BYTES = 6_000_000


def zipped_size(directory):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for root, _, files in os.walk(directory):
            for name in sorted(files):
                path = os.path.join(root, name)
                archive.write(path, os.path.relpath(path, directory))
    return buffer.tell()


def main(build_dir):
    functions = sorted(
        name
        for name in os.listdir(build_dir)
        if os.path.isfile(os.path.join(build_dir, name, "bootstrap"))
    )
    if not functions:
        print(f"no function package (a bootstrap) under {build_dir}")
        return 1
    over = []
    for name in functions:
        size = zipped_size(os.path.join(build_dir, name))
        print(f"{name}: {size / 1e6:.2f} MB zipped (budget {BUDGET_BYTES / 1e6:.0f} MB)")
        if size > BUDGET_BYTES:
            over.append(name)
    if over:
        print("over the budget: " + ", ".join(over))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
