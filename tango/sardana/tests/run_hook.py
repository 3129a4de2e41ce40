"""Runs the dranspose_announce macro as Sardana would before a scan, with the Sardana stand-in.

Argument: JSON {"url": controller, "parent": {"name": scan macro, attribute: value…} | null, "env": {Door environment}}.
Prints what the macro printed, as JSON [[kind, message]…]."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, 'standin'), os.path.dirname(HERE)]

from dranspose_hook import dranspose_announce  # noqa: E402
from sardana.macroserver.macro import ScanMacro  # noqa: E402

request = json.loads(sys.argv[1])
parent = request.get('parent')
macro = dranspose_announce(parent=parent and ScanMacro(parent.pop('name'), **parent), env=request.get('env'))
macro.run(request['url'])
print(json.dumps(macro.printed))
