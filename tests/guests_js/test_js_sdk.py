"""The JS SDK's unit tests (guest-examples/js/test/*.test.mjs), run by node's test runner.

They cover what a component cannot show cheaply: every malformed-batch rule
one by one, foreign-realm Uint8Arrays, the dropped-BOM repair, and the
aggregate and source helpers, which no example component uses yet.
"""

from __future__ import annotations

import subprocess

from support.guests import ROOT
from support.tools import require_tool

JS = ROOT / "guest-examples" / "js"


def test_node_unit_tests_pass():
    node = require_tool("node", "apt-get install nodejs npm")
    proc = subprocess.run(
        [node, "--test", "--test-reporter=tap", str(JS / "test")],
        capture_output=True,
        text=True,
        check=False,
        cwd=JS,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout and "# pass 0" not in proc.stdout, proc.stdout[-2000:]
