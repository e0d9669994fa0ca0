"""python -m servers start|stop synapse|dendrite [DIR [PORT]]: a throwaway homeserver that keeps
running (Synapse on 127.0.0.1:8008, Dendrite on :8009, unless PORT) with its folder, inventory
included, in DIR (default .local/<implementation>). Run with tests/ on PYTHONPATH, as
`just local-start` does."""

import sys
from pathlib import Path

from . import Dendrite, ServerError, Synapse

SERVERS = {"synapse": (Synapse, 8008), "dendrite": (Dendrite, 8009)}


def main(argv):
    if len(argv) not in (2, 3, 4) or argv[0] not in ("start", "stop") or argv[1] not in SERVERS:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    kind, port = SERVERS[argv[1]]
    if len(argv) == 4:
        if not argv[3].isdigit():
            print(f"PORT must be a number, not {argv[3]!r}", file=sys.stderr)
            return 2
        port = int(argv[3])
    directory = Path(argv[2] if len(argv) >= 3 else f".local/{argv[1]}")
    server = kind(directory, port=port)
    if argv[0] == "stop":
        server.stop_daemon()
        return 0
    state = server.daemon()
    try:
        if state:
            server = kind(directory, port=state["port"], server_name=state["server_name"])
            server.provision()
            server.write_inventory()
        else:
            with server:
                server.detach(port=server.port, server_name=server.server_name)
    except ServerError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{server.name} runs on {server.url}; inventory: {server.inventory}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
