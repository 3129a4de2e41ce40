#!/usr/bin/python3
"""A dranspose pipeline as a native Tango device (PyTango, run with Debian's /usr/bin/python3).

The device model lives in the Node controller and is served in the Tango REST API v1.1 shapes under
/tango/rest/v11/.../devices/{name}. This server only mirrors it: it builds its attributes and
commands from that model, polls the bulk value endpoint in a background thread, serves the cached
values, pushes a change event whenever a value changes, and forwards writes and commands. When the
controller cannot be reached the device is FAULT and says so in Status; it recovers by itself.

With a Tango database the controller URL is the device property ``controller_url``; ``--register
DEVICE`` adds the server and device to the database of TANGO_HOST first (what ``dranspose run`` does
when TANGO_HOST is set). Without a database (``-nodb``), give the URL before the Tango arguments or
in the environment:

    dranspose_device.py --controller-url http://127.0.0.1:5000 demo -nodb -dlist b303a/dranspose/demo \\
        -ORBendPoint giop:tcp:127.0.0.1:45450

With DRANSPOSE_TOKEN in the environment every request carries ``Authorization: Bearer <token>``.

A binary parameter is a DevString attribute taking a file path on THIS host: the bridge reads the
file and sends its bytes (the controller never opens a path); it reads back as that path while the
controller holds those bytes. Live results (``tango.results``) may be images, and read with quality
ATTR_INVALID when the controller has no value of their shape.
"""
import math
import os
import re
import sys
import threading
import time
import types

import numpy
import requests
import tango
from tango import AttrQuality, AttrWriteType, CmdArgType, DevState
from tango.server import Device, command, device_property, run

SERVER_NAME = "DransposePipeline"
URL_OPTION = "--controller-url"
REGISTER_OPTION = "--register"
URL_ENV = "DRANSPOSE_CONTROLLER_URL"
TOKEN_ENV = "DRANSPOSE_TOKEN"
#: marks a binary parameter in the attribute info's extensions
BINARY_EXTENSION = "dranspose:binary"
#: the largest file a binary parameter takes
MAX_FILE_BYTES = 64 * 2**20
POLL_S = 0.25
# new pipeline parameters appear when workers register; look for them this often
ATTRIBUTE_LIST_S = 2.0
READ_TIMEOUT_S = 3.0
# writes and commands wait for the controller (SetSequence waits until the components adopted the scan)
CALL_TIMEOUT_S = 30.0
# the REST path needs a Tango host; the controller serves its one device under any
REST_HOST = "localhost;port=10000"
# attributes every Tango device has already
BUILT_IN = {"state", "status"}
BUILT_IN_COMMANDS = {"state", "status", "init"}

TYPES = {
    "DevState": CmdArgType.DevState,
    "DevString": CmdArgType.DevString,
    "DevLong64": CmdArgType.DevLong64,
    "DevLong": CmdArgType.DevLong,
    "DevDouble": CmdArgType.DevDouble,
    "DevBoolean": CmdArgType.DevBoolean,
    "DevVoid": CmdArgType.DevVoid,
}
UNREACHABLE = "DRANSPOSE_ControllerUnreachable"


def bridge_options(argv):
    """Takes ``--controller-url URL`` and ``--register DEVICE`` off the front of argv; returns ({option: value}, the rest for Tango)."""
    options, rest = {}, list(argv[1:])
    while len(rest) > 1 and rest[0] in (URL_OPTION, REGISTER_OPTION):
        options[rest[0]] = rest[1]
        rest = rest[2:]
    return options, [argv[0]] + rest


def register(device, instance, url):
    """Adds DransposePipeline/<instance> with ``device`` to the database of TANGO_HOST, and its controller_url."""
    database = tango.Database()
    info = tango.DbDevInfo()
    info.name, info._class, info.server = device, SERVER_NAME, f"{SERVER_NAME}/{instance}"
    database.add_device(info)
    if url:
        database.put_device_property(device, {"controller_url": [url]})


class ControllerUnreachable(Exception):
    pass


def dev_error(reason, desc, origin):
    error = tango.DevError()
    error.reason, error.desc, error.origin, error.severity = reason, desc, origin, tango.ErrSeverity.ERR
    return error


def failure(errors, origin):
    """The REST error list (`description`, or `desc` in some examples of the spec) as a DevFailed."""
    return tango.DevFailed(*[dev_error(
        str(e.get("reason", "DRANSPOSE_Error")),
        str(e.get("description", e.get("desc", "the controller refused the request"))),
        str(e.get("origin", origin)),
    ) for e in errors or [{}]])


