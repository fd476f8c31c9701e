"""Read and write ``livehub-instance/1`` and ``livehub-plan/1`` (see the exchange-format spec).

Reading checks structure, types and references and raises :class:`FormatError` with one line
that names the offending item (``slots[12] (SL000013): unknown studio 'B001-S9'``). Whether a
plan or the instance's own bookings obey the hard rules is ``validate.py``'s business.

* ``fields.py``  — :class:`FormatError`, reading a JSON file, typed field readers with clear errors
* ``read.py``    — ``load_instance``, ``load_plan``: documents into ``scheduler.domain`` objects
* ``write.py``   — ``dump_instance``, ``dump_plan``, ``write_json``: back into documents, atomically

Optional fields (a participant's ``category`` and ``prime_recent``, a request's ``harvest``, the
policy's ``category_separation``) stay absent on a round trip when they were absent.
"""

from scheduler.io.fields import FormatError, Source, read_json
from scheduler.io.read import load_instance, load_plan
from scheduler.io.write import dump_instance, dump_plan, write_json

__all__ = [
    "FormatError",
    "Source",
    "dump_instance",
    "dump_plan",
    "load_instance",
    "load_plan",
    "read_json",
    "write_json",
]
