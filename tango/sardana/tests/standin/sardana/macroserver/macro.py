"""What a hook macro sees of Sardana: its parent scan, the Door environment, and the output calls."""


class UnknownEnv(Exception):
    """Raised by getEnv for a variable that is not set, as Sardana's msexception.UnknownEnv."""


class Type:
    String = 'String'


class Macro:
    """A hook macro instance: built with its parent scan and the Door environment; keeps what it printed."""

    param_def = []

    def __init__(self, parent=None, env=None):
        self._parent_macro = parent
        self._env = dict(env or {})
        self.printed = []

    def getParentMacro(self):
        return self._parent_macro

    def getEnv(self, name):
        if name not in self._env:
            raise UnknownEnv('Unknown environment %s' % name)
        return self._env[name]

    def output(self, message):
        self.printed.append(('output', message))

    def warning(self, message):
        self.printed.append(('warning', message))


class ScanMacro:
    """A parent scan: ``_name`` (the macro's name, set by the MacroServer) and the attributes Sardana's
    scan macros set (``nb_points``, ``name``, …)."""

    def __init__(self, macro_name, **attributes):
        self._name = macro_name
        self.__dict__.update(attributes)
