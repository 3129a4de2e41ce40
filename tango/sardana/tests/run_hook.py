"""Runs the dranspose_announce macro as Sardana would before a scan, with the Sardana stand-in.

Argument: JSON {"url": controller, "parent": {"name": scan macro, attribute: value…} | {"macro": kind,
"args": [...]} (a scan macro of scan_macros.py with the attributes Sardana's sets) | null,
"env": {Door environment}}. Prints what the macro printed, as JSON [[kind, message]…]."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, 'standin'), os.path.dirname(HERE)]

from dranspose_hook import dranspose_announce  # noqa: E402
from sardana.macroserver.macro import ScanMacro  # noqa: E402
from scan_macros import scan_macro  # noqa: E402

request = json.loads(sys.argv[1])
parent = request.get('parent')
if parent and 'macro' in parent:
    parent = scan_macro(parent['macro'], *parent['args'])
elif parent:
    parent = ScanMacro(parent.pop('name'), **parent)
macro = dranspose_announce(parent=parent, env=request.get('env'))
macro.run(request['url'])
print(json.dumps(macro.printed))
