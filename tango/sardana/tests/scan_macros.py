"""Parent scans with the attributes Sardana 3's scan macros set in ``prepare`` (macros/scan.py), for the
hook: ``nb_points``, ``nr_interv``/``nr_intervs``, ``integ_time``, ``name`` and the GScan object (``_gScan``)
each macro makes, numpy values where Sardana has them. ``scan_macro(kind, ...)`` builds one."""
import numpy

from sardana.macroserver.macro import ScanMacro


class SScan:
    """Sardana's step scan generator object"""


class CTScan:
    """continuous scan, hardware-timed (ascanct, meshct)"""


class TScan:
    """time scan"""


def _anscan(name, n_motors, nr_interv, integ_time, gscan=SScan, **extra):
    return dict(name=name, motors=['mot%02d' % (i + 1) for i in range(n_motors)], starts=numpy.zeros(n_motors),
                finals=numpy.ones(n_motors), nr_interv=nr_interv, nb_points=nr_interv + 1, integ_time=integ_time,
                _gScan=gscan(), **extra)


def _mesh(name, m1_nr_interv, m2_nr_interv, integ_time):
    return dict(name=name, motors=['mot01', 'mot02'], starts=numpy.zeros(2), finals=numpy.ones(2),
                nr_intervs=numpy.array([m1_nr_interv, m2_nr_interv], dtype='i'),
                nb_points=(m1_nr_interv + 1) * (m2_nr_interv + 1), integ_time=integ_time, bidirectional_mode=False, _gScan=SScan())


MACROS = {
    # ascan mot01 0 1 <nr_interv> <integ_time>
    'ascan': lambda nr_interv, integ_time: _anscan('a1scan', 1, nr_interv, integ_time),
    'a2scan': lambda nr_interv, integ_time: _anscan('a2scan', 2, nr_interv, integ_time),
    # dNscan passes the positions made absolute to aNscan._prepare
    'dscan': lambda nr_interv, integ_time: _anscan('a1scan', 1, nr_interv, integ_time, originalPositions=numpy.array([0.5])),
    'ascanct': lambda nr_interv, integ_time: _anscan('a1scanct', 1, nr_interv, integ_time, CTScan, latency_time=0.0,
                                                     waypoints=[numpy.ones(1)], nr_waypoints=1),
    'mesh': lambda m1, m2, integ_time: _mesh('mesh', m1, m2, integ_time),
    'dmesh': lambda m1, m2, integ_time: dict(_mesh('mesh', m1, m2, integ_time), originalPositions=numpy.array([0.5, 0.5])),
    # meshct: nb_points is the points of one line of the continuously moving first motor
    'meshct': lambda m1, m2, integ_time: dict(
        name='meshct', motors=['mot01', 'mot02'], starts=numpy.zeros(2), finals=numpy.ones(2),
        nr_intervs=numpy.array([m1, m2], dtype='i'), nr_interv=m1, nb_points=m1 + 1, integ_time=integ_time,
        bidirectional_mode=False, latency_time=0.0, waypoints=[numpy.ones(2)] * (m2 + 1), _gScan=CTScan()),
    'timescan': lambda nr_interv, integ_time: dict(nr_interv=nr_interv, nb_points=nr_interv + 1, integ_time=integ_time,
                                                   latency_time=0.0, _gScan=TScan()),
}


def scan_macro(kind, *args):
    """The parent scan of macro ``kind`` run with ``args`` (its numeric parameters)."""
    return ScanMacro(kind, **MACROS[kind](*args))
