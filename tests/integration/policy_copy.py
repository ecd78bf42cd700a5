"""Copies the shipped policy into a temporary folder with a few config knobs changed, the way
an operator edits config.lua, so a test can run the real policy with, say, rate limits off."""
import atexit
import os
import shutil
import tempfile

import stack


def policy_with(lua_patch):
    """A copy of runtime/policy whose config.lua is the shipped one with lua_patch applied to
    the table `c` (e.g. "c.rate_limit.enabled = false"). The copy is removed when the process exits."""
    src = os.path.join(stack.SOURCE_DIR, "runtime", "policy")
    dst = tempfile.mkdtemp(prefix="imagegen-policy-")
    atexit.register(shutil.rmtree, dst, True)
    for name in os.listdir(src):
        if name.endswith(".lua"):
            shutil.copy(os.path.join(src, name), dst)
    os.rename(os.path.join(dst, "config.lua"), os.path.join(dst, "shipped_config.lua"))
    with open(os.path.join(dst, "config.lua"), "w") as f:
        f.write('local c = require("shipped_config")\n%s\nreturn c\n' % lua_patch)
    return dst
