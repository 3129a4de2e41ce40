#!/usr/bin/python3
"""Test helper: subscribes to change events of a device's attributes and prints each as one JSON line.

    subscribe.py tango://127.0.0.1:PORT/dom/fam/mem#dbase=no State completedEvents ...

Lines: {"ready": true} once subscribed, then {"attr", "value" and "quality" | "error", "t"} per event
(t = epoch seconds at arrival). Runs until stdin closes.
"""
import json
import sys
import time

import tango


def plain(value):
    if type(value).__name__ == "DevState":  # a Boost enum: isinstance does not see it
        return str(value)
    return value.tolist() if hasattr(value, "tolist") else value


def report(attr, event):
    line = {"attr": attr, "t": time.time()}
    if event.err:
        line["error"] = event.errors[0].reason
    else:
        line["value"] = plain(event.attr_value.value)
        line["quality"] = str(event.attr_value.quality)
    print(json.dumps(line), flush=True)


def main():
    device = tango.DeviceProxy(sys.argv[1])
    ids = [device.subscribe_event(attr, tango.EventType.CHANGE_EVENT, lambda event, attr=attr: report(attr, event))
           for attr in sys.argv[2:]]
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.read()
    for i in ids:
        device.unsubscribe_event(i)


if __name__ == "__main__":
    main()
