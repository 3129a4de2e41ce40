import a_module_that_does_not_exist  # noqa: F401


class Worker:
    def process_event(self, event, parameters, tick=False):
        return None
