"""Classes that cannot run, each in its own way."""


class NoProcessEvent:
    def __init__(self, **kwargs):
        pass


class FailsInInit:
    def __init__(self, **kwargs):
        raise RuntimeError("no detector calibration")

    def process_event(self, event, parameters, tick=False):
        return 1
