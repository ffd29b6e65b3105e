"""The optional C accelerator for fast typed calls; everything else is in pyproject.toml.

`optional=True`: without a C compiler (or Python headers) the build warns and
installs without `dataflare.abi._fastc`, and fast calls stay in Python.
"""

from setuptools import Extension, setup

_DIR = "host/dataflare/abi/"

setup(
    ext_modules=[
        Extension(
            "dataflare.abi._fastc",
            sources=[
                _DIR + f for f in ("_fastc.c", "_fastc_plan.c", "_fastc_lower.c", "_fastc_lift.c")
            ],
            depends=[_DIR + "_fastc.h"],
            extra_compile_args=["-std=c99", "-O2", "-fvisibility=hidden"],
            optional=True,
        )
    ]
)
