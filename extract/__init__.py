"""The dlt source for Acuity Scheduling API v1 and the sync of one account; imports nothing else of this project.

What other packages may use is re-exported here; ``extract.errors`` and the other modules are the package's own.
"""

from extract.errors import AcuityError

__all__ = ["AcuityError"]
