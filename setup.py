"""The optional C accelerator for fast typed calls; everything else is in pyproject.toml.

`optional=True`: without a C compiler (or Python headers) the build warns and
installs without `dataflare.bindgen._fastc`, and fast calls stay in Python.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dataflare.bindgen._fastc",
            sources=["host/dataflare/bindgen/_fastc.c"],
            extra_compile_args=["-std=c99", "-O2"],
            optional=True,
        )
    ]
)
