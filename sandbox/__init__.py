"""Local HTTP emulator of the Acuity Scheduling API v1, with deterministic accounts and known ground truth."""

from sandbox.account import Account
from sandbox.generator import build_account
from sandbox.readings import Readings
from sandbox.server import Fault, SandboxServer
from sandbox.shapes import Shapes

__all__ = ["Account", "Fault", "Readings", "SandboxServer", "Shapes", "build_account"]
