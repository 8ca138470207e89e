"""How the parties of a job exchange messages: a broker in the server, a client per party.

Components see ``Federation`` (``remote`` and ``get``); values cross as ``codec`` writes them.
"""

from __future__ import annotations

from fate_nb.federation.codec import CodecError, IntArray
from fate_nb.federation.party import Federation, FederationError, FederationTimeout

__all__ = ["CodecError", "Federation", "FederationError", "FederationTimeout", "IntArray"]