class DeviceModel:
    """HTTP access to the device model of one controller; one instance per thread (sessions are not shared)."""

    def __init__(self, url, device):
        self.base = f"{url.rstrip('/')}/tango/rest/v11/hosts/{REST_HOST}/devices/{device}"
        self.session = requests.Session()
        token = os.environ.get(TOKEN_ENV)
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, timeout, **kwargs):
        try:
            response = self.session.request(method, f"{self.base}/{path}", timeout=timeout, **kwargs)
        except requests.Timeout:
            raise ControllerUnreachable(f"no answer within {timeout} s") from None
        except requests.RequestException as error:
            # the innermost reason ("Connection refused"), without object addresses that change every try
            errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
            raise ControllerUnreachable(errno.group(1) if errno else type(error).__name__) from None
        try:
            body = response.json() if response.content else None
        except ValueError:
            raise ControllerUnreachable(f"{method} {path}: HTTP {response.status_code}, not JSON") from None
        if response.status_code >= 400:
            if isinstance(body, dict) and "errors" in body:
                raise failure(body["errors"], path)
            if response.status_code == 401:
                detail = body.get("detail", "") if isinstance(body, dict) else ""
                raise failure([{"reason": "DRANSPOSE_Unauthorized", "description": f"the controller wants a token ({TOKEN_ENV}): {detail}"}], path)
            raise ControllerUnreachable(f"{method} {path}: HTTP {response.status_code}")
        return body


def tango_value(info, value):
    """A JSON value as PyTango takes it for this attribute."""
    kind = info["data_type"]
    if kind == "DevState":
        return DevState.names[value]
    if info["data_format"] == "IMAGE":
        data = [math.nan if v is None else v for v in value["data"]]
        return numpy.array(data, dtype=float if kind == "DevDouble" else None).reshape(value["height"], value["width"])
    if kind == "DevDouble":
        # JSON has no NaN: the controller sends null for it
        if info["data_format"] == "SPECTRUM":
            return [math.nan if v is None else v for v in value]
        return math.nan if value is None else value
    return value


def invalid_value(info):
    """What an ATTR_INVALID value is pushed with (Tango sends no value with that quality)."""
    if info["data_format"] == "IMAGE":
        return numpy.zeros((0, 0))
    if info["data_format"] == "SPECTRUM":
        return []
    return {"DevDouble": math.nan, "DevBoolean": False, "DevString": ""}.get(info["data_type"], 0)


def is_binary(info):
    return BINARY_EXTENSION in (info.get("extensions") or [])


