"""Throwaway servers for the tests, the benchmarks and the demo, each a context manager that
starts its process on 127.0.0.1 and stops it by its handle: Synapse, Dendrite, PostgreSQL and
sshd (the MAS stand-in is tests/mas_standin.py). `python -m servers` keeps a homeserver running
as a daemon for the demo."""

from .base import ServerError, free_port
from .homeserver import Dendrite, Homeserver, Synapse
from .postgres import Postgres
from .sshd import Sshd

__all__ = ["Dendrite", "Homeserver", "Postgres", "ServerError", "Sshd", "Synapse", "free_port"]
