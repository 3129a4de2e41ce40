"""A measurement group stand-in: a PyTango device whose Configuration attribute is the JSON text in
$MEASUREMENT_GROUP_CONFIGURATION. Run: measurement_group.py test -nodb -dlist test/mntgrp/1 -ORBendPoint giop:tcp:127.0.0.1:PORT"""
import os

from tango.server import Device, attribute, run


class MeasurementGroup(Device):
    @attribute(dtype=str)
    def Configuration(self):
        return os.environ['MEASUREMENT_GROUP_CONFIGURATION']


if __name__ == '__main__':
    run((MeasurementGroup,))