def read_file(path):
    """The bytes of a file on this host, for a binary parameter."""
    if not os.path.isabs(path):
        raise ValueError(f"expected an absolute file path, got {path!r}")
    with open(path, "rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    return data


def write_text(value):
    """A written value as the REST `v` text (Tango booleans as true/false, floats in full precision)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


class DransposePipeline(Device):
    """Mirror of a dranspose pipeline's Tango device model (served by its controller)."""

    controller_url = device_property(dtype=str, default_value="", doc="URL of the dranspose controller, e.g. http://host:5000")

    def init_device(self):
        super().init_device()
        url = self.controller_url or OPTIONS.get(URL_OPTION) or os.environ.get(URL_ENV, "")
        self._url = url
        self._infos = {}
        self._values = {}
        # the JSON value and quality each cached value came from, to see changes
        self._raw = {}
        self._failures = {}
        # binary parameters written here: (the path, the value the controller answered with)
        self._uploaded = {}
        # mirrored commands by lower-case name: the name served, or None for one left out
        self._commands = {}
        self._written_at = {}
        self._outage = None
        self._stop = threading.Event()
        self.set_change_event("State", True, False)
        self.set_change_event("Status", True, False)
        if not url:
            self.set_state(DevState.FAULT)
            self.set_status(f"no controller URL: set the device property controller_url, {URL_OPTION} or {URL_ENV}")
            return
        self._calls = DeviceModel(url, self.get_name())
        self.set_state(DevState.INIT)
        self.set_status(f"connecting to the dranspose controller at {url}")
        threading.Thread(target=self._poll, args=(self._stop,), name="dranspose-poll", daemon=True).start()

    def delete_device(self):
        """Stops polling and drops the mirrored commands. Attributes stay (removing them in Init crashes
        PyTango 9.3.6); adding one again is a no-op, so an attribute keeps its type until a restart."""
        self._stop.set()
        for name in filter(None, self._commands.values()):
            self.remove_command(name)
            delattr(self, name)

    # ---- the poll thread -------------------------------------------------------------------

    def _poll(self, stop):
        """Runs until `stop` is set; checks it under the monitor, as Init may have replaced the device's state meanwhile."""
        model = DeviceModel(self._url, self.get_name())
        listed_at = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - listed_at > ATTRIBUTE_LIST_S:
                    self._adopt_model(stop, model.call("GET", "attributes", READ_TIMEOUT_S), model.call("GET", "commands", READ_TIMEOUT_S))
                    listed_at = time.monotonic()
                names = list(self._infos)
                asked_at = time.monotonic()
                readings = model.call("GET", "attributes/value", READ_TIMEOUT_S, params=[("attr", n) for n in names])
                with tango.AutoTangoMonitor(self):
                    if stop.is_set():
                        return
                    self._outage = None
                    for name, reading in zip(names, readings):
                        # a write that finished after this read was asked for has the newer value
                        if self._written_at.get(name, 0.0) < asked_at:
                            self._apply(name, reading)
            except ControllerUnreachable as error:
                listed_at = 0.0
                self._lost(stop, f"the dranspose controller at {self._url} does not answer: {error}")
            except tango.DevFailed as error:
                self._lost(stop, f"the dranspose controller at {self._url} refused to list the device: {error.args[0].desc}")
            except Exception as error:  # a bug here must not end polling for good
                self._lost(stop, f"the Tango bridge failed: {type(error).__name__}: {error}")
            stop.wait(POLL_S)

    def _adopt_model(self, stop, attributes, commands):
        """Adds the attributes and commands the model has and this device does not have yet."""
        with tango.AutoTangoMonitor(self):
            if stop.is_set():
                return
            for entry in attributes:
                info = entry["info"]
                key = info["name"].lower()
                if key not in self._infos:
                    if key not in BUILT_IN:
                        self._mirror_attribute(info)
                    self._infos[key] = info
            for entry in commands:
                name = entry["name"]
                if name.lower() in BUILT_IN_COMMANDS or name.lower() in self._commands:
                    continue
                if hasattr(self, name):
                    self.warn_stream(f"command {name} would hide a method of the device; not served")
                    self._commands[name.lower()] = None
                else:
                    self._mirror_command(name, entry["info"])
                    self._commands[name.lower()] = name

    def _mirror_attribute(self, info):
        kind = TYPES[info["data_type"]]
        writable = AttrWriteType.READ_WRITE if info["writable"] == "READ_WRITE" else AttrWriteType.READ
        if info["data_format"] == "SPECTRUM":
            attr = tango.SpectrumAttr(info["name"], kind, writable, int(info["max_dim_x"]))
        elif info["data_format"] == "IMAGE":
            attr = tango.ImageAttr(info["name"], kind, writable, int(info["max_dim_x"]), int(info["max_dim_y"]))
        else:
            attr = tango.Attr(info["name"], kind, writable)
        props = tango.UserDefaultAttrProp()
        props.set_label(info.get("label") or info["name"])
        props.set_description(info.get("description") or "")
        if info.get("unit"):
            props.set_unit(info["unit"])
        for key, setter in (("format", props.set_format), ("min_value", props.set_min_value), ("max_value", props.set_max_value)):
            if info.get(key) not in (None, "", "Not specified"):
                setter(str(info[key]))
        attr.set_default_properties(props)
        self.add_attribute(attr, self._read, self._write if writable == AttrWriteType.READ_WRITE else None)
        self.set_change_event(info["name"], True, False)

    def _mirror_command(self, name, info):
        in_type, out_type = TYPES[info["in_type"]], TYPES[info["out_type"]]
        takes_input = in_type != CmdArgType.DevVoid

        def forward(device, *argin):
            return device._command(name, argin[0] if takes_input else None, takes_input)

        forward.__name__ = name
        setattr(self, name, types.MethodType(forward, self))
        self.add_command(command(
            f=forward, dtype_in=in_type if takes_input else None, dtype_out=out_type if out_type != CmdArgType.DevVoid else None,
            doc_in=info.get("in_type_desc", ""), doc_out=info.get("out_type_desc", ""),
        ))

    def _apply(self, key, reading):
        """Caches one value from the controller and pushes an event if it changed (monitor held)."""
        info = self._infos[key]
        name = info["name"]
        if "errors" in reading:
            if self._failures.get(key) != reading["errors"]:
                self._failures[key] = reading["errors"]
                self._values.pop(key, None)
                if key not in BUILT_IN:
                    self.push_change_event(name, failure(reading["errors"], name))
            return
        self._failures.pop(key, None)
        raw = (reading["value"], reading.get("quality", "ATTR_VALID"))
        if key in self._raw and same(self._raw[key][0], raw[0]) and self._raw[key][1] == raw[1]:
            return
        self._raw[key] = raw
        if raw[1] == "ATTR_INVALID":
            self._values[key] = None
            self.push_change_event(name, invalid_value(info), time.time(), AttrQuality.ATTR_INVALID)
            return
        value = tango_value(info, reading["value"])
        uploaded = self._uploaded.get(key)
        if uploaded and uploaded[1] == value:
            value = uploaded[0]  # the bytes sent from that file: show its path
        self._values[key] = value
        if key == "state":
            self.set_state(value)
        elif key == "status":
            self.set_status(value)
        self.push_change_event(name, value)

    def _lost(self, stop, status):
        """No values from the controller: FAULT with the reason as Status, stale values dropped, subscribers told."""
        with tango.AutoTangoMonitor(self):
            if stop.is_set() or self._outage == status:
                return
            first = self._outage is None
            self._outage = status
            self._values.clear()
            self._raw.clear()
            self.set_state(DevState.FAULT)
            self.set_status(status)
            self.push_change_event("State", DevState.FAULT)
            self.push_change_event("Status", status)
            if first:
                self.error_stream(status)
                for key, info in self._infos.items():
                    if key not in BUILT_IN:
                        self.push_change_event(info["name"], self._outage_error())

    def _outage_error(self):
        return tango.DevFailed(dev_error(UNREACHABLE, self._outage, self.get_name()))

    # ---- client requests (never wait for the controller on a read) ----------------------------

    def _read(self, attr):
        key = attr.get_name().lower()
        if self._outage is not None:
            raise self._outage_error()
        if key in self._failures:
            raise failure(self._failures[key], attr.get_name())
        if key not in self._values:
            tango.Except.throw_exception("DRANSPOSE_NoValueYet", f"{attr.get_name()} has not been read from the controller yet", self.get_name())
        value = self._values[key]
        if value is None:
            attr.set_quality(AttrQuality.ATTR_INVALID)
            return
        attr.set_value(value)
        if self._infos[key]["writable"] == "READ_WRITE":
            # a write widget shows the set value: keep it at the current one
            self.get_device_attr().get_w_attr_by_name(attr.get_name()).set_write_value(value)

    def _write(self, attr):
        name = attr.get_name()
        key = name.lower()
        value = attr.get_write_value()
        binary = is_binary(self._infos[key])
        try:
            if binary:
                try:
                    data = read_file(value)
                except (OSError, ValueError) as error:
                    tango.Except.throw_exception("DRANSPOSE_FileNotReadable", f"{name}: {error}", self.get_name())
                reading = self._calls.call("PUT", f"attributes/{name}/value", CALL_TIMEOUT_S, data=data,
                                           headers={"Content-Type": "application/octet-stream"})
            else:
                reading = self._calls.call("PUT", f"attributes/{name}/value", CALL_TIMEOUT_S, params={"v": write_text(value)})
        except ControllerUnreachable as error:
            tango.Except.throw_exception(UNREACHABLE, f"writing {name}: {error}", self.get_name())
        if binary:
            self._uploaded[key] = (value, reading.get("value"))
        self._written_at[key] = time.monotonic()
        self._raw.pop(key, None)
        self._apply(key, reading)

    def _command(self, name, argin, takes_input):
        try:
            result = self._calls.call("PUT", f"commands/{name}", CALL_TIMEOUT_S, json={"input": argin} if takes_input else {})
        except ControllerUnreachable as error:
            tango.Except.throw_exception(UNREACHABLE, f"{name}: {error}", self.get_name())
        return result.get("output")


OPTIONS, TANGO_ARGS = bridge_options(sys.argv)


def main():
    if REGISTER_OPTION in OPTIONS:
        register(OPTIONS[REGISTER_OPTION], TANGO_ARGS[1], OPTIONS.get(URL_OPTION))
    # the server is DransposePipeline/<instance> whatever this file is called
    run((DransposePipeline,), args=[SERVER_NAME] + TANGO_ARGS[1:])


if __name__ == "__main__":
    main()
